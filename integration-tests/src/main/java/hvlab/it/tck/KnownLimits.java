package hvlab.it.tck;

import hvlab.guests.LabGuests;
import hvlab.spi.VirtualizationLimit;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static hvlab.spi.VirtualizationLimit.*;

/**
 * Which declared {@link VirtualizationLimit}s explain a lab guest's deviation from native: each check of the lab
 * guests names the instructions or features it exercises, and a run deviates only through declared limits when every
 * check it fails (and native passes) exercises one, any checks it never reached follow a stop at a declared limit,
 * and everything else it printed is native's.
 */
final class KnownLimits {
    /** Check-name patterns (without the ring0_/ring3_ prefix) and what they exercise. */
    private static final Map<Pattern, Set<VirtualizationLimit>> EXERCISED = new LinkedHashMap<>();

    static {
        exercised("sgdt_sidt", SGDT, SIDT);
        exercised("smsw_str", SMSW, STR);
        exercised("sgdt", SGDT);
        exercised("sidt", SIDT);
        exercised("sldt", SLDT);
        exercised("str", STR);
        exercised("smsw", SMSW);
        exercised("pushf_if_iopl", PUSHF);
        exercised("popf_if_iopl(_unchanged)?", POPF);
        exercised("mov_cs_rpl", MOV_SEGMENT_REGISTER);
        exercised("push_cs_rpl", PUSH_SEGMENT_REGISTER);
        exercised("lar(_privilege)?", LAR);
        exercised("lsl", LSL);
        exercised("verr_verw", VERR, VERW);
        exercised("gp_selector_ss_.*", MOV_SEGMENT_REGISTER);
        exercised("callgate_.*", CALL_FAR, RET_FAR);
        exercised("int3?_dpl0_gate_gp", INT_N);
        exercised("interrupt_tss_stack_and_iret", INT_N, IRET);
        exercised("task_.*|df_through_task_gate", HARDWARE_TASK_SWITCH);
        exercised("v86_.*", VIRTUAL_8086_MODE);
        exercised("wp0_.*", RING_COMPRESSION);
        exercised("pit_.*", INTERRUPT_HARDWARE);
        exercised("top64m_linear_maps_own_ram|last_linear_dword_maps_own_ram", MONITOR_ADDRESS_SPACE);
    }

    private static final Pattern RING = Pattern.compile("^ring[03]_");
    private static final Pattern SUMMARY = Pattern.compile("^(\\S+: \\d+ passed, \\d+ failed|lab: done status=.*)$");

    private KnownLimits() {
    }

    private static void exercised(String checks, VirtualizationLimit first, VirtualizationLimit... rest) {
        EXERCISED.put(Pattern.compile(checks), EnumSet.of(first, rest));
    }

    /** What a check exercises (empty for a check no limit can excuse, such as an arithmetic or paging check). */
    static Set<VirtualizationLimit> exercisedBy(String check) {
        String name = RING.matcher(check).replaceFirst("");
        for (Map.Entry<Pattern, Set<VirtualizationLimit>> entry : EXERCISED.entrySet()) {
            if (entry.getKey().matcher(name).matches()) {
                return entry.getValue();
            }
        }
        return Set.of();
    }

    /**
     * How the run deviates from native through declared limits only, e.g. {@code fails lar, sgdt_sidt (LAR, SGDT,
     * SIDT)}; empty when some deviation is not explained by them (then it is a failure).
     */
    static Optional<String> explanation(GuestRun run, GuestRun reference, Set<VirtualizationLimit> declared) {
        if (declared.isEmpty() || reference.exitValue() != LabGuests.EXIT_SUCCESS) {
            return Optional.empty();
        }
        Map<String, Boolean> expected = verdicts(reference), got = verdicts(run);
        Set<VirtualizationLimit> used = EnumSet.noneOf(VirtualizationLimit.class);
        List<String> failing = new ArrayList<>();
        boolean unreached = false;
        for (Map.Entry<String, Boolean> check : expected.entrySet()) {
            Boolean verdict = got.get(check.getKey());
            if (verdict == null) {
                unreached = true;
            } else if (check.getValue() && !verdict) {
                Set<VirtualizationLimit> excuses = EnumSet.noneOf(VirtualizationLimit.class);
                excuses.addAll(exercisedBy(check.getKey()));
                excuses.retainAll(declared);
                if (excuses.isEmpty()) {
                    return Optional.empty();
                }
                used.addAll(excuses);
                failing.add(check.getKey());
            } else if (check.getValue() != verdict) {
                return Optional.empty();
            }
        }
        Optional<VirtualizationLimit> stop = run.limitReached().filter(declared::contains);
        if (unreached || stop.isPresent()) {
            if (stop.isEmpty() || !otherLinesStartNatives(run, reference)) {
                return Optional.empty();
            }
            used.add(stop.get());
        } else if (!otherLines(run).equals(otherLines(reference))
                || run.exitValue() != (failing.isEmpty() ? reference.exitValue() : LabGuests.EXIT_FAILURE)) {
            return Optional.empty();
        }
        if (used.isEmpty()) {
            return Optional.empty();
        }
        String fails = failing.isEmpty() ? "" : "fails " + String.join(", ", failing);
        String stops = stop.map(limit -> (fails.isEmpty() ? "" : ", ") + "stops at " + limit).orElse("");
        return Optional.of(fails + stops + " " + used);
    }

    /** Each PASS/FAIL check line's verdict, by check name, in output order. */
    private static Map<String, Boolean> verdicts(GuestRun run) {
        Map<String, Boolean> verdicts = new LinkedHashMap<>();
        for (String line : run.console().lines().toList()) {
            if (line.startsWith("PASS ") || line.startsWith("FAIL ")) {
                String name = line.substring(5).split(" ", 2)[0];
                verdicts.put(name, line.startsWith("PASS "));
            }
        }
        return verdicts;
    }

    /** What a run printed besides its checks and summaries, time-dependent numbers masked. */
    private static List<String> otherLines(GuestRun run) {
        return LabGuests.maskTimeDependent(run.console()).lines()
                .filter(l -> !l.startsWith("PASS ") && !l.startsWith("FAIL ") && !SUMMARY.matcher(l).matches())
                .collect(Collectors.toList());
    }

    private static boolean otherLinesStartNatives(GuestRun run, GuestRun reference) {
        List<String> mine = otherLines(run), natives = otherLines(reference);
        return mine.size() <= natives.size() && natives.subList(0, mine.size()).equals(mine);
    }
}

package hvlab.it.tck;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.cpu.Exceptions;
import hvlab.hw.stats.Counters;
import hvlab.it.tck.RuleResult.Verdict;
import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.GuestImage;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.MachineDescription;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The conformance suite: runs every {@link ConformanceRule} against one hypervisor provider on the lab guests, with
 * the same guest on the bare machine ({@code native}) as the reference. Rules the provider's capabilities exclude
 * are skipped, saying which capability is missing. Each guest runs at most twice under the provider (the second run
 * only for determinism), whatever the number of rules.
 */
public final class ConformanceSuite {
    /** Native runs are deterministic, so one per guest serves every provider verified in this JVM. */
    private static final Map<String, GuestRun> NATIVE_RUNS = new ConcurrentHashMap<>();

    /** lab:selftest checks a rule reads, by rule. */
    private static final List<String> SENSITIVE_UNPRIVILEGED_CHECKS = List.of("sgdt_sidt", "smsw_str",
            "ring3_popf_if_iopl_unchanged", "ring3_lar_privilege");
    private static final List<String> USER_MODE_PRIVILEGED_CHECKS = List.of("ring3_cli_gp0", "ring3_hlt_gp0",
            "ring3_mov_cr3_gp0", "ring3_lgdt_gp0", "ring3_wbinvd_gp0", "ring3_in_iopl0_gp0", "ring3_out_iopl0_gp0");

    /** The hostile lab guest each resource-control rule runs: it asserts the architectural facts itself. */
    private static final Map<ConformanceRule, String> HOSTILE_GUESTS = Map.of(
            ConformanceRule.REQUIRED_RESOURCE_CONTROL_002_MEMORY_OUTSIDE_DOMAIN, "wildmem",
            ConformanceRule.REQUIRED_RESOURCE_CONTROL_003_HYPERVISOR_MEMORY, "hvmem",
            ConformanceRule.REQUIRED_RESOURCE_CONTROL_004_HOST_INTERRUPTS_UNMASKABLE, "clispin",
            ConformanceRule.REQUIRED_RESOURCE_CONTROL_005_SENSITIVE_UNPRIVILEGED_ESCAPE, "robin-irvine");

    /** The sensitive operation each nanobenchmark repeats, as the hardware counts it on native. */
    private static final Map<String, SensitiveOperation> NANOBENCHMARK_OPERATIONS = Map.of(
            "syscall", new SensitiveOperation(Counters.INTERRUPTS, "software 0x80"),
            "in", new SensitiveOperation(Counters.IO, "port accesses"),
            "pgfault", new SensitiveOperation(Counters.EXCEPTIONS, Exceptions.name(Exceptions.PF)),
            "divzero", new SensitiveOperation(Counters.EXCEPTIONS, Exceptions.name(Exceptions.DE)),
            "ptemod", new SensitiveOperation(Counters.TLB, "page invalidations"));

    private final List<LabGuest> guests;
    private static final java.util.regex.Pattern VIOLATION_GUEST = java.util.regex.Pattern.compile("lab:([a-z0-9-]+): ");

    private ConformanceSuite(List<LabGuest> guests) {
        this.guests = List.copyOf(guests);
    }

    /** The suite over every lab guest. */
    public static ConformanceSuite overAllLabGuests() {
        return new ConformanceSuite(LabGuests.all());
    }

    /** The suite over some lab guests (a quicker run; rules that need a missing guest say so and skip). */
    public static ConformanceSuite over(List<LabGuest> guests) {
        return new ConformanceSuite(guests);
    }

    /** Every provider {@link ServiceLoader} finds on the module and class path. */
    public static List<HypervisorProvider> installedProviders() {
        return ServiceLoader.load(HypervisorProvider.class).stream().map(ServiceLoader.Provider::get).toList();
    }

    /** The installed provider with this id, as JUnit's {@code EngineTestKit.engine(id)} finds an engine. */
    public static Optional<HypervisorProvider> installedProvider(String id) {
        return installedProviders().stream().filter(p -> p.id().equals(id)).findFirst();
    }

    /** Runs every rule against the provider, in catalogue order. */
    public List<RuleResult> verify(HypervisorProvider provider) {
        Verification verification = verification(provider);
        return EnumSet.allOf(ConformanceRule.class).stream().map(verification::check).toList();
    }

    /** A verification of one provider whose rules run one by one, sharing the guest runs. */
    public Verification verification(HypervisorProvider provider) {
        return new Verification(provider);
    }

    /** One provider under verification: runs each guest under it lazily and keeps the runs for every rule. */
    public final class Verification {
        private final HypervisorProvider provider;
        private final String providerId;
        /** The provider takes the PV ports of the lab guests in place of the unmodified lab kernel. */
        private final boolean paravirtualized;
        private final Map<String, GuestRun> firstRuns = new HashMap<>();
        private final Map<String, GuestRun> secondRuns = new HashMap<>();

        private Verification(HypervisorProvider provider) {
            this.provider = provider;
            this.providerId = provider.id();
            Set<Capability> capabilities = provider.capabilities();
            this.paravirtualized = !capabilities.contains(Capability.UNMODIFIED_GUESTS)
                    && capabilities.contains(Capability.PARAVIRTUALIZED_GUESTS);
        }

        public String providerId() {
            return providerId;
        }

        /** The rule's verdict; whatever the provider throws is a FAIL naming it. */
        public RuleResult check(ConformanceRule rule) {
            Optional<String> skipped = whySkipped(rule);
            if (skipped.isPresent()) {
                return new RuleResult(providerId, rule, Verdict.SKIP, skipped.get());
            }
            try {
                List<String> violations = violations(rule);
                String hostile = HOSTILE_GUESTS.get(rule);
                if (violations.isEmpty()) {
                    return new RuleResult(providerId, rule, Verdict.PASS, hostile != null ? "lab:" + hostile
                            + " as on native" : rule.needs().contains(Capability.MULTIPLE_DOMAINS)
                            ? "each domain as alone" : guests.size() + " lab guests");
                }
                return rule.excusableByDeclaredLimits() ? judgeWithDeclaredLimits(rule, violations)
                        : new RuleResult(providerId, rule, Verdict.FAIL, String.join("; ", violations));
            } catch (Exception | LinkageError thrown) {
                return new RuleResult(providerId, rule, Verdict.FAIL, "the provider threw " + thrown);
            }
        }

        /**
         * KNOWN_LIMIT when every guest's deviation is explained by the provider's declared limits (Popek &amp;
         * Goldberg's holes it leaves open, features it leaves out), else FAIL with the unexplained violations.
         */
        private RuleResult judgeWithDeclaredLimits(ConformanceRule rule, List<String> violations) throws Exception {
            List<String> unexplained = new ArrayList<>();
            Map<String, String> explained = new LinkedHashMap<>();
            for (String violation : violations) {
                java.util.regex.Matcher guest = VIOLATION_GUEST.matcher(violation);
                Optional<String> why = guest.lookingAt() ? explanation(guest.group(1)) : Optional.empty();
                if (why.isPresent()) {
                    explained.put(guest.group(1), "lab:" + guest.group(1) + " " + why.get());
                } else {
                    unexplained.add(violation);
                }
            }
            String known = String.join("; ", explained.values());
            if (unexplained.isEmpty()) {
                return new RuleResult(providerId, rule, Verdict.KNOWN_LIMIT, "declared limits: " + known);
            }
            return new RuleResult(providerId, rule, Verdict.FAIL, String.join("; ", unexplained)
                    + (known.isEmpty() ? "" : "; besides declared limits: " + known));
        }

        private Optional<String> explanation(String guestName) throws Exception {
            Optional<LabGuest> guest = LabGuests.find(guestName);
            if (guest.isEmpty()) {
                return Optional.empty();
            }
            if (unported(guest.get())) {
                return ParavirtualPorts.whyNot(guest.get()).filter(no -> provider.knownLimits().contains(no.limit()))
                        .map(no -> "has no paravirtual port: it " + no.why() + " [" + no.limit() + "]");
            }
            return KnownLimits.explanation(firstRun(guest.get()), nativeRun(guest.get()), provider.knownLimits());
        }

        private Optional<String> whySkipped(ConformanceRule rule) {
            if (!rule.required()) {
                return Optional.of(rule.statement());
            }
            Set<Capability> missing = EnumSet.noneOf(Capability.class);
            missing.addAll(rule.needs());
            missing.removeAll(provider.capabilities());
            if (paravirtualized && rule.runsOnParavirtualPorts()) {
                missing.remove(Capability.UNMODIFIED_GUESTS); // the PV ports stand in for the unmodified guests
            }
            if (!missing.isEmpty()) {
                return Optional.of("excluded by capabilities: the provider does not declare " + missing
                        + (paravirtualized ? ", and a paravirtualized port's registers are its own" : ""));
            }
            if (provider.probe(new MachineDescription(GuestRun.MEMORY, 1))
                    instanceof Availability.Unavailable(String reason)) {
                return Optional.of("the provider is unavailable on the suite's machine: " + reason);
            }
            return Optional.empty();
        }

        private List<String> violations(ConformanceRule rule) throws Exception {
            List<String> violations = new ArrayList<>();
            switch (rule) {
                case REQUIRED_EQUIVALENCE_001_CONSOLE_OUTPUT -> forEachGuest(rule, violations,
                        (guest, run, reference) -> firstDifference(LabGuests.maskTimeDependent(reference.console()),
                                LabGuests.maskTimeDependent(run.console())));
                case REQUIRED_EQUIVALENCE_002_EXIT_VALUE ->
                        forEachGuest(rule, violations, (guest, run, reference) -> outcomeDifference(run, reference));
                case REQUIRED_EQUIVALENCE_003_FINAL_GUEST_STATE -> forEachGuest(rule, violations,
                        (guest, run, reference) -> finalStateDifference(run, reference));
                case REQUIRED_EQUIVALENCE_004_SENSITIVE_UNPRIVILEGED_INSTRUCTIONS ->
                        selftestChecksPass(violations, SENSITIVE_UNPRIVILEGED_CHECKS);
                case REQUIRED_RESOURCE_CONTROL_001_USER_MODE_PRIVILEGED_INSTRUCTIONS_TRAP ->
                        selftestChecksPass(violations, USER_MODE_PRIVILEGED_CHECKS);
                case REQUIRED_ACCOUNTING_001_COUNTS_BOUNDED_BY_GUEST_EVENTS ->
                        forEachGuest(rule, violations, (guest, run, reference) -> countsBoundedByGuestEvents(run));
                case REQUIRED_ACCOUNTING_002_SENSITIVE_OPERATIONS_ACCOUNTED ->
                        sensitiveOperationsAccounted(rule, violations);
                case REQUIRED_DETERMINISM_001_TWO_RUNS_BIT_IDENTICAL -> forEachGuest(rule, violations,
                        (guest, run, reference) -> firstDifferenceOfRuns(run, secondRun(guest)));
                case REQUIRED_EQUIVALENCE_005_DOMAINS_SIDE_BY_SIDE ->
                        domainsAsAlone(violations, find("compute"), find("forkwait"));
                case REQUIRED_RESOURCE_CONTROL_006_CRASHING_DOMAIN_ENDS_ALONE -> crashingDomainEndsAlone(violations);
                case REQUIRED_RESOURCE_CONTROL_002_MEMORY_OUTSIDE_DOMAIN, REQUIRED_RESOURCE_CONTROL_003_HYPERVISOR_MEMORY,
                     REQUIRED_RESOURCE_CONTROL_004_HOST_INTERRUPTS_UNMASKABLE,
                     REQUIRED_RESOURCE_CONTROL_005_SENSITIVE_UNPRIVILEGED_ESCAPE ->
                        hostileGuestChecksAsOnNative(violations, HOSTILE_GUESTS.get(rule));
            }
            return violations;
        }

        /**
         * Two lab guests as d1 and d2: each domain's lines are what the guest prints alone under the provider, and
         * the run ends as d1's alone.
         */
        private void domainsAsAlone(List<String> violations, LabGuest first, LabGuest second) throws Exception {
            GuestRun both = GuestRun.underDomains(provider, List.of(imageUnderProvider(first),
                    imageUnderProvider(second)));
            sameAsAlone(violations, both, 1, first);
            sameAsAlone(violations, both, 2, second);
            GuestRun alone = firstRun(first);
            if (!both.outcome().equals(alone.outcome())) {
                violations.add("the run ended " + both.outcome() + ", d1 (lab:" + first.name() + ") alone "
                        + alone.outcome());
            }
        }

        /** lab:compute as d1 beside a crashing d2: d1 prints and ends as alone; d2 ran and never finished. */
        private void crashingDomainEndsAlone(List<String> violations) throws Exception {
            LabGuest crasher = paravirtualized
                    ? LabGuests.paravirtual().stream().filter(g -> g.name().equals("crash")).findFirst().orElseThrow()
                    : find("crash");
            GuestImage crash = paravirtualized ? ParavirtualPorts.image(crasher) : image(crasher);
            LabGuest survivor = find("compute");
            GuestRun both = GuestRun.underDomains(provider, List.of(imageUnderProvider(survivor), crash));
            sameAsAlone(violations, both, 1, survivor);
            GuestRun alone = firstRun(survivor);
            if (!both.outcome().equals(alone.outcome())) {
                violations.add("the run ended " + both.outcome() + ", d1 (lab:compute) alone " + alone.outcome());
            }
            String crashed = both.domainConsole(2);
            if (!crashed.contains("workload=crash") || crashed.contains("lab: done")) {
                violations.add("d2 (crash) did not run and crash: it printed '" + crashed.strip() + "'");
            }
        }

        private void sameAsAlone(List<String> violations, GuestRun both, int domain, LabGuest guest)
                throws Exception {
            String difference = firstDifference(LabGuests.maskTimeDependent(firstRun(guest).console()),
                    LabGuests.maskTimeDependent(both.domainConsole(domain)));
            if (difference != null) {
                violations.add("d" + domain + " (lab:" + guest.name() + "): " + difference.replace("native",
                        "alone"));
            }
        }

        @FunctionalInterface
        private interface GuestCheck {
            /** The violation on this guest, or null. */
            String violation(LabGuest guest, GuestRun run, GuestRun reference) throws Exception;
        }

        /**
         * The check on every guest. A guest without a PV port under a paravirtualizing provider is a violation of
         * an equivalence rule (declared limits may explain it) and runs under no other rule.
         */
        private void forEachGuest(ConformanceRule rule, List<String> violations, GuestCheck check) throws Exception {
            for (LabGuest guest : guests) {
                if (unported(guest)) {
                    if (rule.excusableByDeclaredLimits()) {
                        violations.add("lab:" + guest.name() + ": no paravirtual port");
                    }
                    continue;
                }
                String violation = check.violation(guest, firstRun(guest), nativeRun(guest));
                if (violation != null) {
                    violations.add("lab:" + guest.name() + ": " + violation);
                }
            }
        }

        private void selftestChecksPass(List<String> violations, List<String> checks) throws Exception {
            Optional<LabGuest> selftest = guests.stream().filter(g -> g.name().equals("selftest")).findFirst();
            if (selftest.isEmpty()) {
                violations.add("lab:selftest is not among the suite's guests");
                return;
            }
            if (unported(selftest.get())) {
                violations.add("lab:selftest: no paravirtual port");
                return;
            }
            List<String> lines = firstRun(selftest.get()).console().lines().toList();
            for (String check : checks) {
                if (!lines.contains("PASS " + check)) {
                    violations.add("lab:selftest: " + lines.stream().filter(l -> l.matches("[A-Z]+ " + check + "\\b.*"))
                            .findFirst().orElse("no line for " + check));
                }
            }
        }

        /** Under a paravirtualizing provider, whether the guest has no PV port (so nothing of it runs). */
        private boolean unported(LabGuest guest) {
            return paravirtualized && !ParavirtualPorts.ported(guest);
        }

        /**
         * The hostile guest's PASS/FAIL lines and exit value under the provider are native's: its checks assert the
         * architectural facts, so native must pass them all. Other console lines are equivalence_001's business.
         */
        private void hostileGuestChecksAsOnNative(List<String> violations, String name) throws Exception {
            LabGuest guest = find(name);
            if (unported(guest)) {
                violations.add("lab:" + name + ": no paravirtual port");
                return;
            }
            GuestRun run = firstRun(guest), reference = nativeRun(guest);
            String checks = firstDifference(checkLines(reference), checkLines(run));
            String violation = reference.exitValue() != LabGuests.EXIT_SUCCESS
                    ? "native ends " + reference.outcome() + ", so the reference is broken"
                    : checks != null ? "among its PASS/FAIL lines, " + checks : outcomeDifference(run, reference);
            if (violation != null) {
                violations.add("lab:" + name + ": " + violation);
            }
        }

        private String countsBoundedByGuestEvents(GuestRun run) {
            for (Counters.CounterValue value : run.statistics()) {
                if (value.value() < 0) {
                    return "negative count " + value;
                }
            }
            long mechanisms = run.total(Counters.EXITS) + run.total(Counters.HYPERCALLS);
            long causes = run.instructions() + run.total(Counters.EXCEPTIONS) + run.total(Counters.INTERRUPTS);
            return mechanisms <= causes ? null : mechanisms + " exits and hypercalls, but only " + causes
                    + " instructions, exceptions and interrupts could cause them";
        }

        private void sensitiveOperationsAccounted(ConformanceRule rule, List<String> violations) throws Exception {
            forEachGuest(rule, violations, (guest, run, reference) -> {
                SensitiveOperation operation = NANOBENCHMARK_OPERATIONS.get(guest.name());
                if (operation == null) {
                    return null;
                }
                long onNative = benchmarkOperations(reference, reference.count(operation.family(), operation.key()));
                long asHardware = run.count(operation.family(), operation.key());
                long asMechanisms = run.total(Counters.EXITS) + run.total(Counters.HYPERCALLS)
                        + run.total(Counters.TRANSLATIONS);
                return Math.max(asHardware, asMechanisms) >= onNative ? null
                        : onNative + " " + operation + " on native, but only " + asHardware + " under the provider"
                                + " and " + asMechanisms + " exits, hypercalls and translations";
            });
        }

        private GuestRun firstRun(LabGuest guest) throws Exception {
            return cached(firstRuns, guest.name(), () -> GuestRun.under(provider, imageUnderProvider(guest)));
        }

        /** A second run, always after the first: determinism compares the two. */
        private GuestRun secondRun(LabGuest guest) throws Exception {
            firstRun(guest);
            return cached(secondRuns, guest.name(), () -> GuestRun.under(provider, imageUnderProvider(guest)));
        }

        /** The lab guest, or its PV port for a paravirtualizing provider. */
        private GuestImage imageUnderProvider(LabGuest guest) {
            return paravirtualized ? ParavirtualPorts.image(guest) : image(guest);
        }
    }

    private record SensitiveOperation(String family, String key) {
        @Override
        public String toString() {
            return family + "/" + key;
        }
    }

    private static LabGuest find(String name) {
        return LabGuests.find(name).orElseThrow(() -> new IllegalStateException("no lab guest " + name));
    }

    private static GuestRun nativeRun(LabGuest guest) throws Exception {
        return cached(NATIVE_RUNS, guest.commandLine(), () -> GuestRun.onNative(image(guest)));
    }

    @FunctionalInterface
    private interface Run {
        GuestRun start() throws Exception;
    }

    /** The run kept under the key, started and kept on first use (runs throw, so no computeIfAbsent). */
    private static GuestRun cached(Map<String, GuestRun> runs, String key, Run run) throws Exception {
        GuestRun kept = runs.get(key);
        if (kept == null) {
            kept = run.start();
            runs.put(key, kept);
        }
        return kept;
    }

    private static GuestImage image(LabGuest guest) {
        return new GuestImage.Multiboot("lab.elf", guest.kernelImage(), guest.commandLine());
    }

    /** The state a guest can see: the registers, not how many instructions the machine retired to get there. */
    private static CpuState guestVisible(CpuState state) {
        return new CpuState(state.general(), state.segments(), state.system(), state.fpu(), 0);
    }

    private static String finalStateDifference(GuestRun run, GuestRun reference) {
        CpuState state = guestVisible(run.finalState()), natives = guestVisible(reference.finalState());
        return state.equals(natives) ? null : "final state " + state + ", native " + natives;
    }

    private static final java.util.regex.Pattern ITERATIONS = java.util.regex.Pattern.compile(
            "^result workload=\\S+ iterations=(\\d+)", java.util.regex.Pattern.MULTILINE);

    /**
     * How many sensitive operations a nanobenchmark's run counts: the iterations its result line reports, or all of
     * native's count when that is less; the rest of native's count is its console's, which a provider may route
     * another way (Xen's console_io hypercall).
     */
    private static long benchmarkOperations(GuestRun reference, long onNative) {
        java.util.regex.Matcher result = ITERATIONS.matcher(reference.console());
        return result.find() ? Math.min(onNative, Long.parseLong(result.group(1))) : onNative;
    }

    private static String outcomeDifference(GuestRun run, GuestRun reference) {
        return run.outcome().equals(reference.outcome()) ? null
                : "ended " + run.outcome() + ", native " + reference.outcome();
    }

    /** A checking guest's verdicts: its PASS and FAIL lines. */
    private static String checkLines(GuestRun run) {
        return run.console().lines().filter(line -> line.startsWith("PASS ") || line.startsWith("FAIL "))
                .map(line -> line + "\n").collect(Collectors.joining());
    }

    /** The first line where two console outputs differ, or null when they are equal. */
    static String firstDifference(String expected, String actual) {
        if (expected.equals(actual)) {
            return null;
        }
        List<String> want = expected.lines().toList();
        List<String> got = actual.lines().toList();
        for (int line = 0; line < Math.max(want.size(), got.size()); line++) {
            String w = line < want.size() ? want.get(line) : "(end of output)";
            String g = line < got.size() ? got.get(line) : "(end of output)";
            if (!w.equals(g)) {
                return "console line " + (line + 1) + " is '" + g + "', native '" + w + "'";
            }
        }
        return "console differs from native in line endings";
    }

    private static String firstDifferenceOfRuns(GuestRun first, GuestRun second) {
        String console = firstDifference(first.console(), second.console());
        if (console != null) {
            return "second run: " + console.replace("native", "first run");
        }
        if (!first.outcome().equals(second.outcome())) {
            return "ended " + first.outcome() + ", then " + second.outcome();
        }
        if (!first.finalState().equals(second.finalState())) {
            return "final states differ: " + first.finalState() + ", then " + second.finalState();
        }
        if (!first.statistics().equals(second.statistics())) {
            List<Counters.CounterValue> onlyFirst = new ArrayList<>(first.statistics());
            onlyFirst.removeAll(second.statistics());
            List<Counters.CounterValue> onlySecond = new ArrayList<>(second.statistics());
            onlySecond.removeAll(first.statistics());
            return "counts differ: " + onlyFirst + ", then " + onlySecond;
        }
        return null;
    }
}

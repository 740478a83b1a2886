package hvlab.cli.compare;

import hvlab.cli.plugins.PluginFailure;
import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One boot of a lab workload under one strategy, to its end: what it printed and what it counted. */
sealed interface GuestRun {
    /** The machine 'hvlab run' builds by default: 128 MiB. */
    int MEMORY = 128 << 20;
    /** A guard against a guest that never ends; forkwait, the longest default workload, retires far fewer. */
    long MAX_INSTRUCTIONS = 20_000_000_000L;
    /** The iteration count the lab kernel reports on its result line (kernel.c and pvkernel.c print_result). */
    Pattern ITERATIONS = Pattern.compile("^result workload=\\S+ iterations=(\\d+)", Pattern.MULTILINE);

    /**
     * @param iterations     what the guest says it iterated
     * @param resultLines    its {@code result} lines with the time-dependent numbers masked, to compare strategies
     */
    record Ended(long iterations, List<String> resultLines, List<Counters.CounterValue> counters)
            implements GuestRun { }

    record Failed(String reason) implements GuestRun { }

    static GuestRun of(Strategy strategy, GuestImage image) {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(MEMORY).serialOutput(console::write).build()) {
            RunOutcome outcome;
            try (Hypervisor hypervisor = strategy.hypervisorOn().apply(machine)) {
                hypervisor.boot(image);
                outcome = hypervisor.run(MAX_INSTRUCTIONS);
            }
            return ended(outcome, console.toString(StandardCharsets.ISO_8859_1), machine.statistics());
        } catch (BootImageException | PluginFailure e) {
            return new Failed(e.getMessage());
        }
    }

    /** A run counts only if the guest passed (exit port or ACPI/Xen power-off) and printed its iteration count. */
    private static GuestRun ended(RunOutcome outcome, String console, List<Counters.CounterValue> counters) {
        boolean passed = outcome instanceof RunOutcome.Exited(int value) && value == LabGuests.EXIT_SUCCESS
                || outcome instanceof RunOutcome.PowerOff;
        if (!passed || LabGuests.reportsFailure(console)) {
            return new Failed("ended with " + outcome + "; console: " + lastLine(console));
        }
        OptionalLong iterations = iterations(console);
        if (iterations.isEmpty()) {
            return new Failed("printed no 'result workload=NAME iterations=N' line");
        }
        List<String> resultLines = console.lines().filter(line -> line.startsWith("result "))
                .map(LabGuests::maskTimeDependent).toList();
        return new Ended(iterations.getAsLong(), resultLines, counters);
    }

    static OptionalLong iterations(String console) {
        Matcher m = ITERATIONS.matcher(console);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    private static String lastLine(String console) {
        return console.lines().filter(line -> !line.isBlank()).reduce((first, second) -> second).orElse("(empty)");
    }
}

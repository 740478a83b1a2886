package hvlab.cli;

import hvlab.guests.LabGuests;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code hvlab run --hypervisor xen-pv --guest A --guest B}: one domain per --guest, console lines by domain. */
class RunCommandDomainsTest {
    private record Result(int status, String out, String err) { }

    private static Result run(String... args) {
        InputStream stdin = System.in;
        PrintStream stdout = System.out, stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setIn(new ByteArrayInputStream(new byte[0]));
        System.setOut(new PrintStream(out, true, StandardCharsets.ISO_8859_1));
        System.setErr(new PrintStream(err, true, StandardCharsets.ISO_8859_1));
        try {
            StringWriter messages = new StringWriter();
            int status = HvlabCommand.execute(new PrintWriter(messages, true), args);
            return new Result(status, out.toString(StandardCharsets.ISO_8859_1),
                    messages + err.toString(StandardCharsets.ISO_8859_1));
        } finally {
            System.setIn(stdin);
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    @Test
    void eachGuestIsADomainAndEachLineCarriesItsDomain() {
        Result result = run("run", "--hypervisor", "xen-pv", "--guest", "lab-pv:hello", "--guest", "lab-pv:crash",
                "--stats");
        assertThat(result.out()).contains("(d1) hello from the hvlab lab kernel", "(d1) lab: done status=pass",
                "(d2) crash: a page fault with no handler", "(XEN) domain 2 crashed", "(XEN) domain 1 shut down");
        assertThat(result.status()).isEqualTo(LabGuests.EXIT_SUCCESS); // the first domain's
        assertThat(result.err()).contains("domain d1      hypercalls", "domain d2      hypercalls",
                "domain switch");
        // --stats prices each switch between domains (CostModel.DOMAIN_SWITCH)
        assertThat(modelledCycles(result.err(), "world switches domain switch")).isEqualTo(593L);
        assertThat(result.err()).containsPattern("domain d[12] +frames freed at its death +8,193");
    }

    /** The modelled cycles of the --stats row, which it divides by its count: its price per event. */
    private static long modelledCycles(String stats, String row) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(row)
                + " +([0-9,]+) +([0-9,]+)").matcher(stats);
        assertThat(m.find()).as("a row '" + row + "' in " + stats).isTrue();
        return Long.parseLong(m.group(2).replace(",", "")) / Long.parseLong(m.group(1).replace(",", ""));
    }

    /** vtx hosts several VMs too: one VMCS and RAM range each, the same console prefix and status convention. */
    @Test
    void vtxRunsOneVmPerGuestWithTheSameConventions() {
        Result result = run("run", "--hypervisor", "vtx", "--guest", "lab:hello", "--guest", "lab:syscall",
                "--stats");
        assertThat(result.out()).contains("(d1) hello from the hvlab lab kernel", "(d1) lab: done status=pass",
                "(d2) result workload=syscall", "(d2) lab: done status=pass", "(VTX) domain 2 ended");
        assertThat(result.status()).isEqualTo(LabGuests.EXIT_SUCCESS);
        assertThat(result.err()).contains("domain d1", "domain d2", "VM exit: I/O instruction");
    }

    /**
     * --cpu-weight reaches Xen's credit scheduler (xen/common/sched_credit.c): two busy compute domains of weights
     * 256 and 512, stopped while both still run, got about a third and two thirds of the CPU ("scheduled ms").
     */
    @Test
    void cpuWeightsShareTheCpuBetweenBusyDomains() {
        Result result = run("run", "--hypervisor", "xen-pv", "--guest", "lab-pv:compute", "--guest", "lab-pv:compute",
                "--cpu-weight", "256", "--cpu-weight", "512", "--append", "iterations=100000",
                "--max-instructions", "600000000", "--stats");
        assertThat(result.status()).isEqualTo(RunCommand.EXIT_INSTRUCTION_LIMIT);
        long light = scheduledMs(result.err(), 1), heavy = scheduledMs(result.err(), 2);
        assertThat(light + heavy).isGreaterThan(500);
        assertThat((double) heavy / light).isBetween(1.4, 2.2); // equal weights give 1.0 (XenDomainsTest)
    }

    private static long scheduledMs(String stats, int domain) {
        java.util.regex.Matcher row = java.util.regex.Pattern.compile("domain d" + domain
                + " +scheduled ms +([0-9,]+)").matcher(stats);
        assertThat(row.find()).as("a scheduled-ms row for d" + domain + " in " + stats).isTrue();
        return Long.parseLong(row.group(1).replace(",", ""));
    }

    @Test
    void theStatusIsTheFirstDomainsWhenItFails() {
        Result result = run("run", "--hypervisor", "xen-pv", "--guest", "lab-pv:crash", "--guest", "lab-pv:hello");
        assertThat(result.out()).contains("(d2) lab: done status=pass");
        assertThat(result.status()).isEqualTo(LabGuests.EXIT_PANIC);
    }
}

package hvlab.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code hvlab compare} from the command line, with the real vtx and xen-pv plugins. */
class CompareCommandTest {
    @TempDir
    Path dir;

    private record Result(int status, String out, String err) { }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = HvlabCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(status, out.toString(), err.toString());
    }

    /** The cells of the cost table's row for this workload (cells are separated by two or more spaces). */
    private static List<String> costRow(String out, String workload) {
        return out.lines().takeWhile(line -> !line.startsWith("Mechanisms"))
                .map(line -> Arrays.asList(line.trim().split(" {2,}")))
                .filter(cells -> cells.getFirst().equals(workload))
                .findFirst().orElseThrow(() -> new AssertionError("no " + workload + " row in\n" + out));
    }

    private static double number(String cell) {
        return Double.parseDouble(cell.replace(",", ""));
    }

    private static final String[] SHORT = {"compare", "--hypervisors", "vtx,xen-pv", "--workloads", "syscall,divzero",
            "--iterations", "300"};

    @Test
    void theSameCommandPrintsTheSameTablesTwice() {
        Result first = run(SHORT);
        Result second = run(SHORT);
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(first.out()).contains("syscall").contains("divzero").contains("Mechanisms per operation");
        assertThat(second.out()).isEqualTo(first.out());
    }

    @Test
    void theRatioColumnIsTheStrategysCostOverNatives() throws Exception {
        Path json = dir.resolve("compare.json");
        String[] args = Arrays.copyOf(SHORT, SHORT.length + 2);
        args[SHORT.length] = "--json";
        args[SHORT.length + 1] = json.toString();
        Result result = run(args);
        assertThat(result.status()).as(result.err()).isZero();
        // workload, iterations, native, then per strategy: cycles, ratio, result
        List<String> header = costRow(result.out(), "workload");
        assertThat(header).containsExactly("workload", "iterations", "native", "vtx", "x native", "result", "xen-pv",
                "x native", "result");
        for (String workload : List.of("syscall", "divzero")) {
            List<String> row = costRow(result.out(), workload);
            assertThat(row.get(1)).isEqualTo("300");
            double nativeCycles = number(row.get(2));
            for (int column : new int[] {3, 6}) {
                double cycles = number(row.get(column));
                double ratio = number(row.get(column + 1).replace("x", ""));
                // the cells are rounded to whole cycles, so the ratio of the cells agrees to a cycle's worth
                assertThat(ratio).as(workload + " " + header.get(column))
                        .isCloseTo(cycles / nativeCycles, org.assertj.core.data.Offset.offset(1.0 / nativeCycles + 0.005));
                assertThat(row.get(column + 2)).isEqualTo("same");
            }
        }
        // the JSON holds the unrounded figures: its ratio is its cycles over native's, to the printed precision
        String text = Files.readString(json);
        double nativeSyscall = jsonNumber(text, "\"strategy\": \"native\"", "cycles_per_operation");
        double vtxSyscall = jsonNumber(text, "\"strategy\": \"vtx\"", "cycles_per_operation");
        double vtxRatio = jsonNumber(text, "\"strategy\": \"vtx\"", "ratio_to_native");
        assertThat(vtxRatio).isCloseTo(vtxSyscall / nativeSyscall, org.assertj.core.data.Offset.offset(0.0005));
    }

    /** The first number after {@code key} in the first object that contains {@code marker}. */
    private static double jsonNumber(String json, String marker, String key) {
        String from = json.substring(json.indexOf(marker));
        String after = from.substring(from.indexOf("\"" + key + "\": ") + key.length() + 4);
        return Double.parseDouble(after.substring(0, after.indexOf(',')));
    }

    @Test
    void aStrategyWithoutAPortOfTheWorkloadIsNotApplicableWithTheReason() {
        Result result = run("compare", "--hypervisors", "xen-pv", "--workloads", "clispin", "--iterations", "3");
        assertThat(costRow(result.out(), "clispin")).containsSubsequence("n/a", "-", "-");
        assertThat(result.out()).contains("n/a: xen-pv clispin: no paravirtualized port of clispin");
    }

    /** cr8wr's PV port writes the event mask where native writes the TPR, and prints native's result line. */
    @Test
    void aParavirtualizingStrategyRunsTheWorkloadsPort() {
        Result result = run("compare", "--hypervisors", "xen-pv", "--workloads", "cr8wr", "--iterations", "3");
        assertThat(result.status()).as(result.err()).isZero();
        assertThat(costRow(result.out(), "cr8wr")).doesNotContain("n/a").endsWith("same");
    }

    @Test
    void anUnknownHypervisorIsBadInputListingTheKnownOnes() {
        Result result = run("compare", "--hypervisors", "vtx,kvm", "--workloads", "callret");
        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err()).contains("no hypervisor 'kvm'; known: native").contains("vtx").contains("xen-pv")
                .doesNotContain("Exception");
        assertThat(result.out()).isEmpty();
    }

    @Test
    void anUnknownWorkloadIsBadInput() {
        Result result = run("compare", "--workloads", "nosuch");
        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err()).contains("no lab guest 'nosuch'");
    }

    @Test
    void iterationsMustExceedTheBaselines() {
        Result result = run("compare", "--workloads", "callret", "--iterations", "1");
        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err().toLowerCase(Locale.ROOT)).contains("--iterations must be more than");
    }
}

package hvlab.cli.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BenchJsonTest {
    @Test
    void stringsAreEscaped() {
        assertThat(BenchJson.string("a \"b\" \\ c\nd\u0001")).isEqualTo("\"a \\\"b\\\" \\\\ c\\nd\\u0001\"");
    }

    @Test
    void missingFiguresAreNull() {
        assertThat(BenchJson.number(Double.NaN)).isEqualTo("null");
        assertThat(BenchJson.number(12.3456)).isEqualTo("12.346");
    }

    @Test
    void resultsCarryRawTimesCountsAndRatios() {
        String json = BenchJson.format(3, Map.of("Bochs", "not on the PATH"), List.of(BenchTableTest.HVLAB,
                BenchTableTest.QEMU, new BenchResult.Failed("in", "QEMU", "exit code 1")));

        assertThat(json).contains(
                "\"runs\": 3",
                "\"skipped\": [{\"engine\": \"Bochs\", \"reason\": \"not on the PATH\"}]",
                "{\"workload\": \"compute\", \"engine\": \"hvlab\", \"wall_ns\": [120000000, 100000000], "
                        + "\"startup_ns\": [20000000, 20000000], \"instructions\": 8000000, "
                        + "\"instruction_count\": \"hvlab\", \"mips_best\": 100.000, \"mips_mean\": 88.889, "
                        + "\"rough\": false, \"hvlab_mips_ratio\": null}",
                "\"instruction_count\": \"taken-from-hvlab\"",
                "\"hvlab_mips_ratio\": 0.250}",
                "{\"workload\": \"in\", \"engine\": \"QEMU\", \"failure\": \"exit code 1\"}");
        assertThat(json).startsWith("{\n").endsWith("}\n");
    }
}

package hvlab.cli.bench;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The table and its figures from given numbers: no emulator runs, no timing. */
class BenchTableTest {
    static List<Duration> ms(long... millis) {
        return java.util.Arrays.stream(millis).mapToObj(Duration::ofMillis).toList();
    }

    static final BenchResult.Measured HVLAB = new BenchResult.Measured("compute", "hvlab",
            ms(120, 100), ms(20, 20), 8_000_000, Counting.HVLAB);
    static final BenchResult.Measured QEMU = new BenchResult.Measured("compute", "QEMU",
            ms(90, 110), ms(70, 70), 8_000_000, Counting.TAKEN_FROM_HVLAB);
    static final BenchResult.Measured BOCHS = new BenchResult.Measured("compute", "Bochs",
            ms(380, 400), ms(300, 300), 8_100_000, Counting.BOCHS_TICKS);

    @Test
    void mipsIsInstructionsOverWallLessStartup() {
        assertThat(HVLAB.bestMips()).isEqualTo(100.0);              // 8 M in 80 ms
        assertThat(HVLAB.meanMips()).isCloseTo(88.89, within());    // 8 M in 90 ms
        assertThat(QEMU.bestMips()).isEqualTo(400.0);               // 8 M in 20 ms
        assertThat(BOCHS.bestMips()).isEqualTo(101.25);             // 8.1 M in 80 ms
        assertThat(HVLAB.bestWall()).isEqualTo(Duration.ofMillis(100));
        assertThat(HVLAB.meanWall()).isEqualTo(Duration.ofMillis(110));
    }

    @Test
    void ratioIsHvlabsBestMipsOverThePeers() {
        List<BenchResult> results = List.of(HVLAB, QEMU, BOCHS);
        assertThat(BenchResult.hvlabRatio(results, QEMU)).hasValue(0.25);
        assertThat(BenchResult.hvlabRatio(results, BOCHS).getAsDouble()).isCloseTo(0.988, within());
        assertThat(BenchResult.hvlabRatio(results, HVLAB)).isEmpty();
        assertThat(BenchResult.hvlabRatio(List.of(QEMU), QEMU)).as("no hvlab row").isEmpty();
    }

    @Test
    void noTimeLeftAfterStartupHasNoMips() {
        BenchResult.Measured tooFast = new BenchResult.Measured("in", "QEMU", ms(60), ms(70), 1_000_000,
                Counting.TAKEN_FROM_HVLAB);
        assertThat(tooFast.bestMips()).isNaN();
        assertThat(BenchTable.mips(tooFast.bestMips())).isEqualTo("n/a");
        assertThat(BenchResult.hvlabRatio(List.of(HVLAB, tooFast), tooFast)).isEmpty();
    }

    @Test
    void aShortPeerRunIsRoughButAShortHvlabRunIsNot() {
        assertThat(new BenchResult.Measured("in", "QEMU", ms(80), ms(70), 1, Counting.TAKEN_FROM_HVLAB).rough())
                .isTrue();
        assertThat(new BenchResult.Measured("in", "hvlab", ms(30), ms(20), 1, Counting.HVLAB).rough()).isFalse();
        assertThat(QEMU.rough()).as("20 ms is enough").isFalse();
    }

    @Test
    void tableHasOneRowPerResultAndFootnotesForTheCountsShown() {
        BenchResult.Failed failed = new BenchResult.Failed("in", "Bochs", "in did not reach the shutdown port");
        String table = BenchTable.format(List.of(HVLAB, QEMU, BOCHS, failed));

        assertThat(table.lines().limit(5)).containsExactly(
                "workload  engine  wall best  wall mean  start-up  instructions  MIPS best  MIPS mean  hvlab/this",
                "compute   hvlab    100.0 ms   110.0 ms   20.0 ms     8,000,000      100.0       88.9           -",
                "compute   QEMU      90.0 ms   100.0 ms   70.0 ms    8,000,000*      400.0      266.7       0.25x",
                "compute   Bochs    380.0 ms   390.0 ms  300.0 ms    8,100,000#      101.3       90.0       0.99x",
                "in        Bochs   failed: in did not reach the shutdown port");
        assertThat(table).contains("\n* QEMU TCG does not count instructions", "\n# Bochs's own count")
                .doesNotContain("\n~ ");
    }

    @Test
    void footnotesOnlyForWhatTheTableShows() {
        String table = BenchTable.format(List.of(HVLAB));
        assertThat(table).contains("MIPS = guest instructions / (wall time - start-up)")
                .doesNotContain("QEMU TCG", "Bochs's own count");
    }

    private static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(0.01);
    }
}

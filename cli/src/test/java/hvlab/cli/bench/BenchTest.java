package hvlab.cli.bench;

import hvlab.guests.LabGuests;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The orchestration with stand-in engines that report set times: who borrows whose count, what start-up is. */
class BenchTest {
    /** An engine that answers every boot with the next of the given wall times. */
    private record FakeEngine(String name, Counting counting, Deque<Duration> walls, OptionalLong count,
                              Optional<Duration> startup, boolean fails) implements Engine {
        @Override
        public Optional<String> unavailable() {
            return Optional.empty();
        }

        @Override
        public Boot boot(String romName, byte[] rom) throws EngineFailure {
            if (fails && !romName.equals(Bench.STARTUP_ROM)) {
                throw new EngineFailure(romName + " ended badly");
            }
            return new Boot(walls.removeFirst(), startup, count);
        }
    }

    private static Deque<Duration> ms(long... millis) {
        return new ArrayDeque<>(BenchTableTest.ms(millis));
    }

    private static List<BenchResult> run(Engine hvlab, Engine... peers) throws InterruptedException {
        return new Bench(hvlab, List.of(peers), 2, new PrintWriter(new StringWriter()))
                .run(List.of(LabGuests.find("callret").orElseThrow()));
    }

    private final FakeEngine hvlab = new FakeEngine(HvlabEngine.NAME, Counting.HVLAB, ms(50, 40),
            OptionalLong.of(3_000_000), Optional.of(Duration.ofMillis(10)), false);

    @Test
    void aPeerWithoutACounterTakesHvlabsCountAndItsBestStartup() throws Exception {
        // five start-up runs (the minimum), then the workload's two
        FakeEngine qemu = new FakeEngine("QEMU", Counting.TAKEN_FROM_HVLAB, ms(70, 65, 80, 66, 90, 100, 95),
                OptionalLong.empty(), Optional.empty(), false);

        List<BenchResult> results = run(hvlab, qemu);

        assertThat(results).containsExactly(
                new BenchResult.Measured("callret", "hvlab", BenchTableTest.ms(50, 40), BenchTableTest.ms(10, 10),
                        3_000_000, Counting.HVLAB),
                new BenchResult.Measured("callret", "QEMU", BenchTableTest.ms(100, 95), BenchTableTest.ms(65, 65),
                        3_000_000, Counting.TAKEN_FROM_HVLAB));
    }

    @Test
    void aPeerThatCountsKeepsItsOwnCount() throws Exception {
        FakeEngine bochs = new FakeEngine("Bochs", Counting.BOCHS_TICKS, ms(300, 300, 300, 300, 300, 400, 400),
                OptionalLong.of(3_100_000), Optional.empty(), false);

        assertThat(run(hvlab, bochs).get(1)).isInstanceOfSatisfying(BenchResult.Measured.class,
                m -> assertThat(m.instructions()).isEqualTo(3_100_000));
    }

    @Test
    void aFailedRunBecomesAFailedRow() throws Exception {
        FakeEngine broken = new FakeEngine("QEMU", Counting.TAKEN_FROM_HVLAB, ms(70, 70, 70, 70, 70),
                OptionalLong.empty(), Optional.empty(), true);

        assertThat(run(hvlab, broken).get(1))
                .isEqualTo(new BenchResult.Failed("callret", "QEMU", "lab-callret.rom ended badly"));
    }

    @Test
    void withoutHvlabsCountAPeerWithoutACounterHasNone() throws Exception {
        FakeEngine brokenHvlab = new FakeEngine(HvlabEngine.NAME, Counting.HVLAB, ms(), OptionalLong.empty(),
                Optional.empty(), true);
        FakeEngine qemu = new FakeEngine("QEMU", Counting.TAKEN_FROM_HVLAB, ms(70, 70, 70, 70, 70, 90, 90),
                OptionalLong.empty(), Optional.empty(), false);

        assertThat(run(brokenHvlab, qemu).get(1)).isInstanceOfSatisfying(BenchResult.Failed.class,
                f -> assertThat(f.reason()).contains("does not count instructions"));
    }
}

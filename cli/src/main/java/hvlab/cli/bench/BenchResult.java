package hvlab.cli.bench;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalDouble;

/** The outcome of one workload on one engine: measured, or failed with a reason. */
public sealed interface BenchResult {
    /** A net time below this is within the peers' start-up noise (a few ms between runs): a rough MIPS figure. */
    Duration ROUGH_BELOW = Duration.ofMillis(20);

    String workload();

    String engine();

    /**
     * Runs that reached the guest's exit.
     *
     * @param wallTimes    each run's wall time
     * @param startupTimes each run's start-up time (hvlab measures its own in each run; a peer's is the same for
     *                     every run: its best time on a ROM that exits at once)
     * @param instructions guest instructions of one run
     * @param counting     where {@code instructions} comes from
     */
    record Measured(String workload, String engine, List<Duration> wallTimes, List<Duration> startupTimes,
                    long instructions, Counting counting) implements BenchResult {
        public Measured {
            wallTimes = List.copyOf(wallTimes);
            startupTimes = List.copyOf(startupTimes);
            if (wallTimes.isEmpty() || wallTimes.size() != startupTimes.size()) {
                throw new IllegalArgumentException("one start-up time per run, and at least one run");
            }
        }

        public Duration bestWall() {
            return wallTimes.stream().min(Comparator.naturalOrder()).orElseThrow();
        }

        public Duration meanWall() {
            return mean(wallTimes);
        }

        public Duration meanStartup() {
            return mean(startupTimes);
        }

        /** Each run's time in guest code: wall time less start-up. */
        public List<Duration> netTimes() {
            return java.util.stream.IntStream.range(0, wallTimes.size())
                    .mapToObj(i -> wallTimes.get(i).minus(startupTimes.get(i))).toList();
        }

        /** Million guest instructions per second in the fastest run; NaN if no time was left after start-up. */
        public double bestMips() {
            return mips(netTimes().stream().min(Comparator.naturalOrder()).orElseThrow());
        }

        /** The same over the mean net time. */
        public double meanMips() {
            return mips(mean(netTimes()));
        }

        /**
         * A peer's fastest net time is too short next to its start-up noise to trust the MIPS figure much. hvlab
         * times its start-up inside each run, so its net time carries no such noise.
         */
        public boolean rough() {
            return !engine.equals(HvlabEngine.NAME)
                    && netTimes().stream().min(Comparator.naturalOrder()).orElseThrow().compareTo(ROUGH_BELOW) < 0;
        }

        private double mips(Duration net) {
            return net.isNegative() || net.isZero() ? Double.NaN : instructions / (net.toNanos() / 1e3);
        }

        private static Duration mean(List<Duration> times) {
            return times.stream().reduce(Duration.ZERO, Duration::plus).dividedBy(times.size());
        }
    }

    /** The engine could not run the workload to its end; {@code reason} says why. */
    record Failed(String workload, String engine, String reason) implements BenchResult { }

    /**
     * hvlab's best MIPS over {@code peer}'s on the same workload, or empty for hvlab's own row or when either
     * figure is missing.
     */
    static OptionalDouble hvlabRatio(List<BenchResult> results, Measured peer) {
        if (peer.engine().equals(HvlabEngine.NAME)) {
            return OptionalDouble.empty();
        }
        return results.stream()
                .filter(r -> r instanceof Measured m && m.engine().equals(HvlabEngine.NAME)
                        && m.workload().equals(peer.workload()))
                .mapToDouble(r -> ((Measured) r).bestMips() / peer.bestMips())
                .filter(Double::isFinite)
                .findFirst();
    }
}

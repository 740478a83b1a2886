package hvlab.cli.bench;

import hvlab.guests.LabGuest;
import hvlab.guests.TinyRom;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Boots each workload's ROM on hvlab and on the peers, one run at a time (a 2-core machine has no core to spare
 * for a second emulator), and collects wall times, start-up times and instruction counts.
 */
public final class Bench {
    /** A peer's start-up time is the best of at least this many runs: it is subtracted from every other run. */
    static final int MIN_STARTUP_RUNS = 5;
    static final String STARTUP_ROM = "exit-at-once.rom";

    private final Engine hvlab;
    private final List<Engine> peers;
    private final int runs;
    private final PrintWriter progress;

    /**
     * @param hvlab    the engine whose counts the peers without a counter borrow, and whose MIPS the ratios compare
     * @param peers    the peers to measure, all available
     * @param runs     runs per workload and engine
     * @param progress where to say what is running (stderr)
     */
    public Bench(Engine hvlab, List<Engine> peers, int runs, PrintWriter progress) {
        this.hvlab = hvlab;
        this.peers = List.copyOf(peers);
        this.runs = runs;
        this.progress = progress;
    }

    /** Measures every workload on hvlab, then on each peer; a failure becomes a row, never an exception. */
    public List<BenchResult> run(List<LabGuest> workloads) throws InterruptedException {
        Map<Engine, Duration> startups = new HashMap<>();
        Map<Engine, String> startupFailures = new HashMap<>();
        for (Engine peer : peers) {
            try {
                startups.put(peer, bestStartup(peer));
            } catch (Engine.EngineFailure | IOException e) {
                startupFailures.put(peer, "start-up run failed: " + e.getMessage());
            }
        }
        List<BenchResult> results = new ArrayList<>();
        for (LabGuest workload : workloads) {
            byte[] rom = workload.romImage();
            BenchResult own = measure(hvlab, workload, rom, Duration.ZERO, OptionalLong.empty());
            results.add(own);
            OptionalLong hvlabCount = own instanceof BenchResult.Measured m
                    ? OptionalLong.of(m.instructions()) : OptionalLong.empty();
            for (Engine peer : peers) {
                results.add(startups.containsKey(peer)
                        ? measure(peer, workload, rom, startups.get(peer), hvlabCount)
                        : new BenchResult.Failed(workload.name(), peer.name(), startupFailures.get(peer)));
            }
        }
        return results;
    }

    /** The best wall time of a ROM that exits after a few instructions. */
    private Duration bestStartup(Engine peer) throws Engine.EngineFailure, IOException, InterruptedException {
        byte[] rom = TinyRom.exitAtOnce();
        int startupRuns = Math.max(MIN_STARTUP_RUNS, runs);
        progress.printf("bench: start-up of %s (%d runs of a ROM that exits at once)%n", peer.name(), startupRuns);
        Duration best = peer.boot(STARTUP_ROM, rom).wallTime();
        for (int i = 1; i < startupRuns; i++) {
            Duration wall = peer.boot(STARTUP_ROM, rom).wallTime();
            best = wall.compareTo(best) < 0 ? wall : best;
        }
        return best;
    }

    private BenchResult measure(Engine engine, LabGuest workload, byte[] rom, Duration peerStartup,
                                OptionalLong hvlabCount) throws InterruptedException {
        progress.printf("bench: %s on %s (%d run%s)%n", workload.name(), engine.name(), runs, runs == 1 ? "" : "s");
        List<Duration> walls = new ArrayList<>();
        List<Duration> startups = new ArrayList<>();
        OptionalLong counted = OptionalLong.empty();
        try {
            for (int i = 0; i < runs; i++) {
                Engine.Boot boot = engine.boot(workload.romFileName(), rom);
                walls.add(boot.wallTime());
                startups.add(boot.startupTime().orElse(peerStartup));
                counted = boot.instructions();
            }
        } catch (Engine.EngineFailure | IOException e) {
            return new BenchResult.Failed(workload.name(), engine.name(), e.getMessage());
        }
        OptionalLong instructions = counted.isPresent() ? counted : hvlabCount;
        if (instructions.isEmpty()) {
            return new BenchResult.Failed(workload.name(), engine.name(),
                    engine.name() + " does not count instructions, and hvlab's run of this ROM failed");
        }
        return new BenchResult.Measured(workload.name(), engine.name(), walls, startups, instructions.getAsLong(),
                engine.counting());
    }
}

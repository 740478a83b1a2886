package hvlab.cli.compare;

import hvlab.guests.LabGuest;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Runs each workload under each strategy twice, with the guest's iteration count and with a baseline of one
 * iteration, and takes the difference: boot, set-up and teardown cancel, and the per-operation figure is what the
 * loop itself costs.
 */
public final class Comparison {
    /** The baseline run's iteration count (the lab kernel takes 0 as "the default"). */
    public static final int BASELINE_ITERATIONS = 1;

    private final List<Strategy> strategies;
    private final OptionalLong iterations;
    private final PrintWriter progress;

    /**
     * @param strategies {@code native} first: the reference of every ratio
     * @param iterations the guest's iteration count, or empty for each workload's own default
     * @param progress   where a line per run goes
     */
    public Comparison(List<Strategy> strategies, OptionalLong iterations, PrintWriter progress) {
        this.strategies = List.copyOf(strategies);
        this.iterations = iterations;
        this.progress = progress;
    }

    /** One row per workload, one cell per strategy in the strategies' order. */
    public List<Row> run(List<LabGuest> workloads) {
        List<Row> rows = new ArrayList<>();
        for (LabGuest workload : workloads) {
            List<Cell> cells = new ArrayList<>();
            for (Strategy strategy : strategies) {
                cells.add(cell(strategy, workload));
            }
            rows.add(new Row(workload.name(), cells));
        }
        return rows;
    }

    public record Row(String workload, List<Cell> cells) {
        /** The first cell, native's, when it was measured. */
        public java.util.Optional<Cell.Measured> nativeCell() {
            return cells.getFirst() instanceof Cell.Measured m ? java.util.Optional.of(m) : java.util.Optional.empty();
        }
    }

    private Cell cell(Strategy strategy, LabGuest workload) {
        LabGuest measured = iterations.isPresent() ? workload.withOptions("iterations=" + iterations.getAsLong())
                : workload;
        LabGuest baseline = workload.withOptions("iterations=" + BASELINE_ITERATIONS);
        GuestChoice choice = GuestChoice.of(strategy.capabilities(), measured);
        if (choice instanceof GuestChoice.NotApplicable(String reason)) {
            return new Cell.NotApplicable(strategy.id(), reason);
        }
        GuestChoice.Image full = (GuestChoice.Image) choice;
        // the same kernel as the measured run: the choice depends on the workload's name, not its options
        GuestChoice.Image base = (GuestChoice.Image) GuestChoice.of(strategy.capabilities(), baseline);
        progress.println("compare: " + workload.name() + " under " + strategy.id() + " (" + full.spec() + ")");
        progress.flush();
        return difference(strategy.id(), full.spec(), GuestRun.of(strategy, full.image()),
                GuestRun.of(strategy, base.image()));
    }

    /** What the strategies do differently comes first: exits, hypercalls, traps, then a plugin's own families. */
    private static final List<String> FIRST = List.of(Counters.EXITS, Counters.HYPERCALLS, Counters.EXCEPTIONS,
            Counters.INTERRUPTS, Counters.IO, Counters.WORLD_SWITCHES, Counters.TRANSLATIONS);
    /** The machine's bookkeeping, which every strategy has, comes last. */
    private static final List<String> LAST = List.of(Counters.TLB, "emulated device accesses");

    static int rank(String family) {
        int first = FIRST.indexOf(family), last = LAST.indexOf(family);
        return first >= 0 ? first : last >= 0 ? FIRST.size() + 1 + last : FIRST.size();
    }

    static Cell difference(String strategy, String guest, GuestRun full, GuestRun base) {
        if (full instanceof GuestRun.Failed(String reason)) {
            return new Cell.Failed(strategy, guest, reason);
        }
        if (base instanceof GuestRun.Failed(String reason)) {
            return new Cell.Failed(strategy, guest, "the baseline run (iterations=" + BASELINE_ITERATIONS + ") "
                    + reason);
        }
        GuestRun.Ended run = (GuestRun.Ended) full, baseline = (GuestRun.Ended) base;
        long operations = run.iterations() - baseline.iterations();
        if (operations <= 0) {
            return new Cell.Failed(strategy, guest, "the run iterated " + run.iterations() + " times, the baseline "
                    + baseline.iterations() + ": nothing to divide by");
        }
        double cycles = (CostModel.totalCycles(run.counters()) - CostModel.totalCycles(baseline.counters()))
                / (double) operations;
        Map<String, Long> deltas = new LinkedHashMap<>();
        run.counters().forEach(v -> deltas.merge(v.family() + "\0" + v.key(), v.value(), Long::sum));
        baseline.counters().forEach(v -> deltas.merge(v.family() + "\0" + v.key(), -v.value(), Long::sum));
        double instructions = 0;
        List<Cell.Mechanism> mechanisms = new ArrayList<>();
        for (Map.Entry<String, Long> delta : deltas.entrySet()) {
            String[] name = delta.getKey().split("\0", 2);
            double perOp = delta.getValue() / (double) operations;
            if (name[0].equals(Counters.INSTRUCTIONS)) {
                instructions += perOp;
            } else if (delta.getValue() != 0) {
                mechanisms.add(new Cell.Mechanism(name[0], name[1], perOp));
            }
        }
        mechanisms.sort(Comparator.comparingInt((Cell.Mechanism m) -> rank(m.family()))
                .thenComparingDouble(m -> -Math.abs(m.perOp())).thenComparing(Cell.Mechanism::label));
        return new Cell.Measured(strategy, guest, run.iterations(), cycles, instructions, List.copyOf(mechanisms),
                run.resultLines());
    }
}

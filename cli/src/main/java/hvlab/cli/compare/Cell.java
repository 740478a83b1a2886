package hvlab.cli.compare;

import java.util.List;

/** What one strategy gave for one workload. */
public sealed interface Cell {
    String strategy();

    /**
     * Modelled per-operation figures: (run − baseline run) / (iterations − baseline iterations).
     *
     * @param guest          the guest as {@code hvlab run --guest} names it
     * @param cyclesPerOp    CostModel cycles per operation
     * @param mechanisms     every counter but retired instructions, per operation, the most frequent first
     * @param resultLines    the run's masked result lines
     */
    record Measured(String strategy, String guest, long iterations, double cyclesPerOp, double instructionsPerOp,
            List<Mechanism> mechanisms, List<String> resultLines) implements Cell {

        /** This cost over native's; NaN where native's is not positive. */
        public double ratioTo(Measured nativeCell) {
            return nativeCell.cyclesPerOp() > 0 ? cyclesPerOp / nativeCell.cyclesPerOp() : Double.NaN;
        }

        /** Whether the guest printed what it printed natively: a cost is meaningless for a run that differs. */
        public boolean sameResultAs(Measured nativeCell) {
            return resultLines.equals(nativeCell.resultLines());
        }
    }

    /** One counter, per operation. */
    record Mechanism(String family, String event, double perOp) {
        public String label() {
            return family + "/" + event;
        }
    }

    record NotApplicable(String strategy, String reason) implements Cell { }

    record Failed(String strategy, String guest, String reason) implements Cell { }
}

package hvlab.cli.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The comparison as two plain-text tables for a terminal: costs per operation, then mechanisms per operation. */
public final class CompareTable {
    /** How many counters the mechanism table shows per run. */
    static final int TOP_MECHANISMS = 5;
    /** Smaller counts per operation round to 0.00: set-up and console work the baseline did not cancel. */
    static final double SHOWN_FROM = 0.005;

    private CompareTable() {
    }

    public static String format(List<String> strategies, List<Comparison.Row> rows) {
        StringBuilder out = new StringBuilder();
        out.append("Modelled cycles per operation (hvlab.hw.stats.CostModel), and the ratio to native\n\n");
        List<String> header = new ArrayList<>(List.of("workload", "iterations", strategies.getFirst()));
        for (String strategy : strategies.subList(1, strategies.size())) {
            header.addAll(List.of(strategy, "x native", "result"));
        }
        List<List<String>> costRows = new ArrayList<>(List.of(header));
        List<String> notes = new ArrayList<>();
        for (Comparison.Row row : rows) {
            costRows.add(costCells(row, notes));
        }
        appendTable(out, costRows, 1, Integer.MAX_VALUE);
        out.append("\ncycles per operation = (the run's modelled cycles - those of a run of ")
                .append(Comparison.BASELINE_ITERATIONS).append(" iteration)\n  / (the iterations the guest reported"
                        + " - ").append(Comparison.BASELINE_ITERATIONS).append("); the longer numbers the run prints"
                        + " leave a few console port\n  accesses in it. result: the guest's result lines against native's"
                        + " (time-dependent numbers masked).\n");
        notes.forEach(note -> out.append(note).append('\n'));

        out.append("\nMechanisms per operation (counter differences as above; top ").append(TOP_MECHANISMS)
                .append(" besides instructions:\nexits, hypercalls, traps and a plugin's own counters first, then the TLB's and"
                        + " emulated devices')\n\n");
        List<List<String>> mechanismRows = new ArrayList<>(
                List.of(List.of("workload", "strategy", "instructions", "family/event per operation")));
        for (Comparison.Row row : rows) {
            for (Cell cell : row.cells()) {
                if (cell instanceof Cell.Measured m) {
                    mechanismRows.add(List.of(row.workload(), m.strategy(), number(m.instructionsPerOp()),
                            mechanisms(m)));
                }
            }
        }
        appendTable(out, mechanismRows, 2, 3);
        return out.toString();
    }

    private static List<String> costCells(Comparison.Row row, List<String> notes) {
        List<String> cells = new ArrayList<>(List.of(row.workload(), iterations(row)));
        Cell.Measured nativeCell = row.nativeCell().orElse(null);
        for (Cell cell : row.cells()) {
            boolean reference = cell == row.cells().getFirst();
            switch (cell) {
                case Cell.Measured m when reference -> cells.add(number(m.cyclesPerOp()));
                case Cell.Measured m -> cells.addAll(List.of(number(m.cyclesPerOp()),
                        nativeCell == null ? "-" : ratio(m.ratioTo(nativeCell)),
                        nativeCell == null ? "-" : m.sameResultAs(nativeCell) ? "same" : "DIFFERENT"));
                case Cell.NotApplicable n -> {
                    notes.add("n/a: " + n.strategy() + " " + row.workload() + ": " + n.reason());
                    cells.addAll(reference ? List.of("n/a") : List.of("n/a", "-", "-"));
                }
                case Cell.Failed f -> {
                    notes.add("failed: " + f.strategy() + " " + f.guest() + ": " + f.reason());
                    cells.addAll(reference ? List.of("failed") : List.of("failed", "-", "-"));
                }
            }
        }
        return cells;
    }

    private static String iterations(Comparison.Row row) {
        return row.cells().stream().filter(Cell.Measured.class::isInstance).map(Cell.Measured.class::cast)
                .findFirst().map(m -> String.format(Locale.ROOT, "%,d", m.iterations())).orElse("-");
    }

    private static String mechanisms(Cell.Measured m) {
        String shown = m.mechanisms().stream().filter(mechanism -> Math.abs(mechanism.perOp()) >= SHOWN_FROM)
                .limit(TOP_MECHANISMS)
                .map(mechanism -> number(mechanism.perOp()) + " " + mechanism.label())
                .collect(Collectors.joining(", "));
        return shown.isEmpty() ? "-" : shown;
    }

    static String number(double value) {
        return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%,.0f" : "%.2f", value);
    }

    static String ratio(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.2fx", value);
    }

    /** Numbers are right-aligned; the columns before {@code numbersFrom} and from {@code textFrom} on are text. */
    private static void appendTable(StringBuilder out, List<List<String>> rows, int numbersFrom, int textFrom) {
        int columns = rows.stream().mapToInt(List::size).max().orElse(0);
        int[] widths = new int[columns];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                String cell = row.get(i);
                String padding = " ".repeat(widths[i] - cell.length());
                boolean text = i < numbersFrom || i >= textFrom;
                line.append(i == 0 ? "" : "  ").append(text ? cell + padding : padding + cell);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }
}

package hvlab.cli.bench;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.Set;

/** The results as a plain-text table with footnotes, for a terminal. */
public final class BenchTable {
    private static final List<String> HEADER = List.of("workload", "engine", "wall best", "wall mean", "start-up",
            "instructions", "MIPS best", "MIPS mean", "hvlab/this");
    /** Columns from this one on hold numbers and are right-aligned. */
    private static final int FIRST_NUMBER_COLUMN = 2;
    private static final String ROUGH = "~";

    private BenchTable() {
    }

    public static String format(List<BenchResult> results) {
        List<BenchResult.Measured> measured = results.stream()
                .filter(BenchResult.Measured.class::isInstance).map(BenchResult.Measured.class::cast).toList();
        int[] widths = HEADER.stream().mapToInt(String::length).toArray();
        for (BenchResult.Measured m : measured) {
            List<String> row = cells(m, results);
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder();
        appendRow(out, HEADER, widths);
        for (BenchResult result : results) {
            switch (result) {
                case BenchResult.Measured m -> appendRow(out, cells(m, results), widths);
                case BenchResult.Failed f -> out.append(pad(f.workload(), widths[0])).append("  ")
                        .append(pad(f.engine(), widths[1])).append("  failed: ").append(f.reason()).append('\n');
            }
        }
        Set<Counting> countings = EnumSet.noneOf(Counting.class);
        measured.forEach(m -> countings.add(m.counting()));
        appendFootnotes(out, countings, measured.stream().anyMatch(BenchResult.Measured::rough));
        return out.toString();
    }

    private static List<String> cells(BenchResult.Measured m, List<BenchResult> results) {
        String rough = m.rough() ? ROUGH : "";
        OptionalDouble ratio = BenchResult.hvlabRatio(results, m);
        return List.of(m.workload(), m.engine(), millis(m.bestWall()), millis(m.meanWall()), millis(m.meanStartup()),
                String.format(Locale.ROOT, "%,d%s", m.instructions(), m.counting().marker()),
                rough + mips(m.bestMips()), rough + mips(m.meanMips()),
                ratio.isPresent() ? String.format(Locale.ROOT, "%.2fx", ratio.getAsDouble()) : "-");
    }

    static String millis(Duration time) {
        return String.format(Locale.ROOT, "%.1f ms", time.toNanos() / 1e6);
    }

    static String mips(double mips) {
        return Double.isNaN(mips) ? "n/a" : String.format(Locale.ROOT, "%.1f", mips);
    }

    private static void appendRow(StringBuilder out, List<String> cells, int[] widths) {
        for (int i = 0; i < cells.size(); i++) {
            String cell = cells.get(i);
            String padding = " ".repeat(widths[i] - cell.length());
            out.append(i == 0 ? "" : "  ").append(i < FIRST_NUMBER_COLUMN ? cell + padding : padding + cell);
        }
        out.append('\n');
    }

    private static String pad(String text, int width) {
        return text + " ".repeat(Math.max(0, width - text.length()));
    }

    private static void appendFootnotes(StringBuilder out, Set<Counting> countings, boolean anyRough) {
        out.append("\nMIPS = guest instructions / (wall time - start-up); \"best\" from the fastest run, \"mean\" from"
                + " the mean time.\nhvlab runs in this JVM: its start-up is building the machine and mapping the ROM,"
                + " timed in each run\n(no JVM start). A peer's start-up is its best wall time on a ROM that exits"
                + " after 3 instructions.\nhvlab/this = hvlab's best MIPS / this engine's best MIPS.\n");
        if (countings.contains(Counting.TAKEN_FROM_HVLAB)) {
            out.append(Counting.TAKEN_FROM_HVLAB.marker()).append(" QEMU TCG does not count instructions: this is"
                    + " hvlab's exact count for the same ROM. QEMU's UART, like\n  hvlab's, sends each byte at once,"
                    + " so the guest takes the same path, up to timer interrupts (QEMU's PIT\n  follows the host"
                    + " clock).\n");
        }
        if (countings.contains(Counting.BOCHS_TICKS)) {
            out.append(Counting.BOCHS_TICKS.marker()).append(" Bochs's own count: its tick counter at the"
                    + " shutdown-port panic. Bochs sends at 115200 baud in virtual\n  time (1 M instructions a"
                    + " second here), so the guest polls LSR ~87 instructions per byte, and its 100 Hz\n  PIT"
                    + " interrupts every 10,000 instructions: the count runs a little above hvlab's, and those"
                    + " instructions\n  count in Bochs's MIPS. It also holds the ~40 instructions of the"
                    + " \"Shutdown\" write.\n");
        }
        if (anyRough) {
            out.append(ROUGH).append(" the fastest run spent under ").append(BenchResult.ROUGH_BELOW.toMillis())
                    .append(" ms past start-up, within start-up noise: a rough figure.\n");
        }
    }
}

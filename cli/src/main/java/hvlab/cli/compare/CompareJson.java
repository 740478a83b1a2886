package hvlab.cli.compare;

import hvlab.cli.bench.BenchJson;

import java.util.List;
import java.util.stream.Collectors;

/** The comparison as JSON, written by hand as {@link BenchJson} is, with its string and number literals. */
public final class CompareJson {
    private CompareJson() {
    }

    public static String format(List<String> strategies, List<Comparison.Row> rows) {
        String strategiesJson = strategies.stream().map(BenchJson::string).collect(Collectors.joining(", ", "[", "]"));
        String rowsJson = rows.stream().map(CompareJson::row).collect(Collectors.joining(",\n", "[\n", "\n  ]"));
        return "{\n  \"baseline_iterations\": " + Comparison.BASELINE_ITERATIONS + ",\n  \"strategies\": "
                + strategiesJson + ",\n  \"workloads\": " + rowsJson + "\n}\n";
    }

    private static String row(Comparison.Row row) {
        Cell.Measured nativeCell = row.nativeCell().orElse(null);
        return "    {\"workload\": " + BenchJson.string(row.workload()) + ", \"strategies\": "
                + row.cells().stream().map(cell -> "\n      " + cell(cell, nativeCell))
                .collect(Collectors.joining(",", "[", "]")) + "}";
    }

    private static String cell(Cell cell, Cell.Measured nativeCell) {
        String head = "{\"strategy\": " + BenchJson.string(cell.strategy());
        return switch (cell) {
            case Cell.NotApplicable n -> head + ", \"status\": \"n/a\", \"reason\": " + BenchJson.string(n.reason()) + "}";
            case Cell.Failed f -> head + ", \"guest\": " + BenchJson.string(f.guest())
                    + ", \"status\": \"failed\", \"reason\": " + BenchJson.string(f.reason()) + "}";
            case Cell.Measured m -> head + ", \"guest\": " + BenchJson.string(m.guest()) + ", \"status\": \"measured\""
                    + ", \"iterations\": " + m.iterations()
                    + ", \"cycles_per_operation\": " + BenchJson.number(m.cyclesPerOp())
                    + ", \"ratio_to_native\": " + (nativeCell == null ? "null" : BenchJson.number(m.ratioTo(nativeCell)))
                    + ", \"result_lines\": " + (nativeCell == null ? "null"
                            : m.sameResultAs(nativeCell) ? "\"same\"" : "\"different\"")
                    + ", \"instructions_per_operation\": " + BenchJson.number(m.instructionsPerOp())
                    + ", \"mechanisms_per_operation\": " + m.mechanisms().stream()
                            .map(x -> "{\"family\": " + BenchJson.string(x.family()) + ", \"event\": "
                                    + BenchJson.string(x.event()) + ", \"per_operation\": " + BenchJson.number(x.perOp())
                                    + "}")
                            .collect(Collectors.joining(", ", "[", "]")) + "}";
        };
    }
}

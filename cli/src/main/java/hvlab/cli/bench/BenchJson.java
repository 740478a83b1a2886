package hvlab.cli.bench;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.Collectors;

/**
 * The results as JSON. Written by hand: no JSON library is in the project's allowed dependency set, and this
 * shape (objects of strings, numbers and lists of numbers) needs only escaping and number formatting.
 */
public final class BenchJson {
    private BenchJson() {
    }

    /**
     * @param runs    runs per workload and engine
     * @param skipped engines not run, with the reason (e.g. not installed)
     */
    public static String format(int runs, Map<String, String> skipped, List<BenchResult> results) {
        String skippedJson = skipped.entrySet().stream()
                .map(e -> "{\"engine\": " + string(e.getKey()) + ", \"reason\": " + string(e.getValue()) + "}")
                .collect(Collectors.joining(", ", "[", "]"));
        String resultsJson = results.stream().map(r -> "    " + result(r, results))
                .collect(Collectors.joining(",\n", "[\n", "\n  ]"));
        return "{\n  \"runs\": " + runs + ",\n  \"skipped\": " + skippedJson + ",\n  \"results\": " + resultsJson
                + "\n}\n";
    }

    private static String result(BenchResult result, List<BenchResult> all) {
        String head = "{\"workload\": " + string(result.workload()) + ", \"engine\": " + string(result.engine());
        return switch (result) {
            case BenchResult.Failed f -> head + ", \"failure\": " + string(f.reason()) + "}";
            case BenchResult.Measured m -> head
                    + ", \"wall_ns\": " + nanos(m.wallTimes())
                    + ", \"startup_ns\": " + nanos(m.startupTimes())
                    + ", \"instructions\": " + m.instructions()
                    + ", \"instruction_count\": " + string(m.counting().id())
                    + ", \"mips_best\": " + number(m.bestMips())
                    + ", \"mips_mean\": " + number(m.meanMips())
                    + ", \"rough\": " + m.rough()
                    + ", \"hvlab_mips_ratio\": " + number(BenchResult.hvlabRatio(all, m)) + "}";
        };
    }

    private static String nanos(List<Duration> times) {
        return times.stream().map(t -> Long.toString(t.toNanos())).collect(Collectors.joining(", ", "[", "]"));
    }

    private static String number(OptionalDouble value) {
        return value.isPresent() ? number(value.getAsDouble()) : "null";
    }

    /** JSON has no NaN or infinity: a missing figure is null. */
    public static String number(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.3f", value) : "null";
    }

    /** A JSON string literal (RFC 8259 section 7). */
    public static String string(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}

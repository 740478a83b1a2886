package hvlab.hw.stats;

import java.util.List;
import java.util.Locale;

/** Counter values as a table for people and as JSON for tools, with the cost model's cycles beside each. */
public final class StatsReport {
    private StatsReport() {
    }

    /** One row per counter; the family and event columns are as wide as their longest entry. */
    public static String table(List<Counters.CounterValue> values) {
        int familyWidth = "family".length(), eventWidth = "event".length();
        for (Counters.CounterValue v : values) {
            familyWidth = Math.max(familyWidth, v.family().length());
            eventWidth = Math.max(eventWidth, v.key().length());
        }
        String row = "%-" + familyWidth + "s %-" + eventWidth + "s %16s %18s%n";
        String counted = "%-" + familyWidth + "s %-" + eventWidth + "s %,16d %,18d%n";
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, row, "family", "event", "count", "modelled cycles"));
        for (Counters.CounterValue v : values) {
            out.append(String.format(Locale.ROOT, counted, v.family(), v.key(), v.value(), CostModel.cycles(v)));
        }
        out.append(String.format(Locale.ROOT, "%-" + familyWidth + "s %-" + eventWidth + "s %16s %,18d%n", "total",
                "", "", CostModel.totalCycles(values)));
        return out.toString();
    }

    /** JSON by hand: the JDK has no JSON writer and the project's allowed libraries include none. */
    public static String json(List<Counters.CounterValue> values) {
        StringBuilder out = new StringBuilder("{\"counters\":[");
        for (int i = 0; i < values.size(); i++) {
            Counters.CounterValue v = values.get(i);
            out.append(i == 0 ? "" : ",").append("{\"family\":").append(quote(v.family()))
                    .append(",\"event\":").append(quote(v.key()))
                    .append(",\"count\":").append(v.value())
                    .append(",\"modelledCycles\":").append(CostModel.cycles(v)).append('}');
        }
        return out.append("],\"totalModelledCycles\":").append(CostModel.totalCycles(values)).append("}\n").toString();
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char ch : text.toCharArray()) {
            switch (ch) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        out.append(ch);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}

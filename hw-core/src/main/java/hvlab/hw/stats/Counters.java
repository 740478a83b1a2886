package hvlab.hw.stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The counters of one machine, by family ("exits", "hypercalls", "exceptions", "interrupts", "tlb", ...) and key
 * (an exit reason, a hypercall number, a vector). The machine and plugins count through the same registry, so
 * every strategy is measured the same way.
 */
public final class Counters {
    /** Families used across hvlab; plugins may add their own. */
    public static final String INSTRUCTIONS = "instructions", EXCEPTIONS = "exceptions", INTERRUPTS = "interrupts",
            TLB = "tlb", IO = "io", EXITS = "exits", HYPERCALLS = "hypercalls", TRANSLATIONS = "translations",
            WORLD_SWITCHES = "world switches", EVENTS = "events";

    private final Map<String, Map<String, Counter>> families = new LinkedHashMap<>();

    /** The counter for (family, key), created on first use. Take it once and keep it; don't look it up per event. */
    public Counter counter(String family, String key) {
        return families.computeIfAbsent(family, f -> new LinkedHashMap<>())
                .computeIfAbsent(key, k -> new Counter(family, k));
    }

    /** Every non-zero count, in the order families and keys were first used. */
    public List<CounterValue> snapshot() {
        List<CounterValue> values = new ArrayList<>();
        for (Map<String, Counter> family : families.values()) {
            for (Counter c : family.values()) {
                if (c.value != 0) {
                    values.add(new CounterValue(c.family(), c.key(), c.value));
                }
            }
        }
        return values;
    }

    public record CounterValue(String family, String key, long value) { }
}

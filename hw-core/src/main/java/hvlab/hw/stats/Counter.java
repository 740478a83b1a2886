package hvlab.hw.stats;

/**
 * One architectural event count. Whoever counts holds the instance (taken once, off the hot path) and bumps it
 * with a plain field increment: a machine runs on one thread, so no atomics are needed.
 */
public final class Counter {
    private final String family;
    private final String key;
    long value;

    Counter(String family, String key) {
        this.family = family;
        this.key = key;
    }

    public void increment() {
        value++;
    }

    public void add(long delta) {
        value += delta;
    }

    public long value() {
        return value;
    }

    public String family() {
        return family;
    }

    public String key() {
        return key;
    }
}

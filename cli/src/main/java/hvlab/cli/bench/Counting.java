package hvlab.cli.bench;

/** Where an engine's instruction count comes from. */
public enum Counting {
    /** hvlab counts every retired instruction: exact. */
    HVLAB("hvlab", ""),
    /** Bochs's tick counter at the shutdown-port panic: exact for what Bochs ran (see {@code Bochs}). */
    BOCHS_TICKS("bochs-ticks", "#"),
    /** QEMU TCG does not count, so the row takes hvlab's count for the same ROM. */
    TAKEN_FROM_HVLAB("taken-from-hvlab", "*");

    private final String id;
    private final String marker;

    Counting(String id, String marker) {
        this.id = id;
        this.marker = marker;
    }

    /** The name in the JSON output. */
    public String id() {
        return id;
    }

    /** The footnote mark after the count in the table. */
    public String marker() {
        return marker;
    }
}

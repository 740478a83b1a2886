package hvlab.hw.clock;

/**
 * The one source of time in a machine. It advances only when the machine says so (by retired instructions, or by
 * skipping ahead while the CPU is halted), so every run of the same guest is deterministic.
 */
public final class VirtualClock {
    private long nanos;

    public long nanos() {
        return nanos;
    }

    /** Moves time forward; time never goes back. */
    public void advanceTo(long newNanos) {
        if (newNanos > nanos) {
            nanos = newNanos;
        }
    }

    /** Restores a captured time (snapshots). */
    public void restore(long capturedNanos) {
        nanos = capturedNanos;
    }
}

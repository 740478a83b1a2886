package hvlab.hw.device;

/**
 * A crystal feeding a part (the PIT's 1.193182 MHz, the RTC's 32.768 kHz): converts virtual nanoseconds to whole
 * ticks and back, exactly. Splitting time into seconds and a remainder keeps every product below 2^63, so there is
 * no rounding drift however long the machine runs.
 */
public record Oscillator(long hertz) {
    public static final long NANOS_PER_SECOND = 1_000_000_000L;
    public static final long NEVER = Long.MAX_VALUE;

    public Oscillator {
        if (hertz <= 0 || hertz > NANOS_PER_SECOND) {
            throw new IllegalArgumentException("oscillator frequency must be in 1 Hz..1 GHz: " + hertz);
        }
    }

    /** Ticks completed by {@code nanos}: floor(nanos * hertz / 1e9). */
    public long ticksAt(long nanos) {
        long seconds = Math.floorDiv(nanos, NANOS_PER_SECOND);
        long remainder = Math.floorMod(nanos, NANOS_PER_SECOND);
        return seconds * hertz + remainder * hertz / NANOS_PER_SECOND;
    }

    /** The first instant at which tick number {@code tick} has happened: the least t with ticksAt(t) >= tick. */
    public long nanosAt(long tick) {
        if (tick == NEVER) {
            return NEVER;
        }
        long seconds = Math.floorDiv(tick, hertz);
        long remainder = Math.floorMod(tick, hertz);
        if (seconds >= NEVER / NANOS_PER_SECOND) {
            return NEVER;
        }
        return seconds * NANOS_PER_SECOND + Math.ceilDiv(remainder * NANOS_PER_SECOND, hertz);
    }
}

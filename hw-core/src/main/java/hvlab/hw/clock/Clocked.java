package hvlab.hw.clock;

/** A device with events in virtual time (a timer that raises an interrupt when it expires). */
public interface Clocked {
    long NO_EVENT = Long.MAX_VALUE;

    /** Virtual time in ns of this device's next event, or {@link #NO_EVENT}. */
    long nextEventNanos();

    /** Brings the device up to virtual time {@code nowNanos}, firing every event due by then. */
    void advanceTo(long nowNanos);
}

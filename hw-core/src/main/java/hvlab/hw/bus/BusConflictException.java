package hvlab.hw.bus;

/** A machine was composed with two devices claiming the same addresses: a wiring error, raised while building. */
public final class BusConflictException extends IllegalStateException {
    public BusConflictException(String message) {
        super(message);
    }
}

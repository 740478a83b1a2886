package hvlab.hw.irq;

/** One interrupt request wire from a device to an interrupt controller input. */
@FunctionalInterface
public interface IrqLine {
    /** Drives the wire high (true) or low (false); edge-triggered inputs latch on the low-to-high change. */
    void set(boolean high);

    default void raise() {
        set(true);
    }

    default void lower() {
        set(false);
    }

    /** A line wired to nothing. */
    IrqLine NONE = high -> { };
}

package hvlab.hw.irq;

/** What the CPU's INTR input sees: whether a maskable interrupt is pending, and its acknowledge cycle. */
public interface InterruptController {
    boolean hasPendingInterrupt();

    /** The INTA cycle: returns the vector and moves the request into service. */
    int acknowledge();
}

package hvlab.hw.irq;

/** What the CPU's INTR input sees: whether a maskable interrupt is pending, and its acknowledge cycle. */
public interface InterruptController {
    boolean hasPendingInterrupt();

    /** The INTA cycle: returns the vector and moves the request into service. */
    int acknowledge();

    /** A controller with nothing wired to it: no interrupt is ever pending. */
    InterruptController NONE = new InterruptController() {
        @Override
        public boolean hasPendingInterrupt() {
            return false;
        }

        @Override
        public int acknowledge() {
            throw new IllegalStateException("INTA with no interrupt pending on an unwired controller");
        }
    };
}

package hvlab.hw.device;

import hvlab.hw.irq.InterruptController;

/** An 8259A stand-in for tests: one pending vector or none; an empty INTA answers IR7 of base 0x08. */
public final class StubInterruptController implements InterruptController {
    private int pendingVector = -1;

    public StubInterruptController() {
    }

    public void request(int vector) {
        pendingVector = vector;
    }

    @Override
    public boolean hasPendingInterrupt() {
        return pendingVector >= 0;
    }

    @Override
    public int acknowledge() {
        int vector = pendingVector < 0 ? 0x0F : pendingVector;
        pendingVector = -1;
        return vector;
    }
}

package hvlab.hw.cpu;

/** Architectural event counts kept by the CPU: exceptions and interrupts by vector, TLB flushes, page walks, EPT walks. */
public final class CpuCounters {
    final long[] exceptionsByVector = new long[32];
    final long[] interruptsByVector = new long[256];
    final long[] softwareInterruptsByVector = new long[256];
    long tlbFlushes, tlbPageInvalidations, pageWalks, eptWalks, ioInstructions;

    void exception(int vector) {
        if (vector >= 0 && vector < 32) {
            exceptionsByVector[vector]++;
        }
    }

    void interrupt(int vector) {
        interruptsByVector[vector & 0xFF]++;
    }

    void softwareInterrupt(int vector) {
        softwareInterruptsByVector[vector & 0xFF]++;
    }

    public long exceptions(int vector) {
        return exceptionsByVector[vector];
    }

    /** External (hardware) interrupts taken, by vector. */
    public long interrupts(int vector) {
        return interruptsByVector[vector & 0xFF];
    }

    /** INT n, INT3, INTO and INT1 executed, by vector. */
    public long softwareInterrupts(int vector) {
        return softwareInterruptsByVector[vector & 0xFF];
    }

    public long tlbFlushes() {
        return tlbFlushes;
    }

    public long tlbPageInvalidations() {
        return tlbPageInvalidations;
    }

    public long pageWalks() {
        return pageWalks;
    }

    /** Guest-physical addresses translated through EPT (SDM Vol. 3C, 28.2.2): one per walk, not per access. */
    public long eptWalks() {
        return eptWalks;
    }

    public long ioInstructions() {
        return ioInstructions;
    }
}

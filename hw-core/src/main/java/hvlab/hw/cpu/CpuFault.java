package hvlab.hw.cpu;

/**
 * Unwinds the interpreter from the point of a guest fault to the instruction boundary, where the exception is
 * delivered. One preallocated, stackless instance: faults are the cold path, and a guest fault must never cost a
 * stack trace or an allocation.
 */
final class CpuFault extends RuntimeException {
    static final CpuFault INSTANCE = new CpuFault();

    private CpuFault() {
        super("guest fault", null, false, false);
    }
}

package hvlab.hw.cpu;

/**
 * The CPU's pins towards the rest of the machine that are not memory or I/O: what a real processor learns from its
 * socket (interrupt acknowledge goes through {@link hvlab.hw.irq.InterruptController}; these are the rest).
 */
public interface CpuHost {
    /** The processor entered the shutdown state (triple fault, SDM 6.15 "Interrupt 8 — Double Fault"). */
    void shutdown(String reason);

    /** Model-specific registers the CPU forwards to the platform (e.g. IA32_APIC_BASE); unknown ones raise #GP. */
    default long readPlatformMsr(int index) {
        throw new UnknownMsrException();
    }

    default void writePlatformMsr(int index, long value) {
        throw new UnknownMsrException();
    }

    /** Thrown by a host for an MSR it does not implement; the CPU turns it into #GP(0). */
    final class UnknownMsrException extends RuntimeException {
        public UnknownMsrException() {
            super(null, null, false, false);
        }
    }
}

package hvlab.spi;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.RunOutcome;

/** One hypervisor instance on one machine, hosting one guest domain. */
public interface Hypervisor extends AutoCloseable {
    /** Builds the guest's domain from its image and leaves the CPU ready to run it. */
    void boot(GuestImage image) throws BootImageException;

    /** Runs the guest until it ends or the budget is spent; routine exits are handled inside. */
    RunOutcome run(long maxInstructions);

    @Override
    default void close() {
    }
}

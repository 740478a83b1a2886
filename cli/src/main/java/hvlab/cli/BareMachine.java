package hvlab.cli;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;

/**
 * {@code native}: no hypervisor at all, the guest runs on the machine itself; the baseline every strategy is
 * measured against. Shaped as a {@link Hypervisor} so that {@code hvlab run} drives every choice the same way.
 */
record BareMachine(Machine machine) implements Hypervisor {
    @Override
    public void boot(GuestImage image) throws BootImageException {
        machine.boot(image);
    }

    @Override
    public RunOutcome run(long maxInstructions) {
        return machine.run(maxInstructions);
    }
}

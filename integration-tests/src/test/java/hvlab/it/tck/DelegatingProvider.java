package hvlab.it.tck;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.RunOutcome;
import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.GuestImage;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.HypervisorType;
import hvlab.spi.MachineDescription;

import java.util.Set;

/**
 * A well-behaved test provider: its hypervisor runs the guest on the bare machine it is given, so it must pass
 * every required rule. Broken providers subclass it and misbehave after each run in {@link #afterRun}.
 */
class DelegatingProvider implements HypervisorProvider {
    @Override
    public String id() {
        return "delegating";
    }

    @Override
    public String description() {
        return "test double: the guest runs on the bare machine";
    }

    @Override
    public HypervisorType type() {
        return HypervisorType.TYPE_1;
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of(Capability.UNMODIFIED_GUESTS);
    }

    @Override
    public Availability probe(MachineDescription machine) {
        return Availability.available();
    }

    @Override
    public Hypervisor create(HostContext context) {
        return new Hypervisor() {
            @Override
            public void boot(GuestImage image) throws BootImageException {
                context.machine().boot(image);
            }

            @Override
            public RunOutcome run(long maxInstructions) {
                RunOutcome outcome = context.machine().run(maxInstructions);
                afterRun(context);
                return outcome;
            }
        };
    }

    /** Where a broken provider misbehaves; a good one does nothing. */
    void afterRun(HostContext context) {
    }
}

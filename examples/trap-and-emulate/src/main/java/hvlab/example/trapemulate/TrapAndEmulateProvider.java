package hvlab.example.trapemulate;

import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.HypervisorType;
import hvlab.spi.MachineDescription;
import hvlab.spi.VirtualizationLimit;

import java.util.EnumSet;
import java.util.Set;

/** Classic trap-and-emulate on IA-32, with the holes the architecture leaves it declared as data. */
public final class TrapAndEmulateProvider implements HypervisorProvider {
    /** RAM the guest needs besides the monitor's 4 MiB: the lab kernel wants 8 MiB. */
    private static final long MINIMUM_RAM = MonitorLayout.SIZE + (8L << 20);

    @Override
    public String id() {
        return "trap-emulate";
    }

    @Override
    public String description() {
        return "classic trap-and-emulate: guest kernel in ring 1, shadow page tables (example plugin, IA-32 holes"
                + " declared)";
    }

    @Override
    public HypervisorType type() {
        return HypervisorType.TYPE_1;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.TRAP_AND_EMULATE, Capability.SHADOW_PAGING, Capability.UNMODIFIED_GUESTS);
    }

    /**
     * What runs untrapped at ring 1 and 3 and shows the guest the real machine (Robin &amp; Irvine's list), the top
     * 4 MiB the monitor keeps, and the two features this monitor leaves out. SMSW is not among them: the monitor
     * mirrors the guest's MP, EM, TS and NE into the real CR0.
     */
    @Override
    public Set<VirtualizationLimit> knownLimits() {
        return EnumSet.complementOf(EnumSet.of(VirtualizationLimit.SMSW));
    }

    @Override
    public Availability probe(MachineDescription machine) {
        if (machine.cpus() != 1) {
            return Availability.unavailable("trap-and-emulate runs one CPU; the machine has " + machine.cpus());
        }
        if (machine.ramBytes() < MINIMUM_RAM) {
            return Availability.unavailable("trap-and-emulate needs " + (MINIMUM_RAM >> 20) + " MiB of RAM (4 MiB"
                    + " for the monitor); the machine has " + (machine.ramBytes() >> 20));
        }
        return Availability.available();
    }

    @Override
    public Hypervisor create(HostContext context) {
        return new TrapAndEmulateMonitor(context);
    }
}

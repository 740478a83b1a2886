package hvlab.hv.xenpv;

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

/** Xen-style paravirtualization: PV kernels (lab-pv:NAME) in ring 1 under a Xen in ring 0 and the top 64 MiB. */
public final class XenPvProvider implements HypervisorProvider {
    private static final long MINIMUM_RAM = 64L << 20;

    @Override
    public String id() {
        return "xen-pv";
    }

    @Override
    public String description() {
        return "Xen-style paravirtualization (x86_32 PV ABI, non-PAE): PV kernels such as lab-pv:NAME in ring 1";
    }

    @Override
    public HypervisorType type() {
        return HypervisorType.TYPE_1;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.PARAVIRT_HYPERCALLS, Capability.PARAVIRTUALIZED_GUESTS,
                Capability.MULTIPLE_DOMAINS);
    }

    /**
     * Where a PV domain's machine differs from a PC, by design: Xen holds the top 64 MiB, ring 0, the interrupt
     * hardware, and the real descriptor tables that SGDT, SIDT and STR show (the kernel's own are Xen's copies).
     */
    @Override
    public Set<VirtualizationLimit> knownLimits() {
        return EnumSet.of(VirtualizationLimit.MONITOR_ADDRESS_SPACE, VirtualizationLimit.RING_COMPRESSION,
                VirtualizationLimit.INTERRUPT_HARDWARE, VirtualizationLimit.SGDT, VirtualizationLimit.SIDT,
                VirtualizationLimit.STR);
    }

    @Override
    public Availability probe(MachineDescription machine) {
        if (machine.cpus() != 1) {
            return Availability.unavailable("xen-pv runs one CPU so far; the machine has " + machine.cpus());
        }
        if (machine.ramBytes() < MINIMUM_RAM) {
            return Availability.unavailable("xen-pv needs " + (MINIMUM_RAM >> 20) + " MiB of RAM (8 for Xen, 32 for"
                    + " a domain, 16 below them); the machine has " + (machine.ramBytes() >> 20));
        }
        return Availability.available();
    }

    @Override
    public Hypervisor create(HostContext context) {
        return new Xen(context);
    }
}

package hvlab.hv.vtx;

import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.HypervisorType;
import hvlab.spi.MachineDescription;

import java.util.EnumSet;
import java.util.Set;

/**
 * Intel VT-x: the unmodified lab kernel in VMX non-root operation. {@code vtx} virtualizes its memory with shadow
 * page tables (or EPT, with {@code -Dhvlab.vtx.memory=ept}); {@link VtxEptProvider {@code vtx-ept}} always with EPT.
 */
public sealed class VtxProvider implements HypervisorProvider permits VtxEptProvider {
    /** RAM the guest needs besides the hypervisor's 4 MiB: the lab kernel wants 8 MiB. */
    private static final long MINIMUM_RAM = VmmLayout.SIZE + (8L << 20);

    /** The mode, or null: the one {@link MemoryMode#configured()} names when the hypervisor is created. */
    private final MemoryMode mode;

    public VtxProvider() {
        this(null);
    }

    VtxProvider(MemoryMode mode) {
        this.mode = mode;
    }

    @Override
    public String id() {
        return mode == MemoryMode.EPT ? "vtx-ept" : "vtx";
    }

    @Override
    public String description() {
        return mode == MemoryMode.EPT ? "Intel VT-x with EPT: unmodified guests, the processor walks extended page"
                + " tables" : "Intel VT-x: unmodified guests in VMX non-root operation, shadow page tables";
    }

    @Override
    public HypervisorType type() {
        return HypervisorType.TYPE_1;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.VMX, mode == MemoryMode.EPT ? Capability.EPT : Capability.SHADOW_PAGING,
                Capability.UNMODIFIED_GUESTS, Capability.MULTIPLE_DOMAINS);
    }

    @Override
    public Availability probe(MachineDescription machine) {
        if (machine.cpus() != 1) {
            return Availability.unavailable("vtx runs one CPU; the machine has " + machine.cpus());
        }
        if (machine.ramBytes() < MINIMUM_RAM) {
            return Availability.unavailable("vtx needs " + (MINIMUM_RAM >> 20) + " MiB of RAM (4 MiB for the"
                    + " hypervisor); the machine has " + (machine.ramBytes() >> 20));
        }
        return Availability.available();
    }

    @Override
    public Hypervisor create(HostContext context) {
        return new VtxHypervisor(context, mode != null ? mode : MemoryMode.configured());
    }
}

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
                Capability.MULTIPLE_DOMAINS, Capability.DOMAIN_WEIGHTS);
    }

    /**
     * Where a PV domain's machine differs from a PC, by design: Xen holds the top 64 MiB, ring 0, the interrupt
     * hardware, and the real descriptor tables that SGDT, SIDT and STR show (the kernel's own are Xen's copies).
     * Ring compression shows through Robin &amp; Irvine's instructions in the kernel (lab-pv:robin-irvine): PUSHF shows
     * the real IF (never cleared, the event mask is in memory) and POPF cannot change IF or IOPL from ring 1; MOV and
     * PUSH CS show RPL 1; LAR shows the DPL 1 Xen gave the kernel's descriptors and LSL their limits cut below Xen;
     * INT3 reaches the kernel's handler whatever DPL it asked for (Xen's gate 3 is DPL 3, [X32] traps.c do_int3);
     * a call gate to the kernel's code lands in ring 1. Ring compression also keeps CR0.WP set (Xen's emulation of
     * MOV to CR0 changes only TS, [X32] traps.c emulate_privileged_op). Xen does not virtualise x86 tasking: a
     * guest's GDT takes no TSS or task gate ([X32] x86_32/mm.c check_descriptor). Virtual-8086 mode is entered only
     * by the iret hypercall, which strips IOPL ([X32] x86_32/traps.c do_iret); hvlab's Xen refuses it so far.
     */
    @Override
    public Set<VirtualizationLimit> knownLimits() {
        return EnumSet.of(VirtualizationLimit.MONITOR_ADDRESS_SPACE, VirtualizationLimit.RING_COMPRESSION,
                VirtualizationLimit.INTERRUPT_HARDWARE, VirtualizationLimit.SGDT, VirtualizationLimit.SIDT,
                VirtualizationLimit.STR, VirtualizationLimit.PUSHF, VirtualizationLimit.POPF,
                VirtualizationLimit.MOV_SEGMENT_REGISTER, VirtualizationLimit.PUSH_SEGMENT_REGISTER,
                VirtualizationLimit.LAR, VirtualizationLimit.LSL, VirtualizationLimit.INT_N,
                VirtualizationLimit.CALL_FAR, VirtualizationLimit.HARDWARE_TASK_SWITCH,
                VirtualizationLimit.VIRTUAL_8086_MODE);
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

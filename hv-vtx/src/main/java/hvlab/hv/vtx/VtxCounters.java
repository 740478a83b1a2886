package hvlab.hv.vtx;

import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;

/**
 * VM exits by reason and events injected on VM entry (by vector), in the machine's registry; counters are made on
 * first use. Beside other VMs, a VM's exits are counted in its own family too ("domain dN", as xen-pv names its
 * domains' counters), with its time slices.
 */
final class VtxCounters {
    static final String INJECTED = "injected events";

    private final Counters counters;
    private final Counter[] exits = new Counter[66];
    private final Counter[] exceptions = new Counter[32];
    private final Counter[] interrupts = new Counter[256];
    /** The VM's own family, or null when it runs alone. */
    private final String vmFamily;
    private final Counter[] vmExits = new Counter[66];
    private final Counter slices;

    VtxCounters(Counters counters) {
        this(counters, null);
    }

    VtxCounters(Counters counters, String vmFamily) {
        this.counters = counters;
        this.vmFamily = vmFamily;
        this.slices = vmFamily == null ? null : counters.counter(vmFamily, "time slices");
    }

    /** The family of VM {@code id}'s own counters. */
    static String vmFamily(int id) {
        return "domain d" + id;
    }

    void exit(int reason) {
        count(exits, Counters.EXITS, reason);
        if (vmFamily != null) {
            count(vmExits, vmFamily, reason);
        }
    }

    private void count(Counter[] byReason, String family, int reason) {
        int basic = reason & 0xFFFF;
        if (basic >= byReason.length) {
            counters.counter(family, CostModel.VMX_EXIT_PREFIX + ExitReason.name(reason)).increment();
            return;
        }
        if (byReason[basic] == null) {
            byReason[basic] = counters.counter(family, CostModel.VMX_EXIT_PREFIX + ExitReason.name(reason));
        }
        byReason[basic].increment();
    }

    /** The VM was given a time slice, able to run. */
    void slice() {
        if (slices != null) {
            slices.increment();
        }
    }

    /** An external interrupt from the virtual devices, injected on VM entry. */
    void injectedInterrupt(int vector) {
        if (interrupts[vector] == null) {
            interrupts[vector] = counters.counter(INJECTED, "external interrupt 0x" + Integer.toHexString(vector));
        }
        interrupts[vector].increment();
    }

    void injected(int vector) {
        if (exceptions[vector] == null) {
            exceptions[vector] = counters.counter(INJECTED, "exception " + vector);
        }
        exceptions[vector].increment();
    }
}

package hvlab.hv.vtx;

import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;

/**
 * VM exits by reason and events injected on VM entry (by vector), in the machine's registry; counters are made on
 * first use.
 */
final class VtxCounters {
    static final String INJECTED = "injected events";

    private final Counters counters;
    private final Counter[] exits = new Counter[66];
    private final Counter[] exceptions = new Counter[32];
    private final Counter[] interrupts = new Counter[256];

    VtxCounters(Counters counters) {
        this.counters = counters;
    }

    void exit(int reason) {
        int basic = reason & 0xFFFF;
        if (basic >= exits.length) {
            counters.counter(Counters.EXITS, CostModel.VMX_EXIT_PREFIX + ExitReason.name(reason)).increment();
            return;
        }
        if (exits[basic] == null) {
            exits[basic] = counters.counter(Counters.EXITS, CostModel.VMX_EXIT_PREFIX + ExitReason.name(reason));
        }
        exits[basic].increment();
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

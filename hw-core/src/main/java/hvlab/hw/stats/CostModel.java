package hvlab.hw.stats;

import java.util.List;

/**
 * Turns event counts into modelled cycles, so strategies can be compared on one scale independent of how fast the
 * Java model runs. Each constant cites where its value comes from ({@code ../shared/reference/perf-anchors.md});
 * cycles are those of the paper's machine (a 3.8 GHz Pentium 4 for Adams and Agesen).
 */
public final class CostModel {
    /** One cycle per instruction: the baseline of an in-order machine; the paper's call/ret costs 11 for two. */
    public static final long CYCLES_PER_INSTRUCTION = 1;
    /**
     * A native fault through the IDT and back by IRET: divzero costs 889 cycles natively (Adams and Agesen,
     * ASPLOS 2006, Figure 4).
     */
    public static final long NATIVE_EXCEPTION = 889;
    /** A native page fault including the handler's work: 1,093 cycles (Adams and Agesen 2006, Figure 4, pgfault). */
    public static final long NATIVE_PAGE_FAULT = 1_093;
    /** A native system call round trip: 242 cycles (Adams and Agesen 2006, Figure 4, syscall). */
    public static final long NATIVE_SOFTWARE_INTERRUPT = 242;
    /** An IN from an off-CPU chipset register: 3,209 cycles (Adams and Agesen 2006, Figure 4, in). */
    public static final long NATIVE_IO = 3_209;
    /** An external interrupt taken and dismissed: modelled as a fault delivery (Adams and Agesen 2006, divzero). */
    public static final long NATIVE_INTERRUPT = 889;
    /**
     * A VT-x exit and re-entry with the VMM's handling, on first-generation VT-x: `in` costs 15,826 cycles under
     * the hardware VMM and 3,209 natively, the difference being one exit round trip (Adams and Agesen 2006,
     * Figure 4 and its text).
     */
    public static final long VMX_EXIT_ROUND_TRIP = 15_826 - 3_209;
    /** How VT-x plugins name their exit counters ({@link Counters#EXITS}), so the model can price them. */
    public static final String VMX_EXIT_PREFIX = "VM exit: ";

    /**
     * One transition through Xen on the model's scale: Barham et al. (SOSP 2003, Table 5, lmbench page fault on a
     * 2.4 GHz Xeon) measured 1.42 us native and 2.73 us under Xen, the difference being two transitions through Xen
     * (the fault bounced to the guest, the hypercall that maps the page; ../shared/reference/perf-anchors.md 2b).
     * Half that difference relative to the native fault, times the native fault's 1,093 cycles: 504.
     */
    public static final long XEN_TRANSITION = Math.round(NATIVE_PAGE_FAULT * (2.73 - 1.42) / 2 / 1.42);
    /**
     * Xen's work in a hypercall beyond the trap: the model already prices the {@code int 0x82} round trip as a
     * software interrupt (242), so a hypercall adds the rest of one transition.
     */
    public static final long XEN_HYPERCALL = XEN_TRANSITION - NATIVE_SOFTWARE_INTERRUPT;
    /** How xen-pv names a fault it bounced to the guest's handler ({@link Counters#EXITS}): one transition. */
    public static final String PV_BOUNCE_PREFIX = "bounced to the guest: ";
    /** How xen-pv names a privileged instruction it emulated after the #GP: one transition beyond the #GP. */
    public static final String PV_EMULATION_PREFIX = "emulated after #GP: ";

    /**
     * Xen switching the CPU from one domain to another (its context_switch: registers saved and loaded, CR3 written,
     * so the non-global TLB flushed, GDT entries and kernel stack reloaded): the work of a native process switch,
     * which lmbench's 2p/0K context switch measures at 0.77 us on the paper's uniprocessor Linux (Barham et al.,
     * SOSP 2003, Table 4, L-UP; [R] in ../shared/reference/perf-anchors.md 2b), put on the model's scale as {@link
     * #XEN_TRANSITION} is (1.42 us = 1,093 cycles): 593. Entering Xen (the tick, a block) is priced by its cause.
     */
    public static final long DOMAIN_SWITCH = Math.round(NATIVE_PAGE_FAULT * 0.77 / 1.42);
    /** How xen-pv counts a switch between domains ({@link Counters#WORLD_SWITCHES}). */
    public static final String DOMAIN_SWITCH_KEY = "domain switch";
    /**
     * An event upcall: Xen builds a bounce frame to the guest's event callback and returns to it ([X32]
     * x86_32/entry.S test_guest_events, create_bounce_frame), the same exit to the guest as a bounced fault. No
     * paper measures it alone, so it is priced as one {@link #XEN_TRANSITION}, derived from the page-fault figures;
     * the entry into Xen that raised the event (an interrupt, a hypercall) is priced by its own counter.
     */
    public static final long EVENT_UPCALL = XEN_TRANSITION;
    /** How xen-pv counts upcalls ({@link Counters#EVENTS}). */
    public static final String UPCALL_KEY = "upcalls delivered";

    private CostModel() {
    }

    /** The modelled cycles of one counter value; events the model does not price cost nothing extra. */
    public static long cycles(Counters.CounterValue value) {
        long perEvent = switch (value.family()) {
            case Counters.INSTRUCTIONS -> CYCLES_PER_INSTRUCTION;
            case Counters.EXCEPTIONS -> value.key().equals("#PF") ? NATIVE_PAGE_FAULT : NATIVE_EXCEPTION;
            case Counters.INTERRUPTS -> value.key().startsWith("software") ? NATIVE_SOFTWARE_INTERRUPT : NATIVE_INTERRUPT;
            case Counters.IO -> NATIVE_IO;
            case Counters.EXITS -> value.key().startsWith(VMX_EXIT_PREFIX) ? VMX_EXIT_ROUND_TRIP
                    : value.key().startsWith(PV_BOUNCE_PREFIX) || value.key().startsWith(PV_EMULATION_PREFIX)
                            ? XEN_TRANSITION : 0;
            case Counters.HYPERCALLS -> XEN_HYPERCALL;
            case Counters.WORLD_SWITCHES -> value.key().equals(DOMAIN_SWITCH_KEY) ? DOMAIN_SWITCH : 0;
            case Counters.EVENTS -> value.key().equals(UPCALL_KEY) ? EVENT_UPCALL : 0;
            default -> 0;
        };
        return perEvent * value.value();
    }

    public static long totalCycles(List<Counters.CounterValue> values) {
        long total = 0;
        for (Counters.CounterValue v : values) {
            total += cycles(v);
        }
        return total;
    }
}

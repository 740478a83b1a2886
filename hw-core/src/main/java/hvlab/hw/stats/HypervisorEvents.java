package hvlab.hw.stats;

import jdk.jfr.EventType;

/**
 * JFR events plugins emit beside their counters: {@code hvlab.VmExit} and {@code hvlab.Hypercall}, both off by
 * default. Off, a call costs one volatile read and allocates nothing; enable them in a recording, e.g.
 * {@code jcmd PID JFR.start settings=profile +hvlab.VmExit#enabled=true}, or {@code Recording.enable("hvlab.VmExit")}.
 */
public final class HypervisorEvents {
    private static final EventType VM_EXIT = EventType.getEventType(VmExitEvent.class);
    private static final EventType HYPERCALL = EventType.getEventType(HypercallEvent.class);

    private HypervisorEvents() {
    }

    /** Records a VM exit when a recording wants it; the reason as the exit counter's key names it. */
    public static void vmExit(String reason, int guestEip) {
        if (VM_EXIT.isEnabled()) {
            VmExitEvent event = new VmExitEvent();
            event.reason = reason;
            event.guestEip = guestEip;
            event.commit();
        }
    }

    /** Records a hypercall when a recording wants it. */
    public static void hypercall(int number, int guestEip) {
        if (HYPERCALL.isEnabled()) {
            HypercallEvent event = new HypercallEvent();
            event.number = number;
            event.guestEip = guestEip;
            event.commit();
        }
    }
}

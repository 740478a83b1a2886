package hvlab.hv.xenpv.domain;

import hvlab.hv.xenpv.events.EventChannels;
import hvlab.hv.xenpv.sched.CreditScheduler;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;
import hvlab.spi.DomainConsole;


/**
 * One guest domain's state that Xen keeps ([X32] struct domain and its vcpu): its frames, its virtual IDT (the trap
 * table), callbacks, the kernel stack for entries from ring 3, its shared_info frame and page-table base, its event
 * channels, and its vCPU's registers while another domain has the CPU.
 */
public final class Domain {
    /** Values of {@link #shutdownReason}: still running, else SHUTDOWN_poweroff (0) .. SHUTDOWN_crash (3). */
    public static final int RUNNING = -1, SHUTDOWN_CRASH = 3;

    public final int id;
    public final int firstFrame;
    public final int pages;
    public final int sharedInfoFrame;
    /** trap_info by vector: flags (DPL and mask-events), code selector, handler; address 0 = none. */
    public final int[] trapFlags = new int[256];
    public final int[] trapSelector = new int[256];
    public final int[] trapAddress = new int[256];
    public int kernelStackSegment;
    public int kernelStackPointer;
    public int eventSelector, eventAddress, failsafeSelector, failsafeAddress;
    public int baseTable = -1;
    /** The virtual IOPL of PHYSDEVOP_set_iopl: the real IOPL stays 0, Xen emulates port I/O it allows. */
    public int virtualIopl;
    /** The reservation: pages held now and the most it may hold (fixed at creation). */
    public int currentPages, maximumPages;
    /** The frames of the GDT installed by set_gdt, and its entry count. */
    public int[] gdtFrames = new int[0];
    public int gdtEntries;
    /** The one-shot timer of set_timer_op, in system time (ns); 0 = none. */
    public long timerDeadline;
    /** SCHEDOP_poll's timeout, in system time (ns); 0 = none or not polling. */
    public long pollDeadline;
    public EventChannels events;

    // ---- the vCPU while it is not on the CPU (Xen's vcpu_guest_context) ----
    /** EAX..EDI by the CPU's register numbers; ESP is the frame's. */
    public final int[] registers = new int[8];
    /** The interrupted context: what the IRET back to the guest takes. */
    public int eip, cs, eflags, esp, ss;
    /** ES, CS (unused), SS (unused), DS, FS, GS selectors by the CPU's segment numbers. */
    public final int[] segments = new int[6];
    /** CR2 as this domain's last page fault left it (Xen's ctrlreg[2]): never another domain's fault address. */
    public int cr2;
    /** The virtual CR0.TS of fpu_taskswitch; the FPU registers while another domain's are loaded. */
    public boolean virtualTaskSwitched;
    public CpuState.FpuState fpu = CpuState.FpuState.RESET;
    /** The vCPU in the credit scheduler. */
    public CreditScheduler.Vcpu vcpu;
    /** {@link #RUNNING}, or the SCHEDOP_shutdown reason it ended with. */
    public int shutdownReason = RUNNING;
    /** The toolstack asked Xen to destroy the domain; done at Xen's next entry. */
    public boolean destroyRequested;
    /** The domain's console beside others: whole lines behind its prefix. */
    public final DomainConsole console;

    // ---- per-domain counters (family "domain dN") ----
    public final Counter hypercalls, bouncedTraps, eventsDelivered, scheduledMs, framesFreed;

    public Domain(int id, int firstFrame, int pages, int sharedInfoFrame, Counters counters, DomainConsole console) {
        this.console = console;
        this.id = id;
        this.firstFrame = firstFrame;
        this.pages = pages;
        this.sharedInfoFrame = sharedInfoFrame;
        this.currentPages = pages;
        this.maximumPages = pages;
        String family = "domain d" + id;
        this.hypercalls = counters.counter(family, "hypercalls");
        this.bouncedTraps = counters.counter(family, "traps bounced");
        this.eventsDelivered = counters.counter(family, "events delivered (upcalls)");
        this.scheduledMs = counters.counter(family, "scheduled ms");
        this.framesFreed = counters.counter(family, "frames freed at its death");
    }

    /** Pseudo-physical frame to machine frame (a domain's frames are contiguous here). */
    public int machineFrame(int pfn) {
        return firstFrame + pfn;
    }

    public boolean alive() {
        return shutdownReason == RUNNING;
    }
}

package hvlab.hv.xenpv.domain;

/**
 * One guest domain's state that Xen keeps: its frames, its virtual IDT (the trap table), callbacks, the kernel
 * stack for entries from ring 3, its shared_info frame and page-table base.
 */
public final class Domain {
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
    public hvlab.hv.xenpv.events.EventChannels events;

    public Domain(int id, int firstFrame, int pages, int sharedInfoFrame) {
        this.id = id;
        this.firstFrame = firstFrame;
        this.pages = pages;
        this.sharedInfoFrame = sharedInfoFrame;
        this.currentPages = pages;
        this.maximumPages = pages;
    }

    /** Pseudo-physical frame to machine frame (a domain's frames are contiguous here). */
    public int machineFrame(int pfn) {
        return firstFrame + pfn;
    }
}

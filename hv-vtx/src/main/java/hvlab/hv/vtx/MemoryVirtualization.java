package hvlab.hv.vtx;

/**
 * How the guest's memory is virtualized, chosen when the hypervisor is created ({@link MemoryMode}): shadow page
 * tables kept by the hypervisor (first-generation VT-x), or the processor's EPT. The hypervisor asks it which
 * exits it needs and hands it those exits.
 */
interface MemoryVirtualization {
    /** What {@link #pageFault} returns when the fault was the hypervisor's own business and is resolved. */
    int RESOLVED = -1;

    /** Primary processor-based controls the mode needs (SDM Vol. 3C 24.6.2). */
    int processorControls();

    /** Exceptions that must exit (24.6.3). */
    int exceptionBitmap();

    /** Writes the guest's CR0, CR3 and CR4 (with masks and read shadows) from the state the loader left. */
    void start(int cr0, int cr3, int cr4);

    /** CR0, CR3 and CR4 as the guest believes them, given the processor's values in non-root operation. */
    int guestCr0(int real);

    int guestCr3(int real);

    int guestCr4(int real);

    /** A guest MOV to CR0, CR3 or CR4 that exited; false when the guest's own processor would raise #GP(0). */
    boolean writeControlRegister(int cr, int value);

    /** A #PF that exited: {@link #RESOLVED}, or the error code of the #PF the guest itself must see. */
    int pageFault(int linear, int errorCode);

    /** A guest INVLPG that exited. */
    void invalidatePage(int linear);
}

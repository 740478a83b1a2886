package hvlab.hv.vtx;

/**
 * How the guest's memory is virtualized, chosen when the hypervisor is created ({@link MemoryMode}): shadow page
 * tables kept by the hypervisor (first-generation VT-x), or the processor's EPT. The hypervisor asks it which
 * exits it needs and hands it those exits.
 */
interface MemoryVirtualization {
    /** What {@link #pageFault} returns when the fault was the hypervisor's own business and is resolved. */
    int RESOLVED = -1;
    /** What {@link #pageFault} returns for an access the guest may make to a device page ({@link #deviceAddress}). */
    int DEVICE_ACCESS = -2;

    /** Primary processor-based controls the mode needs (SDM Vol. 3C 24.6.2). */
    int processorControls();

    /** Secondary processor-based controls the mode needs (24.6.2, Table 24-7), with PROC_SECONDARY_CONTROLS. */
    default int secondaryControls() {
        return 0;
    }

    /**
     * The machine page the guest's local APIC page maps to when the mode virtualizes APIC accesses (the APIC-access
     * page, SDM Vol. 3C 29.4): its TPR accesses then need no exit. -1 when the page is left unmapped and every access
     * to it exits.
     */
    default int apicAccessPage() {
        return -1;
    }

    /** Exceptions that must exit (24.6.3). */
    int exceptionBitmap();

    /** Writes the guest's CR0, CR3 and CR4 (with masks and read shadows) from the state the loader left. */
    void start(int cr0, int cr3, int cr4);

    /** The guest's CR0 and CR4 as it believes them, and as the processor runs it. */
    ControlRegisterShadows controlRegisters();

    /** CR0, CR3 and CR4 as the guest believes them, given the processor's values in non-root operation. */
    default int guestCr0(int real) {
        return controlRegisters().guestCr0(real);
    }

    int guestCr3(int real);

    default int guestCr4(int real) {
        return controlRegisters().guestCr4(real);
    }

    /**
     * A guest MOV to CR0 (ET set), CR3 or CR4 that exited, with a value {@link ControlRegisterShadows#isValid}; or a
     * load the hypervisor makes for the guest (CR3 and CR0.TS in a task switch).
     */
    void writeControlRegister(int cr, int value);

    /** A #PF that exited: {@link #RESOLVED}, or the error code of the #PF the guest itself must see. */
    int pageFault(int linear, int errorCode);

    /** The guest-physical address of the access for which {@link #pageFault} last returned {@link #DEVICE_ACCESS}. */
    default int deviceAddress() {
        throw new IllegalStateException("no device access");
    }

    /** A guest INVLPG that exited. */
    void invalidatePage(int linear);

    /**
     * An EPT violation (exit 48, qualification as in 27.2.1 Table 27-7) at guest-physical {@code gpa}: true when
     * resolved and the guest may retry the access. Only the EPT mode takes these exits.
     */
    default boolean eptViolation(int gpa, long qualification) {
        throw new IllegalStateException("an EPT violation without EPT");
    }
}

package hvlab.spi;

/**
 * Where a strategy knowingly gives the guest a machine that differs from the real one, declared as data
 * ({@link HypervisorProvider#knownLimits()}): the IA-32 sensitive-but-unprivileged instructions it lets run
 * untrapped (Robin &amp; Irvine 2000, the holes that keep IA-32 from meeting Popek &amp; Goldberg's theorem), the
 * linear addresses it keeps for itself, and hardware features it does not virtualize. The conformance suite reports
 * a deviation these explain as a known limit, never as a pass, and any other deviation as a failure.
 */
public enum VirtualizationLimit {
    /** Stores the real GDTR: the guest sees the monitor's table. */
    SGDT,
    /** Stores the real IDTR. */
    SIDT,
    /** Stores the real LDTR. */
    SLDT,
    /** Stores the real task register. */
    STR,
    /** Stores the real CR0's low word. */
    SMSW,
    /** Pushes the real IF and IOPL. */
    PUSHF,
    /** At CPL &gt; 0 leaves IOPL, and at CPL &gt; IOPL leaves IF, unchanged without a trap. */
    POPF,
    /** Checks descriptor privilege against the real CPL, and shows the real descriptor's DPL. */
    LAR,
    /** Shows the real (for instance truncated) segment limit. */
    LSL,
    /** Check readability and writability against the real CPL. */
    VERR,
    VERW,
    /** PUSH CS/SS shows the real CPL in the selector's RPL. */
    PUSH_SEGMENT_REGISTER,
    /** POP to a segment register checks against the real CPL. */
    POP_SEGMENT_REGISTER,
    /** MOV from CS/SS shows the real CPL; MOV to a segment register checks against it. */
    MOV_SEGMENT_REGISTER,
    /** Far CALL, JMP and RET (call gates, conforming segments) check and switch privilege by the real CPL. */
    CALL_FAR,
    JMP_FAR,
    RET_FAR,
    /** INT n checks the gate's DPL against the real CPL. */
    INT_N,
    /** IRET at CPL &gt; 0 ignores VM, and IF and IOPL as POPF does. */
    IRET,
    /** The hypervisor occupies part of the guest's linear address space (segment limits are cut below it). */
    MONITOR_ADDRESS_SPACE,
    /** Hardware task switches (JMP, CALL, INT or IRET through a TSS or task gate) are not virtualized. */
    HARDWARE_TASK_SWITCH,
    /** Virtual-8086 mode is not virtualized. */
    VIRTUAL_8086_MODE,
    /** The guest kernel does not run in ring 0 (Xen PV: ring 1), so what only ring 0 can do or see it cannot. */
    RING_COMPRESSION,
    /**
     * The guest has no interrupt controller or timer hardware of its own, no PIC, PIT or local APIC (Xen PV: Xen
     * keeps them; event channels and Xen's timer replace them).
     */
    INTERRUPT_HARDWARE
}

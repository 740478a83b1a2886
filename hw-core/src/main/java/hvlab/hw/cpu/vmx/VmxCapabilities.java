package hvlab.hw.cpu.vmx;

import static hvlab.hw.cpu.vmx.VmxControls.*;

/**
 * The VMX capability MSRs (SDM Vol. 3C, Appendix A) of this processor: one fixed, self-consistent set for an IA-32
 * processor without Intel 64, SMX, SMM dual-monitor treatment, PAT or a local-APIC virtualization. VM entry checks
 * the controls against exactly these values, and RDMSR reads them.
 *
 * <p>Allowed settings (A.3): bit X of the low dword set means control X must be 1, bit X of the high dword clear means
 * it must be 0. IA32_VMX_BASIC[55] is 1, so the TRUE_* MSRs report the settings VM entry enforces (A.3.1); they let
 * CR3-load/store exiting and the save/load debug-controls bits be 0, which the older MSRs report as "default1".
 */
public final class VmxCapabilities {
    // MSR indices (Appendix A, and Vol. 4 Table 2-2).
    public static final int IA32_FEATURE_CONTROL = 0x3A, IA32_VMX_BASIC = 0x480, IA32_VMX_PINBASED_CTLS = 0x481,
            IA32_VMX_PROCBASED_CTLS = 0x482, IA32_VMX_EXIT_CTLS = 0x483, IA32_VMX_ENTRY_CTLS = 0x484,
            IA32_VMX_MISC = 0x485, IA32_VMX_CR0_FIXED0 = 0x486, IA32_VMX_CR0_FIXED1 = 0x487,
            IA32_VMX_CR4_FIXED0 = 0x488, IA32_VMX_CR4_FIXED1 = 0x489, IA32_VMX_VMCS_ENUM = 0x48A,
            IA32_VMX_PROCBASED_CTLS2 = 0x48B, IA32_VMX_EPT_VPID_CAP = 0x48C, IA32_VMX_TRUE_PINBASED_CTLS = 0x48D,
            IA32_VMX_TRUE_PROCBASED_CTLS = 0x48E, IA32_VMX_TRUE_EXIT_CTLS = 0x48F,
            IA32_VMX_TRUE_ENTRY_CTLS = 0x490, IA32_VMX_VMFUNC = 0x491;

    /** IA32_FEATURE_CONTROL bits (Vol. 3C 23.7): lock, VMX inside SMX, VMX outside SMX. */
    public static final long FEATURE_CONTROL_LOCK = 1, FEATURE_CONTROL_VMX_INSIDE_SMX = 2,
            FEATURE_CONTROL_VMX_OUTSIDE_SMX = 4;
    /** The bits this processor implements: no SMX, so bit 1 is reserved; no SGX, LMCE or SENTER bits either. */
    public static final long FEATURE_CONTROL_WRITABLE = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;

    /** VMCS revision identifier, IA32_VMX_BASIC[30:0]. */
    public static final int REVISION_ID = 0x00000001;
    /** Bytes of a VMXON or VMCS region (BASIC[44:32]). */
    public static final int REGION_SIZE = 4096;
    /** The physical-address width: VMX pointers are limited to 32 bits (BASIC[48] = 1). */
    public static final int PHYSICAL_ADDRESS_WIDTH = 32;

    public static final long BASIC = REVISION_ID | (long) REGION_SIZE << 32 | 1L << 48 // 32-bit VMX pointers
            | 6L << 50 // VMCS memory type: write-back
            | 1L << 54 // INS/OUTS instruction information is reported
            | 1L << 55; // the TRUE_* capability MSRs exist

    // "Default1" controls (A.2): reserved bits that must be 1 under the non-TRUE MSRs.
    static final int PIN_DEFAULT1 = 0x00000016, PROC_DEFAULT1 = 0x0401E172, EXIT_DEFAULT1 = 0x00036DFF,
            ENTRY_DEFAULT1 = 0x000011FF;

    static final int PIN_ALLOWED1 = PIN_DEFAULT1 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS
            | PIN_PREEMPTION_TIMER;
    /**
     * Primary controls: CR8-load/store exiting must be 0 on a processor without Intel 64 (Table 24-6); the TPR shadow
     * (for the memory-mapped TPR: this processor has no CR8); no MWAIT/MONITOR (not implemented), RDPMC (not
     * implemented), PAUSE exiting or monitor trap flag.
     */
    static final int PROC_ALLOWED1 = PROC_DEFAULT1 | PROC_INTERRUPT_WINDOW_EXITING | PROC_TSC_OFFSETTING
            | PROC_HLT_EXITING | PROC_INVLPG_EXITING | PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING
            | PROC_CR3_STORE_EXITING | PROC_NMI_WINDOW_EXITING | PROC_MOV_DR_EXITING | PROC_UNCONDITIONAL_IO_EXITING
            | PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY_CONTROLS | PROC_TPR_SHADOW;
    /**
     * Whether "enable EPT" (and with it unrestricted guest, VM functions and INVEPT) may be set: the EPT walk (SDM
     * ch. 28) is in the MMU's slow path. One switch, so that the controls, the capability MSRs and the instructions
     * always agree (a processor must not offer what it does not do).
     */
    public static final boolean EPT = true;

    /** Secondary controls: APIC-access virtualization (chapter 29, without APIC-register virtualization), VPID, ... */
    static final int PROC2_ALLOWED1 = PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VPID | PROC2_WBINVD_EXITING
            | (EPT ? PROC2_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_VM_FUNCTIONS : 0);
    /** Exit controls: host address-space size must be 0 without Intel 64 (26.2.4); no PAT, EFER, PERF loads. */
    static final int EXIT_ALLOWED1 = EXIT_DEFAULT1 | EXIT_SAVE_DEBUG_CONTROLS | EXIT_ACKNOWLEDGE_INTERRUPT
            | EXIT_SAVE_PREEMPTION_TIMER;
    static final int ENTRY_ALLOWED1 = ENTRY_DEFAULT1 | ENTRY_LOAD_DEBUG_CONTROLS;

    // What VM entry enforces (the TRUE MSRs): the default1 bits that may be 0 are cleared from allowed-0.
    public static final int PIN_MUST_BE_1 = PIN_DEFAULT1;
    public static final int PROC_MUST_BE_1 = PROC_DEFAULT1 & ~(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING);
    public static final int EXIT_MUST_BE_1 = EXIT_DEFAULT1 & ~EXIT_SAVE_DEBUG_CONTROLS;
    public static final int ENTRY_MUST_BE_1 = ENTRY_DEFAULT1 & ~ENTRY_LOAD_DEBUG_CONTROLS;
    public static final int PIN_MAY_BE_1 = PIN_ALLOWED1, PROC_MAY_BE_1 = PROC_ALLOWED1,
            PROC2_MAY_BE_1 = PROC2_ALLOWED1, EXIT_MAY_BE_1 = EXIT_ALLOWED1, ENTRY_MAY_BE_1 = ENTRY_ALLOWED1;

    /** The VMX-preemption timer counts down once every 2^5 TSC ticks (MISC[4:0]). */
    public static final int PREEMPTION_TIMER_RATE = 5;
    public static final int CR3_TARGET_VALUES = 4;
    /** MISC: timer rate; HLT activity state (bit 6) only; 4 CR3-target values; 512 MSRs per list (27:25 = 0). */
    public static final long MISC = PREEMPTION_TIMER_RATE | 1L << 6 | (long) CR3_TARGET_VALUES << 16;
    public static final int MAX_MSR_LIST_ENTRIES = 512;

    /** CR0: PE, NE and PG must be 1 in VMX operation (A.7); every implemented bit may be 1. */
    public static final int CR0_FIXED0 = 0x80000021, CR0_FIXED1 = 0xFFFFFFFF;
    /**
     * CR4: VMXE must be 1 (A.8); the bits the processor implements may be 1: VME PVI TSD DE PSE MCE PGE PCE OSFXSR
     * VMXE (no PAE, no OSXMMEXCPT without SSE).
     */
    public static final int CR4_FIXED0 = 0x2000, CR4_FIXED1 = 0x000023DF;

    /**
     * EPT and VPID capabilities (A.10): execute-only entries, a 4-level walk, UC and WB for the paging structures,
     * 2-MByte and 1-GByte pages, accessed and dirty flags, INVEPT single- and all-context; INVVPID of every type.
     */
    public static final long EPT_EXECUTE_ONLY = 1, EPT_WALK_4 = 1 << 6, EPT_UC = 1 << 8, EPT_WB = 1 << 14,
            EPT_2MB_PAGES = 1 << 16, EPT_1GB_PAGES = 1 << 17, EPT_INVEPT = 1 << 20, EPT_ACCESSED_DIRTY = 1 << 21,
            EPT_INVEPT_SINGLE = 1 << 25, EPT_INVEPT_ALL = 1 << 26, VPID_INVVPID = 1L << 32,
            VPID_INDIVIDUAL_ADDRESS = 1L << 40, VPID_SINGLE_CONTEXT = 1L << 41, VPID_ALL_CONTEXT = 1L << 42,
            VPID_SINGLE_CONTEXT_RETAINING_GLOBALS = 1L << 43;
    public static final long EPT_VPID_CAP = (EPT ? EPT_EXECUTE_ONLY | EPT_WALK_4 | EPT_UC | EPT_WB | EPT_2MB_PAGES
            | EPT_1GB_PAGES | EPT_INVEPT | EPT_ACCESSED_DIRTY | EPT_INVEPT_SINGLE | EPT_INVEPT_ALL : 0) | VPID_INVVPID
            | VPID_INDIVIDUAL_ADDRESS | VPID_SINGLE_CONTEXT | VPID_ALL_CONTEXT | VPID_SINGLE_CONTEXT_RETAINING_GLOBALS;

    /** VM functions (A.11): EPTP switching only. */
    public static final long VMFUNC = VMFUNC_EPTP_SWITCHING;

    private VmxCapabilities() {
    }

    private static long allowed(int mustBe1, int mayBe1) {
        return (long) mayBe1 << 32 | mustBe1 & 0xFFFFFFFFL;
    }

    /** Whether {@code msr} is one of the read-only VMX capability MSRs (480H-491H; 491H only with VM functions). */
    public static boolean isCapabilityMsr(int msr) {
        return msr >= IA32_VMX_BASIC && msr < IA32_VMX_VMFUNC || msr == IA32_VMX_VMFUNC && EPT;
    }

    /** RDMSR of a capability MSR (480H-491H). */
    public static long read(int msr) {
        return switch (msr) {
            case IA32_VMX_BASIC -> BASIC;
            case IA32_VMX_PINBASED_CTLS -> allowed(PIN_DEFAULT1, PIN_ALLOWED1);
            case IA32_VMX_PROCBASED_CTLS -> allowed(PROC_DEFAULT1, PROC_ALLOWED1);
            case IA32_VMX_EXIT_CTLS -> allowed(EXIT_DEFAULT1, EXIT_ALLOWED1);
            case IA32_VMX_ENTRY_CTLS -> allowed(ENTRY_DEFAULT1, ENTRY_ALLOWED1);
            case IA32_VMX_MISC -> MISC;
            case IA32_VMX_CR0_FIXED0 -> CR0_FIXED0 & 0xFFFFFFFFL;
            case IA32_VMX_CR0_FIXED1 -> CR0_FIXED1 & 0xFFFFFFFFL;
            case IA32_VMX_CR4_FIXED0 -> CR4_FIXED0;
            case IA32_VMX_CR4_FIXED1 -> CR4_FIXED1;
            case IA32_VMX_VMCS_ENUM -> (long) VmcsField.highestIndex() << 1;
            case IA32_VMX_PROCBASED_CTLS2 -> allowed(0, PROC2_ALLOWED1);
            case IA32_VMX_EPT_VPID_CAP -> EPT_VPID_CAP;
            case IA32_VMX_TRUE_PINBASED_CTLS -> allowed(PIN_MUST_BE_1, PIN_MAY_BE_1);
            case IA32_VMX_TRUE_PROCBASED_CTLS -> allowed(PROC_MUST_BE_1, PROC_MAY_BE_1);
            case IA32_VMX_TRUE_EXIT_CTLS -> allowed(EXIT_MUST_BE_1, EXIT_MAY_BE_1);
            case IA32_VMX_TRUE_ENTRY_CTLS -> allowed(ENTRY_MUST_BE_1, ENTRY_MAY_BE_1);
            case IA32_VMX_VMFUNC -> VMFUNC;
            default -> throw new IllegalArgumentException("not a VMX capability MSR: 0x" + Integer.toHexString(msr));
        };
    }

    /** A control word obeys its allowed-0 and allowed-1 settings (26.2.1). */
    public static boolean allowed(int value, int mustBe1, int mayBe1) {
        return (value & mustBe1) == mustBe1 && (value & ~mayBe1) == 0;
    }

    /** CR0 and CR4 values allowed in VMX operation (23.8), apart from the bits the caller exempts. */
    public static boolean cr0Allowed(int cr0, int exempt) {
        return (cr0 & CR0_FIXED0 & ~exempt) == (CR0_FIXED0 & ~exempt) && (cr0 & ~CR0_FIXED1) == 0;
    }

    public static boolean cr4Allowed(int cr4) {
        return (cr4 & CR4_FIXED0) == CR4_FIXED0 && (cr4 & ~CR4_FIXED1) == 0;
    }

    /** A physical address a VMX pointer may hold: within the physical-address width, and {@code align}-aligned. */
    public static boolean validPointer(long address, int align) {
        return address >>> PHYSICAL_ADDRESS_WIDTH == 0 && (address & (align - 1)) == 0;
    }

    /**
     * The checks an EPTP must pass (24.6.11, 26.2.1.1): a memory type the capability MSR offers (UC or WB), a
     * 4-level walk, the accessed/dirty enable only when supported, bits 11:7 and those beyond the physical-address
     * width 0.
     */
    public static boolean validEptp(long eptp) {
        int type = (int) eptp & 7;
        return (type == 0 && (EPT_VPID_CAP & EPT_UC) != 0 || type == 6 && (EPT_VPID_CAP & EPT_WB) != 0)
                && ((eptp >>> 3) & 7) == 3 && (eptp & 0xF80) == 0
                && ((eptp & 0x40) == 0 || (EPT_VPID_CAP & EPT_ACCESSED_DIRTY) != 0)
                && eptp >>> PHYSICAL_ADDRESS_WIDTH == 0;
    }
}

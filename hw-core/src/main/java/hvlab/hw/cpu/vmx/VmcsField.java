package hvlab.hw.cpu.vmx;

/**
 * VMCS component encodings (SDM Vol. 3C, Appendix B; the encoding rules in 24.11.2) and which of them this processor
 * supports. An encoding is a 32-bit value: bit 0 access type (1 = the high 32 bits of a 64-bit field), bits 9:1
 * index, bits 11:10 type (control, VM-exit information, guest state, host state), bits 14:13 width (16-bit, 64-bit,
 * 32-bit, natural width, which is 32 bits on this processor: it does not support Intel 64).
 *
 * <p>A field exists on a processor only when the feature it belongs to does (Appendix B names the control for each
 * conditional field); VMREAD and VMWRITE of any other encoding fail with error 12. The model's capability set
 * ({@link VmxCapabilities}) decides: no posted interrupts or virtual-interrupt delivery, no PAT, EFER or
 * PERF_GLOBAL_CTRL loads, no PAUSE-loop exiting, no VMCS shadowing, no PML, no #VE. Those encodings are listed as constants (software names
 * them) but are not {@link #isSupported supported}.
 */
public final class VmcsField {
    // ---- 16-bit control fields (B.1.1) ----
    public static final int VPID = 0x0000;
    public static final int POSTED_INTERRUPT_NOTIFICATION_VECTOR = 0x0002;
    public static final int EPTP_INDEX = 0x0004;

    // ---- 16-bit guest-state fields (B.1.2), in the order ES, CS, SS, DS, FS, GS, LDTR, TR ----
    public static final int GUEST_ES_SELECTOR = 0x0800, GUEST_CS_SELECTOR = 0x0802, GUEST_SS_SELECTOR = 0x0804,
            GUEST_DS_SELECTOR = 0x0806, GUEST_FS_SELECTOR = 0x0808, GUEST_GS_SELECTOR = 0x080A,
            GUEST_LDTR_SELECTOR = 0x080C, GUEST_TR_SELECTOR = 0x080E;
    public static final int GUEST_INTERRUPT_STATUS = 0x0810, GUEST_PML_INDEX = 0x0812;

    // ---- 16-bit host-state fields (B.1.3) ----
    public static final int HOST_ES_SELECTOR = 0x0C00, HOST_CS_SELECTOR = 0x0C02, HOST_SS_SELECTOR = 0x0C04,
            HOST_DS_SELECTOR = 0x0C06, HOST_FS_SELECTOR = 0x0C08, HOST_GS_SELECTOR = 0x0C0A,
            HOST_TR_SELECTOR = 0x0C0C;

    // ---- 64-bit control fields (B.2.1) ----
    public static final int IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002, MSR_BITMAP = 0x2004,
            VM_EXIT_MSR_STORE_ADDRESS = 0x2006, VM_EXIT_MSR_LOAD_ADDRESS = 0x2008,
            VM_ENTRY_MSR_LOAD_ADDRESS = 0x200A, EXECUTIVE_VMCS_POINTER = 0x200C, PML_ADDRESS = 0x200E,
            TSC_OFFSET = 0x2010, VIRTUAL_APIC_ADDRESS = 0x2012, APIC_ACCESS_ADDRESS = 0x2014,
            POSTED_INTERRUPT_DESCRIPTOR = 0x2016, VM_FUNCTION_CONTROLS = 0x2018, EPT_POINTER = 0x201A,
            EOI_EXIT_BITMAP_0 = 0x201C, EOI_EXIT_BITMAP_1 = 0x201E, EOI_EXIT_BITMAP_2 = 0x2020,
            EOI_EXIT_BITMAP_3 = 0x2022, EPTP_LIST_ADDRESS = 0x2024, VMREAD_BITMAP = 0x2026,
            VMWRITE_BITMAP = 0x2028, VIRTUALIZATION_EXCEPTION_INFORMATION = 0x202A;

    // ---- 64-bit read-only data field (B.2.2) ----
    public static final int GUEST_PHYSICAL_ADDRESS = 0x2400;

    // ---- 64-bit guest-state fields (B.2.3) ----
    public static final int VMCS_LINK_POINTER = 0x2800, GUEST_IA32_DEBUGCTL = 0x2802, GUEST_IA32_PAT = 0x2804,
            GUEST_IA32_EFER = 0x2806, GUEST_IA32_PERF_GLOBAL_CTRL = 0x2808, GUEST_PDPTE0 = 0x280A,
            GUEST_PDPTE1 = 0x280C, GUEST_PDPTE2 = 0x280E, GUEST_PDPTE3 = 0x2810;

    // ---- 64-bit host-state fields (B.2.4) ----
    public static final int HOST_IA32_PAT = 0x2C00, HOST_IA32_EFER = 0x2C02, HOST_IA32_PERF_GLOBAL_CTRL = 0x2C04;

    // ---- 32-bit control fields (B.3.1) ----
    public static final int PIN_BASED_CONTROLS = 0x4000, PRIMARY_PROCESSOR_CONTROLS = 0x4002,
            EXCEPTION_BITMAP = 0x4004, PAGE_FAULT_ERROR_CODE_MASK = 0x4006, PAGE_FAULT_ERROR_CODE_MATCH = 0x4008,
            CR3_TARGET_COUNT = 0x400A, VM_EXIT_CONTROLS = 0x400C, VM_EXIT_MSR_STORE_COUNT = 0x400E,
            VM_EXIT_MSR_LOAD_COUNT = 0x4010, VM_ENTRY_CONTROLS = 0x4012, VM_ENTRY_MSR_LOAD_COUNT = 0x4014,
            VM_ENTRY_INTERRUPTION_INFO = 0x4016, VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
            VM_ENTRY_INSTRUCTION_LENGTH = 0x401A, TPR_THRESHOLD = 0x401C, SECONDARY_PROCESSOR_CONTROLS = 0x401E,
            PLE_GAP = 0x4020, PLE_WINDOW = 0x4022;

    // ---- 32-bit read-only data fields (B.3.2) ----
    public static final int VM_INSTRUCTION_ERROR = 0x4400, EXIT_REASON = 0x4402, VM_EXIT_INTERRUPTION_INFO = 0x4404,
            VM_EXIT_INTERRUPTION_ERROR_CODE = 0x4406, IDT_VECTORING_INFO = 0x4408,
            IDT_VECTORING_ERROR_CODE = 0x440A, VM_EXIT_INSTRUCTION_LENGTH = 0x440C,
            VM_EXIT_INSTRUCTION_INFO = 0x440E;

    // ---- 32-bit guest-state fields (B.3.3) ----
    public static final int GUEST_ES_LIMIT = 0x4800, GUEST_CS_LIMIT = 0x4802, GUEST_SS_LIMIT = 0x4804,
            GUEST_DS_LIMIT = 0x4806, GUEST_FS_LIMIT = 0x4808, GUEST_GS_LIMIT = 0x480A, GUEST_LDTR_LIMIT = 0x480C,
            GUEST_TR_LIMIT = 0x480E, GUEST_GDTR_LIMIT = 0x4810, GUEST_IDTR_LIMIT = 0x4812;
    public static final int GUEST_ES_ACCESS_RIGHTS = 0x4814, GUEST_CS_ACCESS_RIGHTS = 0x4816,
            GUEST_SS_ACCESS_RIGHTS = 0x4818, GUEST_DS_ACCESS_RIGHTS = 0x481A, GUEST_FS_ACCESS_RIGHTS = 0x481C,
            GUEST_GS_ACCESS_RIGHTS = 0x481E, GUEST_LDTR_ACCESS_RIGHTS = 0x4820, GUEST_TR_ACCESS_RIGHTS = 0x4822;
    public static final int GUEST_INTERRUPTIBILITY_STATE = 0x4824, GUEST_ACTIVITY_STATE = 0x4826,
            GUEST_SMBASE = 0x4828, GUEST_IA32_SYSENTER_CS = 0x482A, VMX_PREEMPTION_TIMER_VALUE = 0x482E;

    // ---- 32-bit host-state field (B.3.4) ----
    public static final int HOST_IA32_SYSENTER_CS = 0x4C00;

    // ---- natural-width control fields (B.4.1) ----
    public static final int CR0_GUEST_HOST_MASK = 0x6000, CR4_GUEST_HOST_MASK = 0x6002, CR0_READ_SHADOW = 0x6004,
            CR4_READ_SHADOW = 0x6006, CR3_TARGET_VALUE0 = 0x6008, CR3_TARGET_VALUE1 = 0x600A,
            CR3_TARGET_VALUE2 = 0x600C, CR3_TARGET_VALUE3 = 0x600E;

    // ---- natural-width read-only data fields (B.4.2) ----
    public static final int EXIT_QUALIFICATION = 0x6400, IO_RCX = 0x6402, IO_RSI = 0x6404, IO_RDI = 0x6406,
            IO_RIP = 0x6408, GUEST_LINEAR_ADDRESS = 0x640A;

    // ---- natural-width guest-state fields (B.4.3) ----
    public static final int GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804, GUEST_ES_BASE = 0x6806,
            GUEST_CS_BASE = 0x6808, GUEST_SS_BASE = 0x680A, GUEST_DS_BASE = 0x680C, GUEST_FS_BASE = 0x680E,
            GUEST_GS_BASE = 0x6810, GUEST_LDTR_BASE = 0x6812, GUEST_TR_BASE = 0x6814, GUEST_GDTR_BASE = 0x6816,
            GUEST_IDTR_BASE = 0x6818, GUEST_DR7 = 0x681A, GUEST_RSP = 0x681C, GUEST_RIP = 0x681E,
            GUEST_RFLAGS = 0x6820, GUEST_PENDING_DEBUG_EXCEPTIONS = 0x6822, GUEST_IA32_SYSENTER_ESP = 0x6824,
            GUEST_IA32_SYSENTER_EIP = 0x6826;

    // ---- natural-width host-state fields (B.4.4) ----
    public static final int HOST_CR0 = 0x6C00, HOST_CR3 = 0x6C02, HOST_CR4 = 0x6C04, HOST_FS_BASE = 0x6C06,
            HOST_GS_BASE = 0x6C08, HOST_TR_BASE = 0x6C0A, HOST_GDTR_BASE = 0x6C0C, HOST_IDTR_BASE = 0x6C0E,
            HOST_IA32_SYSENTER_ESP = 0x6C10, HOST_IA32_SYSENTER_EIP = 0x6C12, HOST_RSP = 0x6C14,
            HOST_RIP = 0x6C16;

    /** Guest segment fields by register, in the VMCS order ES, CS, SS, DS, FS, GS, LDTR, TR (B.1.2). */
    public static int guestSelector(int register) {
        return GUEST_ES_SELECTOR + 2 * register;
    }

    public static int guestLimit(int register) {
        return GUEST_ES_LIMIT + 2 * register;
    }

    public static int guestAccessRights(int register) {
        return GUEST_ES_ACCESS_RIGHTS + 2 * register;
    }

    public static int guestBase(int register) {
        return GUEST_ES_BASE + 2 * register;
    }

    /** Field widths (bits 14:13) and types (bits 11:10), 24.11.2. */
    public static final int WIDTH_16 = 0, WIDTH_64 = 1, WIDTH_32 = 2, WIDTH_NATURAL = 3;
    public static final int TYPE_CONTROL = 0, TYPE_EXIT_INFORMATION = 1, TYPE_GUEST = 2, TYPE_HOST = 3;

    public static int width(int encoding) {
        return encoding >>> 13 & 3;
    }

    public static int type(int encoding) {
        return encoding >>> 10 & 3;
    }

    /** Bit 0: access to the high 32 bits of a 64-bit field. */
    public static boolean isHighAccess(int encoding) {
        return (encoding & 1) != 0;
    }

    /** The VM-exit information fields are read-only (24.9); VMWRITE to them fails unless IA32_VMX_MISC[29]. */
    public static boolean isReadOnly(int encoding) {
        return type(encoding) == TYPE_EXIT_INFORMATION;
    }

    /** The fields this processor implements, in the order the model keeps them in a VMCS region. */
    private static final int[] SUPPORTED = {
        VPID,
        GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR, GUEST_DS_SELECTOR, GUEST_FS_SELECTOR,
        GUEST_GS_SELECTOR, GUEST_LDTR_SELECTOR, GUEST_TR_SELECTOR,
        HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR, HOST_FS_SELECTOR,
        HOST_GS_SELECTOR, HOST_TR_SELECTOR,
        IO_BITMAP_A, IO_BITMAP_B, MSR_BITMAP, VM_EXIT_MSR_STORE_ADDRESS, VM_EXIT_MSR_LOAD_ADDRESS,
        VM_ENTRY_MSR_LOAD_ADDRESS, EXECUTIVE_VMCS_POINTER, TSC_OFFSET, VM_FUNCTION_CONTROLS, EPT_POINTER,
        EPTP_LIST_ADDRESS, VIRTUAL_APIC_ADDRESS, APIC_ACCESS_ADDRESS,
        GUEST_PHYSICAL_ADDRESS,
        VMCS_LINK_POINTER, GUEST_IA32_DEBUGCTL, GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2, GUEST_PDPTE3,
        PIN_BASED_CONTROLS, PRIMARY_PROCESSOR_CONTROLS, EXCEPTION_BITMAP, PAGE_FAULT_ERROR_CODE_MASK,
        PAGE_FAULT_ERROR_CODE_MATCH, CR3_TARGET_COUNT, VM_EXIT_CONTROLS, VM_EXIT_MSR_STORE_COUNT,
        VM_EXIT_MSR_LOAD_COUNT, VM_ENTRY_CONTROLS, VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_INTERRUPTION_INFO,
        VM_ENTRY_EXCEPTION_ERROR_CODE, VM_ENTRY_INSTRUCTION_LENGTH, SECONDARY_PROCESSOR_CONTROLS, TPR_THRESHOLD,
        VM_INSTRUCTION_ERROR, EXIT_REASON, VM_EXIT_INTERRUPTION_INFO, VM_EXIT_INTERRUPTION_ERROR_CODE,
        IDT_VECTORING_INFO, IDT_VECTORING_ERROR_CODE, VM_EXIT_INSTRUCTION_LENGTH, VM_EXIT_INSTRUCTION_INFO,
        GUEST_ES_LIMIT, GUEST_CS_LIMIT, GUEST_SS_LIMIT, GUEST_DS_LIMIT, GUEST_FS_LIMIT, GUEST_GS_LIMIT,
        GUEST_LDTR_LIMIT, GUEST_TR_LIMIT, GUEST_GDTR_LIMIT, GUEST_IDTR_LIMIT,
        GUEST_ES_ACCESS_RIGHTS, GUEST_CS_ACCESS_RIGHTS, GUEST_SS_ACCESS_RIGHTS, GUEST_DS_ACCESS_RIGHTS,
        GUEST_FS_ACCESS_RIGHTS, GUEST_GS_ACCESS_RIGHTS, GUEST_LDTR_ACCESS_RIGHTS, GUEST_TR_ACCESS_RIGHTS,
        GUEST_INTERRUPTIBILITY_STATE, GUEST_ACTIVITY_STATE, GUEST_SMBASE, GUEST_IA32_SYSENTER_CS,
        VMX_PREEMPTION_TIMER_VALUE,
        HOST_IA32_SYSENTER_CS,
        CR0_GUEST_HOST_MASK, CR4_GUEST_HOST_MASK, CR0_READ_SHADOW, CR4_READ_SHADOW, CR3_TARGET_VALUE0,
        CR3_TARGET_VALUE1, CR3_TARGET_VALUE2, CR3_TARGET_VALUE3,
        EXIT_QUALIFICATION, IO_RCX, IO_RSI, IO_RDI, IO_RIP, GUEST_LINEAR_ADDRESS,
        GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE, GUEST_DS_BASE,
        GUEST_FS_BASE, GUEST_GS_BASE, GUEST_LDTR_BASE, GUEST_TR_BASE, GUEST_GDTR_BASE, GUEST_IDTR_BASE,
        GUEST_DR7, GUEST_RSP, GUEST_RIP, GUEST_RFLAGS, GUEST_PENDING_DEBUG_EXCEPTIONS, GUEST_IA32_SYSENTER_ESP,
        GUEST_IA32_SYSENTER_EIP,
        HOST_CR0, HOST_CR3, HOST_CR4, HOST_FS_BASE, HOST_GS_BASE, HOST_TR_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE,
        HOST_IA32_SYSENTER_ESP, HOST_IA32_SYSENTER_EIP, HOST_RSP, HOST_RIP,
    };

    /** Slot of each supported field by its encoding with the access-type bit clear; -1 where unsupported. */
    private static final short[] SLOTS = new short[0x8000];
    private static final int HIGHEST_INDEX;

    static {
        java.util.Arrays.fill(SLOTS, (short) -1);
        int highest = 0;
        for (int i = 0; i < SUPPORTED.length; i++) {
            SLOTS[SUPPORTED[i]] = (short) i;
            highest = Math.max(highest, SUPPORTED[i] >>> 1 & 0x1FF);
        }
        HIGHEST_INDEX = highest;
    }

    private VmcsField() {
    }

    /** The number of fields a VMCS holds on this processor. */
    public static int count() {
        return SUPPORTED.length;
    }

    /** The encoding of the field in slot {@code slot}. */
    public static int encodingAt(int slot) {
        return SUPPORTED[slot];
    }

    /**
     * The slot of the field an encoding names, or -1 when VMREAD/VMWRITE of it must fail with error 12: bits 31:15
     * or 12 set, an unknown or unsupported field, or a high access (bit 0) to a field that is not 64 bits wide.
     */
    public static int slot(long encoding) {
        if ((encoding & ~0x6FFFL) != 0) {
            return -1;
        }
        int e = (int) encoding;
        if (isHighAccess(e) && width(e) != WIDTH_64) {
            return -1;
        }
        return SLOTS[e & ~1];
    }

    public static boolean isSupported(long encoding) {
        return slot(encoding) >= 0;
    }

    /** The highest index (bits 9:1) of any supported field: IA32_VMX_VMCS_ENUM[9:1] (A.9). */
    public static int highestIndex() {
        return HIGHEST_INDEX;
    }
}

package hvlab.hw.cpu;

import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.cpu.vmx.InterruptionInfo;
import hvlab.hw.cpu.vmx.VmInstructionError;
import hvlab.hw.cpu.vmx.VmcsField;
import hvlab.hw.cpu.vmx.VmxCapabilities;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;

/**
 * VM entry (SDM Vol. 3C, chapter 26): the checks on the VMX controls and the host-state area, which fail the
 * instruction with VMfailValid 7 or 8 (26.2); the guest-state checks, which fail the entry with a VM exit whose reason
 * has bit 31 set (26.3.1, 26.8); loading the guest state (26.3.2) and the MSRs (26.4); event injection (26.5).
 */
final class VmEntry {
    /** The unusable bit of a VMCS access-rights field (24.4.1, Table 24-2). */
    static final int UNUSABLE = 1 << 16;
    private static final int AR_S = 0x10, AR_P = 0x80, AR_RESERVED_11_8 = 0xF00, AR_RESERVED_31_17 = 0xFFFE0000,
            AR_G = 0x8000;
    /** RFLAGS bits that must be 0 on entry: 31:22, 15, 5 and 3 (26.3.1.4). */
    private static final int RFLAGS_RESERVED = 0xFFC08028;
    /** Pending debug exceptions: B3-B0, enabled breakpoint (12) and BS (14) may be set (24.4.2, Table 24-4). */
    private static final int PENDING_DEBUG_DEFINED = 0x500F;
    private static final int PENDING_DEBUG_BS = 1 << 14;
    /** IA32_DEBUGCTL bits the processor implements: LBR and BTF (26.3.1.1). */
    private static final long DEBUGCTL_DEFINED = 3;
    /** Segment registers in the VMCS order (B.1.2) and the model's index for each (Cpu.ES..GS). */
    static final int LDTR = 6, TR = 7;

    private final Vmx v;
    private final Cpu c;

    VmEntry(Vmx vmx) {
        this.v = vmx;
        this.c = vmx.c;
    }

    private int field(int encoding) {
        return v.vmcs.read32(encoding);
    }

    private long field64(int encoding) {
        return v.vmcs.read(encoding);
    }

    /** Secondary controls count only when the primary controls activate them (24.6.2). */
    int secondaryControls() {
        return (field(PRIMARY_PROCESSOR_CONTROLS) & PROC_SECONDARY_CONTROLS) != 0
                ? field(SECONDARY_PROCESSOR_CONTROLS) : 0;
    }

    /** 26.2: the control and host-state checks; SUCCEED or the VM-instruction error to report. */
    int checkControlsAndHost() {
        if (!controlsValid()) {
            return VmInstructionError.ENTRY_INVALID_CONTROLS;
        }
        if (!hostStateValid()) {
            return VmInstructionError.ENTRY_INVALID_HOST_STATE;
        }
        return Vmx.SUCCEED;
    }

    // =====================================================================================================
    // 26.2.1 Checks on the VMX controls
    // =====================================================================================================

    boolean controlsValid() {
        int pin = field(PIN_BASED_CONTROLS), proc = field(PRIMARY_PROCESSOR_CONTROLS);
        int proc2 = secondaryControls();
        // 26.2.1.1 VM-execution control fields
        if (!VmxCapabilities.allowed(pin, VmxCapabilities.PIN_MUST_BE_1, VmxCapabilities.PIN_MAY_BE_1)
                || !VmxCapabilities.allowed(proc, VmxCapabilities.PROC_MUST_BE_1, VmxCapabilities.PROC_MAY_BE_1)
                || !VmxCapabilities.allowed(proc2, 0, VmxCapabilities.PROC2_MAY_BE_1)) {
            return false;
        }
        if (Integer.compareUnsigned(field(CR3_TARGET_COUNT), VmxCapabilities.CR3_TARGET_VALUES) > 0) {
            return false;
        }
        if ((proc & PROC_IO_BITMAPS) != 0 && !(VmxCapabilities.validPointer(field64(IO_BITMAP_A), 4096)
                && VmxCapabilities.validPointer(field64(IO_BITMAP_B), 4096))) {
            return false;
        }
        if ((proc & PROC_MSR_BITMAPS) != 0 && !VmxCapabilities.validPointer(field64(MSR_BITMAP), 4096)) {
            return false;
        }
        if ((pin & PIN_NMI_EXITING) == 0 && (pin & PIN_VIRTUAL_NMIS) != 0
                || (pin & PIN_VIRTUAL_NMIS) == 0 && (proc & PROC_NMI_WINDOW_EXITING) != 0) {
            return false;
        }
        if (!apicControlsValid(proc, proc2)) {
            return false;
        }
        if ((proc2 & PROC2_VPID) != 0 && field(VPID) == 0) {
            return false;
        }
        if ((proc2 & PROC2_EPT) != 0 && !VmxCapabilities.validEptp(field64(EPT_POINTER))) {
            return false;
        }
        if ((proc2 & PROC2_UNRESTRICTED_GUEST) != 0 && (proc2 & PROC2_EPT) == 0) {
            return false;
        }
        if ((proc2 & PROC2_VM_FUNCTIONS) != 0) {
            long functions = field64(VM_FUNCTION_CONTROLS);
            if ((functions & ~VmxCapabilities.VMFUNC) != 0) {
                return false;
            }
            if ((functions & VMFUNC_EPTP_SWITCHING) != 0 && ((proc2 & PROC2_EPT) == 0
                    || !VmxCapabilities.validPointer(field64(EPTP_LIST_ADDRESS), 4096))) {
                return false;
            }
        }
        // 26.2.1.2 VM-exit control fields
        int exitControls = field(VM_EXIT_CONTROLS);
        if (!VmxCapabilities.allowed(exitControls, VmxCapabilities.EXIT_MUST_BE_1, VmxCapabilities.EXIT_MAY_BE_1)
                || (pin & PIN_PREEMPTION_TIMER) == 0 && (exitControls & EXIT_SAVE_PREEMPTION_TIMER) != 0
                || !msrArea(VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_STORE_ADDRESS)
                || !msrArea(VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_LOAD_ADDRESS)) {
            return false;
        }
        // 26.2.1.3 VM-entry control fields
        int entryControls = field(VM_ENTRY_CONTROLS);
        return VmxCapabilities.allowed(entryControls, VmxCapabilities.ENTRY_MUST_BE_1,
                VmxCapabilities.ENTRY_MAY_BE_1)
                && injectionValid(proc2)
                && msrArea(VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_ADDRESS);
    }

    /**
     * 26.2.1.1 on the APIC-virtualization controls: with "use TPR shadow" a 4-KByte aligned virtual-APIC address in the
     * physical-address width and bits 31:4 of the TPR threshold 0; without "virtualize APIC accesses", bits 3:0 of the
     * threshold not above VTPR[7:4] (with it, that case exits after the entry instead, 26.7.7); with "virtualize APIC
     * accesses" a 4-KByte aligned APIC-access address in the width.
     */
    private boolean apicControlsValid(int proc, int proc2) {
        boolean accesses = (proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES) != 0;
        if (accesses && !VmxCapabilities.validPointer(field64(APIC_ACCESS_ADDRESS), 4096)) {
            return false;
        }
        if ((proc & PROC_TPR_SHADOW) == 0) {
            return true;
        }
        long virtualApic = field64(VIRTUAL_APIC_ADDRESS);
        int threshold = field(TPR_THRESHOLD);
        if (!VmxCapabilities.validPointer(virtualApic, 4096) || (threshold & ~0xF) != 0) {
            return false;
        }
        return accesses || threshold <= c.memory.readU8((int) virtualApic + ApicVirtualization.TPR) >>> 4;
    }

    /** An MSR list with entries: 16-byte aligned, its last byte within the physical-address width (26.2.1.2). */
    private boolean msrArea(int countField, int addressField) {
        long count = field(countField) & 0xFFFFFFFFL;
        if (count == 0) {
            return true;
        }
        long address = field64(addressField);
        return (address & 0xF) == 0 && VmxCapabilities.validPointer(address + count * 16 - 1, 1)
                && VmxCapabilities.validPointer(address, 1);
    }

    /** The event-injection checks of 26.2.1.3 on the VM-entry interruption-information field. */
    private boolean injectionValid(int proc2) {
        int info = field(VM_ENTRY_INTERRUPTION_INFO);
        if (!InterruptionInfo.isValid(info)) {
            return true;
        }
        int type = InterruptionInfo.type(info), vector = InterruptionInfo.vector(info);
        if (type == 1 || type == InterruptionInfo.OTHER_EVENT) { // reserved; "other event" needs the MTF
            return false;
        }
        if (type == InterruptionInfo.NMI && vector != Exceptions.NMI
                || type == InterruptionInfo.HARDWARE_EXCEPTION && vector > 31) {
            return false;
        }
        boolean protectedGuest = (proc2 & PROC2_UNRESTRICTED_GUEST) == 0 || (field(GUEST_CR0) & Cpu.CR0_PE) != 0;
        boolean errorCodeExpected = protectedGuest && type == InterruptionInfo.HARDWARE_EXCEPTION
                && Exceptions.pushesErrorCode(vector);
        if (InterruptionInfo.hasErrorCode(info) != errorCodeExpected || (info & 0x7FFFF000) != 0) {
            return false;
        }
        if (InterruptionInfo.hasErrorCode(info) && (field(VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xFFFF8000) != 0) {
            return false; // bits 31:15 of the error code (2016 edition; later editions allow bit 15 for #CP)
        }
        if (InterruptionInfo.isSoftware(type)) {
            int length = field(VM_ENTRY_INSTRUCTION_LENGTH);
            return length >= 1 && length <= 15; // IA32_VMX_MISC[30] = 0: no zero-length injection
        }
        return true;
    }

    // =====================================================================================================
    // 26.2.2-26.2.4 Checks on the host-state area
    // =====================================================================================================

    private static final int[] HOST_SELECTORS = {HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR,
        HOST_DS_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR, HOST_TR_SELECTOR};
    private static final int[] DATA_SEGMENTS = {Cpu.ES, Cpu.DS, Cpu.FS, Cpu.GS};

    boolean hostStateValid() {
        if (!VmxCapabilities.cr0Allowed(field(HOST_CR0), 0) || !VmxCapabilities.cr4Allowed(field(HOST_CR4))) {
            return false;
        }
        for (int selector : HOST_SELECTORS) {
            if ((field(selector) & 7) != 0) { // RPL and TI must be 0 (26.2.3)
                return false;
            }
        }
        // CS and TR never null; SS not null either, as the host address-space size is 0 (26.2.3).
        return field(HOST_CS_SELECTOR) != 0 && field(HOST_TR_SELECTOR) != 0 && field(HOST_SS_SELECTOR) != 0;
    }

    // =====================================================================================================
    // 26.3.1 Checks on the guest-state area: -1 when they pass, else the exit qualification of the failure
    // =====================================================================================================

    int guestStateFailure(int proc2) {
        boolean unrestricted = (proc2 & PROC2_UNRESTRICTED_GUEST) != 0;
        int cr0 = field(GUEST_CR0), cr4 = field(GUEST_CR4), rflags = field(GUEST_RFLAGS);
        int entryControls = field(VM_ENTRY_CONTROLS);
        // 26.3.1.1 control registers, debug registers and MSRs
        if (!VmxCapabilities.cr0Allowed(cr0, unrestricted ? Cpu.CR0_PE | Cpu.CR0_PG : 0)
                || (cr0 & Cpu.CR0_PG) != 0 && (cr0 & Cpu.CR0_PE) == 0
                || !VmxCapabilities.cr4Allowed(cr4)
                || (entryControls & ENTRY_LOAD_DEBUG_CONTROLS) != 0
                && (field64(GUEST_IA32_DEBUGCTL) & ~DEBUGCTL_DEFINED) != 0) {
            return 0;
        }
        // 26.3.1.2 segment registers, 26.3.1.3 descriptor-table registers
        boolean v86 = (rflags & Cpu.VM) != 0;
        if (!segmentsValid(v86, unrestricted, cr0)
                || field(GUEST_GDTR_LIMIT) >>> 16 != 0 || field(GUEST_IDTR_LIMIT) >>> 16 != 0) {
            return 0;
        }
        // 26.3.1.4 RFLAGS
        int injection = field(VM_ENTRY_INTERRUPTION_INFO);
        boolean injecting = InterruptionInfo.isValid(injection);
        int injectionType = InterruptionInfo.type(injection);
        if ((rflags & RFLAGS_RESERVED) != 0 || (rflags & 2) == 0 || v86 && (cr0 & Cpu.CR0_PE) == 0
                || injecting && injectionType == InterruptionInfo.EXTERNAL_INTERRUPT && (rflags & Cpu.IF) == 0) {
            return 0;
        }
        // 26.3.1.5 non-register state
        int activity = field(GUEST_ACTIVITY_STATE);
        int interruptibility = field(GUEST_INTERRUPTIBILITY_STATE);
        if (activity != VmExit.ACTIVE && activity != VmExit.HLT // MISC: only HLT among the other states
                || activity == VmExit.HLT && (field(GUEST_SS_ACCESS_RIGHTS) >>> 5 & 3) != 0
                || (interruptibility & ~0xF) != 0
                || (interruptibility & 3) == 3
                || (interruptibility & VmExit.BLOCKING_BY_STI) != 0 && (rflags & Cpu.IF) == 0
                || (interruptibility & 3) != 0 && activity != VmExit.ACTIVE
                || injecting && injectionType == InterruptionInfo.EXTERNAL_INTERRUPT && (interruptibility & 3) != 0
                || injecting && injectionType == InterruptionInfo.NMI
                && (interruptibility & VmExit.BLOCKING_BY_MOV_SS) != 0
                || (interruptibility & VmExit.BLOCKING_BY_SMI) != 0 // outside SMM
                || injecting && injectionType == InterruptionInfo.NMI
                && (field(PIN_BASED_CONTROLS) & PIN_VIRTUAL_NMIS) != 0
                && (interruptibility & VmExit.BLOCKING_BY_NMI) != 0) {
            return 0;
        }
        int pending = field(GUEST_PENDING_DEBUG_EXCEPTIONS);
        if ((pending & ~PENDING_DEBUG_DEFINED) != 0) {
            return 0;
        }
        if ((interruptibility & 3) != 0 || activity == VmExit.HLT) {
            boolean stepping = (rflags & Cpu.TF) != 0 && (field64(GUEST_IA32_DEBUGCTL) & 2) == 0;
            if (stepping != ((pending & PENDING_DEBUG_BS) != 0)) {
                return 0;
            }
        }
        long link = field64(VMCS_LINK_POINTER);
        if (link != -1L && (!VmxCapabilities.validPointer(link, 4096)
                || c.memory.readU32((int) link) != VmxCapabilities.REVISION_ID)) {
            return VmExit.QUALIFICATION_LINK_POINTER; // also when the shadow bit is set: no VMCS shadowing
        }
        return -1;
    }

    private int selector(int register) {
        return field(VmcsField.guestSelector(register));
    }

    private int limit(int register) {
        return field(VmcsField.guestLimit(register));
    }

    private int rights(int register) {
        return field(VmcsField.guestAccessRights(register));
    }

    /** The checks of 26.3.1.2 on the selector, base, limit and access-rights fields. */
    private boolean segmentsValid(boolean v86, boolean unrestricted, int cr0) {
        if ((selector(TR) & 4) != 0) {
            return false;
        }
        int ldtr = rights(LDTR);
        boolean ldtrUsable = (ldtr & UNUSABLE) == 0;
        if (ldtrUsable && (selector(LDTR) & 4) != 0) {
            return false;
        }
        if (!v86 && !unrestricted && (selector(Cpu.SS) & 3) != (selector(Cpu.CS) & 3)) {
            return false;
        }
        if (v86) {
            for (int s = Cpu.ES; s <= Cpu.GS; s++) {
                if (field(VmcsField.guestBase(s)) != selector(s) << 4 || limit(s) != 0xFFFF || rights(s) != 0xF3) {
                    return false;
                }
            }
        } else if (!protectedSegmentsValid(unrestricted, cr0)) {
            return false;
        }
        int tr = rights(TR);
        int trType = tr & 0xF;
        if (trType != 3 && trType != 11 || (tr & AR_S) != 0 || (tr & UNUSABLE) != 0
                || !present(tr, limit(TR))) {
            return false;
        }
        return !ldtrUsable || (ldtr & 0xF) == 2 && (ldtr & AR_S) == 0 && present(ldtr, limit(LDTR));
    }

    private boolean protectedSegmentsValid(boolean unrestricted, int cr0) {
        int cs = rights(Cpu.CS), ss = rights(Cpu.SS);
        int csType = cs & 0xF, csDpl = cs >>> 5 & 3, ssDpl = ss >>> 5 & 3;
        boolean accessedCode = csType == 9 || csType == 11 || csType == 13 || csType == 15;
        if (!accessedCode && !(unrestricted && csType == 3) || !descriptor(cs, limit(Cpu.CS))) {
            return false;
        }
        if (csType == 3 && csDpl != 0 || (csType == 9 || csType == 11) && csDpl != ssDpl
                || (csType == 13 || csType == 15) && csDpl > ssDpl) {
            return false;
        }
        if (!unrestricted && ssDpl != (selector(Cpu.SS) & 3)
                || (csType == 3 || (cr0 & Cpu.CR0_PE) == 0) && ssDpl != 0) {
            return false;
        }
        if ((ss & UNUSABLE) == 0 && ((ss & 0xF) != 3 && (ss & 0xF) != 7 || !descriptor(ss, limit(Cpu.SS)))) {
            return false;
        }
        for (int s : DATA_SEGMENTS) {
            int ar = rights(s);
            if ((ar & UNUSABLE) != 0) {
                continue;
            }
            int type = ar & 0xF;
            if ((type & 1) == 0 || (type & 8) != 0 && (type & 2) == 0 || !descriptor(ar, limit(s))
                    || !unrestricted && type <= 11 && (ar >>> 5 & 3) < (selector(s) & 3)) {
                return false;
            }
        }
        return true;
    }

    /** A code or data segment's S and P bits are 1; reserved bits 0; G agrees with the limit (26.3.1.2). */
    private static boolean descriptor(int ar, int limit) {
        return (ar & AR_S) != 0 && present(ar, limit);
    }

    /** P = 1, bits 11:8 and 31:17 clear, and G = 1 iff the limit needs it (26.3.1.2). */
    private static boolean present(int ar, int limit) {
        boolean granular = (ar & AR_G) != 0;
        return (ar & AR_P) != 0 && (ar & (AR_RESERVED_11_8 | AR_RESERVED_31_17)) == 0
                && !((limit & 0xFFF) != 0xFFF && granular) && !((limit & 0xFFF00000) != 0 && !granular);
    }

    // =====================================================================================================
    // Entering: 26.3.2 guest state, 26.4 MSRs, 26.5 event injection, 26.6 special features
    // =====================================================================================================

    /** VMLAUNCH or VMRESUME after the control and host checks passed. */
    void enter(boolean resume) {
        int proc2 = secondaryControls();
        int failure = guestStateFailure(proc2);
        if (failure >= 0) {
            v.exit.entryFailure(ExitReason.INVALID_GUEST_STATE, failure);
            return;
        }
        loadGuestState();
        int badMsr = loadMsrs(field64(VM_ENTRY_MSR_LOAD_ADDRESS), field(VM_ENTRY_MSR_LOAD_COUNT));
        if (badMsr > 0) {
            v.exit.entryFailure(ExitReason.MSR_LOADING, badMsr);
            return;
        }
        if (!resume) {
            v.vmcs.markLaunched(v.epoch);
        }
        v.exit.enterNonRoot(proc2);
        int interruptibility = field(GUEST_INTERRUPTIBILITY_STATE);
        if ((interruptibility & (VmExit.BLOCKING_BY_STI | VmExit.BLOCKING_BY_MOV_SS)) != 0) {
            c.interruptShadowAt = c.retired; // events stay blocked until the first guest instruction retires
        }
        if ((interruptibility & VmExit.BLOCKING_BY_MOV_SS) != 0) {
            c.stackLoadAt = c.retired;
        }
        c.halted = field(GUEST_ACTIVITY_STATE) == VmExit.HLT;
        inject();
    }

    /** 26.3.2: the processor state from the guest-state area. */
    private void loadGuestState() {
        int entryControls = field(VM_ENTRY_CONTROLS);
        c.cr0 = field(GUEST_CR0) | Cpu.CR0_ET;
        c.cr3 = field(GUEST_CR3);
        c.cr4 = field(GUEST_CR4);
        if ((entryControls & ENTRY_LOAD_DEBUG_CONTROLS) != 0) {
            c.dr[7] = field(GUEST_DR7);
        }
        c.sysenterCs = field(GUEST_IA32_SYSENTER_CS);
        c.sysenterEsp = field(GUEST_IA32_SYSENTER_ESP);
        c.sysenterEip = field(GUEST_IA32_SYSENTER_EIP);
        c.flags = (field(GUEST_RFLAGS) & 0x3F7FD7) | 2;
        c.ccOp = Alu.CC_NONE;
        boolean v86 = c.v86Mode();
        for (int s = Cpu.ES; s <= Cpu.GS; s++) {
            int selector = selector(s), ar = rights(s);
            if (v86) {
                c.loadV86Segment(s, selector);
            } else if ((ar & UNUSABLE) != 0 && s != Cpu.CS && c.protectedMode()) {
                c.loadNullSegment(s, selector);
            } else {
                c.loadSegmentParts(s, selector, field(VmcsField.guestBase(s)), limit(s), ar);
            }
        }
        int ldtr = rights(LDTR);
        c.ldtSel = selector(LDTR);
        c.ldtBase = field(GUEST_LDTR_BASE);
        c.ldtLimit = limit(LDTR);
        c.ldtAttr = (ldtr & UNUSABLE) != 0 ? 0 : ldtr & 0xF0FF;
        c.trSel = selector(TR);
        c.trBase = field(GUEST_TR_BASE);
        c.trLimit = limit(TR);
        c.trAttr = rights(TR) & 0xF0FF;
        c.gdtBase = field(GUEST_GDTR_BASE);
        c.gdtLimit = field(GUEST_GDTR_LIMIT);
        c.idtBase = field(GUEST_IDTR_BASE);
        c.idtLimit = field(GUEST_IDTR_LIMIT);
        c.reg[Cpu.ESP] = field(GUEST_RSP);
        c.eip = field(GUEST_RIP);
        int cpl = v86 ? 3 : c.protectedMode() ? rights(Cpu.SS) >>> 5 & 3 : 0; // SS.DPL is the CPL (24.4.1)
        c.forgetCpl();
        c.setCpl(cpl);
    }

    /**
     * Loads an MSR list (26.4, 27.6): 16-byte entries of index, reserved dword, 64-bit value. Returns 0, or the 1-based
     * number of the entry that failed: a reserved dword that is not 0, an x2APIC MSR (800H-8FFH), IA32_SMBASE, or an
     * MSR whose WRMSR would raise #GP.
     */
    int loadMsrs(long address, int count) {
        for (int i = 0; i < count; i++) {
            int entry = (int) address + 16 * i;
            int index = c.memory.readU32(entry);
            long value = c.memory.readU32(entry + 8) & 0xFFFFFFFFL | (long) c.memory.readU32(entry + 12) << 32;
            if (c.memory.readU32(entry + 4) != 0 || index >>> 8 == 0x8 || index == 0x9E) {
                return i + 1;
            }
            try {
                SystemOps.writeMsr(c, index, value);
            } catch (CpuFault refused) {
                return i + 1;
            }
        }
        return 0;
    }

    /**
     * Event injection (26.5): the event in the VM-entry interruption-information field is delivered through the guest
     * IDT as the processor delivers events, as the first act in the guest; the exception bitmap does not apply. A
     * software interrupt or exception pushes the guest RIP plus the VM-entry instruction length. A fault during the
     * delivery is handled as any fault in the guest is, which may be a VM exit recording this event as IDT-vectoring.
     */
    private void inject() {
        int info = field(VM_ENTRY_INTERRUPTION_INFO);
        if (!InterruptionInfo.isValid(info)) {
            return;
        }
        int type = InterruptionInfo.type(info), vector = InterruptionInfo.vector(info);
        int error = InterruptionInfo.hasErrorCode(info) ? field(VM_ENTRY_EXCEPTION_ERROR_CODE)
                : Exceptions.NO_ERROR_CODE;
        int length = InterruptionInfo.isSoftware(type) ? field(VM_ENTRY_INSTRUCTION_LENGTH) : 0;
        Cpu.InterruptKind kind = switch (type) {
            case InterruptionInfo.SOFTWARE_INTERRUPT -> Cpu.InterruptKind.SOFTWARE;
            case InterruptionInfo.SOFTWARE_EXCEPTION -> Cpu.InterruptKind.SOFTWARE_EXCEPTION;
            case InterruptionInfo.HARDWARE_EXCEPTION, InterruptionInfo.PRIVILEGED_SOFTWARE_EXCEPTION ->
                    Cpu.InterruptKind.EXCEPTION;
            default -> Cpu.InterruptKind.EXTERNAL;
        };
        c.halted = false; // a vectoring entry leaves the processor active (26.6.2)
        c.interruptShadowAt = -1;
        c.startEip = c.eip;
        c.startEsp = c.reg[Cpu.ESP];
        c.eip += length;
        v.exit.beginInjection(info & ~InterruptionInfo.NMI_UNBLOCKING, error, length);
        v.exit.deliver(vector, error, kind);
    }
}

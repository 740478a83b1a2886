package hvlab.hw.cpu;

import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.cpu.vmx.InterruptionInfo;
import hvlab.hw.cpu.vmx.VmcsField;
import hvlab.hw.cpu.vmx.VmxCapabilities;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;

/**
 * VMX non-root operation and VM exits (SDM Vol. 3C, chapters 25 and 27): which instructions and events exit, what
 * the exit records (27.2), the guest state it saves (27.3) and the host state it loads (27.5). The controls that
 * decide exits are copied here at VM entry: software cannot change the VMCS while the guest runs (VMWRITE exits).
 *
 * <p>An exit caused by an instruction is fault-like: the guest RIP is the instruction's, the VMM advances it by the
 * VM-exit instruction length. Such exits unwind the interpreter (and a compiled block) with the CPU's one fault path,
 * a {@link CpuFault} whose vector is {@link Vmx#VM_EXITED}: there is nothing left to deliver.
 */
final class VmExit {
    // Activity states (24.4.2) and interruptibility-state bits (Table 24-3).
    static final int ACTIVE = 0, HLT = 1;
    static final int BLOCKING_BY_STI = 1, BLOCKING_BY_MOV_SS = 2, BLOCKING_BY_SMI = 4, BLOCKING_BY_NMI = 8;
    /** Exit qualification of an entry that failed for its VMCS link pointer (26.3.1.5, 27.2.1). */
    static final int QUALIFICATION_LINK_POINTER = 4;
    /** Asks {@link #instruction} to put the memory operand's displacement in the qualification (27.2.1). */
    static final long QUALIFICATION_DISPLACEMENT = Long.MIN_VALUE;

    private final Vmx v;
    private final Cpu c;
    /** "Virtualize APIC accesses" and "use TPR shadow" of the running guest (chapter 29). */
    final ApicVirtualization apicAccesses;

    // The controls of the running guest, read at VM entry.
    int pin, proc, proc2, exitControls, exceptionBitmap, pageFaultMask, pageFaultMatch;
    int cr0Mask, cr4Mask, cr0Shadow, cr4Shadow, cr3TargetCount;
    final int[] cr3Targets = new int[VmxCapabilities.CR3_TARGET_VALUES];
    long tscOffset, vmFunctions;
    /** The guest's VPID, 0 without "enable VPID" (28.1): the tag of the mappings it makes. */
    private int vpid;

    /** The event whose delivery is under way in the guest (IDT-vectoring information, 27.2.3), 0 when none. */
    private int vectoringInfo, vectoringError, vectoringLength;
    /** The event being delivered was injected by the entry: the exception bitmap does not apply (26.5.1). */
    private boolean injecting;

    // What the exit being built records besides reason and qualification (27.2).
    private int exitInterruptionInfo, exitInterruptionError, instructionLength = -1, instructionInfo = -1;
    private long guestLinear = -1;

    // VMX-preemption timer (25.5.1): the TSC value at which it reaches 0, and its start.
    private long timerDeadline = Long.MAX_VALUE, timerStart;
    private long timerValue;
    /** A VM entry happened inside a run slice: leave it so the run loop bounds the next one by the timer. */
    private boolean reslice;

    VmExit(Vmx vmx) {
        this.v = vmx;
        this.c = vmx.c;
        this.apicAccesses = new ApicVirtualization(c);
    }

    private int field(int encoding) {
        return v.vmcs.read32(encoding);
    }

    // =====================================================================================================
    // Entering non-root operation
    // =====================================================================================================

    /** Copies the controls the guest runs under and starts non-root operation (end of 26.3-26.6). */
    void enterNonRoot(int secondary) {
        pin = field(PIN_BASED_CONTROLS);
        proc = field(PRIMARY_PROCESSOR_CONTROLS);
        proc2 = secondary;
        exitControls = field(VM_EXIT_CONTROLS);
        exceptionBitmap = field(EXCEPTION_BITMAP);
        pageFaultMask = field(PAGE_FAULT_ERROR_CODE_MASK);
        pageFaultMatch = field(PAGE_FAULT_ERROR_CODE_MATCH);
        cr0Mask = field(CR0_GUEST_HOST_MASK);
        cr4Mask = field(CR4_GUEST_HOST_MASK);
        cr0Shadow = field(CR0_READ_SHADOW);
        cr4Shadow = field(CR4_READ_SHADOW);
        cr3TargetCount = field(CR3_TARGET_COUNT);
        for (int i = 0; i < cr3Targets.length; i++) {
            cr3Targets[i] = field(CR3_TARGET_VALUE0 + 2 * i);
        }
        tscOffset = (proc & PROC_TSC_OFFSETTING) != 0 ? v.vmcs.read(TSC_OFFSET) : 0;
        vmFunctions = (proc2 & PROC2_VM_FUNCTIONS) != 0 ? v.vmcs.read(VM_FUNCTION_CONTROLS) : 0;
        vectoringInfo = 0;
        vpid = (proc2 & PROC2_VPID) != 0 ? field(VPID) & 0xFFFF : 0;
        if (vpid == 0) {
            c.mmu.flushVpidZero(); // without VPIDs the guest's mappings and the host's share tag 0 (28.3.3.3)
        }
        if ((proc2 & PROC2_EPT) != 0) {
            long eptp = v.vmcs.read(EPT_POINTER);
            c.mmu.useEpt(eptp);
            c.mmu.useContext(vpid, eptp & ~0xFFFL);
        } else {
            c.mmu.leaveEpt();
            c.mmu.useContext(vpid, Mmu.NO_EPT);
        }
        boolean tprShadow = (proc & PROC_TPR_SHADOW) != 0;
        apicAccesses.enter((proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES) != 0
                        ? (int) v.vmcs.read(APIC_ACCESS_ADDRESS) & ~0xFFF : -1,
                tprShadow ? (int) v.vmcs.read(VIRTUAL_APIC_ADDRESS) & ~0xFFF : -1,
                tprShadow ? field(TPR_THRESHOLD) : 0);
        v.nonRoot = true;
        v.transitions++;
        startTimer();
        transitionDone();
    }

    /** After an entry or exit: events are looked at anew and no single-step trap follows. */
    private void transitionDone() {
        c.eventPending = true;
        c.suppressSingleStep();
        reslice = true;
    }

    // =====================================================================================================
    // VMX-preemption timer (25.5.1)
    // =====================================================================================================

    private void startTimer() {
        if ((pin & PIN_PREEMPTION_TIMER) == 0) {
            stopTimer();
            return;
        }
        int rate = VmxCapabilities.PREEMPTION_TIMER_RATE;
        timerValue = field(VMX_PREEMPTION_TIMER_VALUE) & 0xFFFFFFFFL;
        timerStart = SystemOps.timeStampCounter(c);
        timerDeadline = ((timerStart >>> rate) + timerValue) << rate;
    }

    void stopTimer() {
        timerDeadline = Long.MAX_VALUE;
    }

    /** The timer's deadline in virtual time; MAX_VALUE when it is off. */
    long timerDeadlineNanos() {
        return timerDeadline == Long.MAX_VALUE ? Long.MAX_VALUE : timerDeadline - c.tscOffset;
    }

    /** A halted guest is woken by an interrupt that exits, or by one it may take (25.2). */
    boolean interruptCanWake() {
        return (pin & PIN_EXTERNAL_INTERRUPT_EXITING) != 0 || (c.flags & Cpu.IF) != 0;
    }

    private boolean timerExpired() {
        return SystemOps.timeStampCounter(c) >= timerDeadline;
    }

    /** The timer value a VM exit saves: what is left of the count (27.3.2). */
    private long timerRemaining() {
        int rate = VmxCapabilities.PREEMPTION_TIMER_RATE;
        long ticks = (SystemOps.timeStampCounter(c) >>> rate) - (timerStart >>> rate);
        return Math.max(0, timerValue - ticks);
    }

    /** Where the run loop must next stop in non-root operation: the timer's deadline, in retired instructions. */
    long sliceEnd(long end) {
        if (timerDeadline == Long.MAX_VALUE) {
            return end;
        }
        long left = timerDeadline - SystemOps.timeStampCounter(c);
        if (left <= 0) {
            c.eventPending = true;
            return end;
        }
        return Math.min(end, c.retired + left);
    }

    // =====================================================================================================
    // Events at instruction boundaries (25.2, 25.5, 26.7.5-26.7.6; priorities SDM Vol. 3A 6.9)
    // =====================================================================================================

    /** Called by the run loop when an event may be pending in non-root operation; true to leave the loop. */
    boolean events() {
        if (reslice) {
            reslice = false;
            c.eventPending = true;
            return true;
        }
        if (apicAccesses.exitPending) { // trap-like, before anything else pending (29.1.2, 26.7.7)
            perform(ExitReason.TPR_BELOW_THRESHOLD, 0);
            return false;
        }
        if (timerExpired()) {
            perform(ExitReason.PREEMPTION_TIMER, 0);
            return false;
        }
        boolean shadow = c.interruptShadowAt == c.retired;
        boolean interruptsOn = (c.flags & Cpu.IF) != 0;
        if ((proc & PROC_NMI_WINDOW_EXITING) != 0 && c.stackLoadAt != c.retired) {
            perform(ExitReason.NMI_WINDOW, 0); // no virtual-NMI blocking is ever in effect: no NMIs are modelled
            return false;
        }
        if ((proc & PROC_INTERRUPT_WINDOW_EXITING) != 0 && interruptsOn) {
            if (!shadow) { // takes priority over external interrupts (26.7.5)
                perform(ExitReason.INTERRUPT_WINDOW, 0);
                return false;
            }
            c.eventPending = true;
        }
        if (!c.interrupts.hasPendingInterrupt()) {
            return false;
        }
        boolean exiting = (pin & PIN_EXTERNAL_INTERRUPT_EXITING) != 0;
        if (shadow) {
            if (exiting || interruptsOn) {
                c.eventPending = true; // look again after the shadowed instruction
            }
            return false;
        }
        if (exiting) { // whatever RFLAGS.IF says (25.2)
            externalInterruptExit();
        } else if (interruptsOn) {
            c.deliverExternalInterrupt();
        }
        return false;
    }

    /** A halted guest wakes for what would exit or be delivered (25.2, 26.6.2); true when the CPU runs again. */
    boolean wakeFromHalt() {
        c.eventPending = false;
        boolean interruptsOn = (c.flags & Cpu.IF) != 0;
        if (apicAccesses.exitPending) { // wakes a guest that entered in the HLT state (26.7.7)
            perform(ExitReason.TPR_BELOW_THRESHOLD, 0);
        } else if (timerExpired()) {
            perform(ExitReason.PREEMPTION_TIMER, 0);
        } else if ((proc & PROC_INTERRUPT_WINDOW_EXITING) != 0 && interruptsOn) {
            perform(ExitReason.INTERRUPT_WINDOW, 0);
        } else if (c.interrupts.hasPendingInterrupt() && (pin & PIN_EXTERNAL_INTERRUPT_EXITING) != 0) {
            externalInterruptExit();
        } else if (c.interrupts.hasPendingInterrupt() && interruptsOn) {
            c.halted = false;
            c.deliverExternalInterrupt();
        } else {
            return false;
        }
        return true;
    }

    /** Exit 1; with "acknowledge interrupt on exit" the processor takes the vector from the controller (27.2.2). */
    private void externalInterruptExit() {
        if ((exitControls & EXIT_ACKNOWLEDGE_INTERRUPT) != 0) {
            int vector = c.interrupts.acknowledge() & 0xFF;
            exitInterruptionInfo = InterruptionInfo.of(vector, InterruptionInfo.EXTERNAL_INTERRUPT, false);
        }
        perform(ExitReason.EXTERNAL_INTERRUPT, 0);
    }

    // =====================================================================================================
    // Exceptions and event delivery in the guest (25.2, 27.2.2-27.2.3; double faults SDM Vol. 3A 6.15)
    // =====================================================================================================

    void beginInjection(int info, int error, int length) {
        vectoringInfo = info;
        vectoringError = error;
        vectoringLength = length;
        injecting = true;
    }

    /**
     * Called by {@link Cpu#interrupt} before an event is delivered through the guest IDT: an exception whose bit is
     * set in the exception bitmap exits instead (then this returns true); otherwise the event is remembered as the one
     * being delivered, for the IDT-vectoring information of an exit during its delivery.
     */
    boolean intercept(int vector, int error, Cpu.InterruptKind kind) {
        if (injecting) {
            injecting = false;
            return false;
        }
        int type = eventType(vector, kind);
        boolean errorCode = error >= 0 && c.protectedMode();
        int info = InterruptionInfo.of(vector, type, errorCode);
        boolean software = InterruptionInfo.isSoftware(type);
        if (type != InterruptionInfo.SOFTWARE_INTERRUPT && type != InterruptionInfo.EXTERNAL_INTERRUPT
                && exceptionExits(vector, error)) {
            exceptionExit(info, error, software);
            return true;
        }
        vectoringInfo = info;
        vectoringError = errorCode ? error : 0;
        vectoringLength = software ? instructionLengthSoFar() : 0;
        return false;
    }

    /** The IDT event has been delivered: no event is under way any more. */
    void delivered() {
        vectoringInfo = 0;
    }

    /** Whether an event is being delivered through the guest IDT (its IDT-vectoring information is valid). */
    boolean deliveringEvent() {
        return InterruptionInfo.isValid(vectoringInfo);
    }

    private int eventType(int vector, Cpu.InterruptKind kind) {
        return switch (kind) {
            case EXTERNAL -> InterruptionInfo.EXTERNAL_INTERRUPT;
            case SOFTWARE -> InterruptionInfo.SOFTWARE_INTERRUPT;
            case SOFTWARE_EXCEPTION -> InterruptionInfo.SOFTWARE_EXCEPTION;
            // INT1 (ICEBP) is the only #DB raised by an instruction that then completes
            case EXCEPTION -> vector == Exceptions.DB && c.eip != c.startEip
                    ? InterruptionInfo.PRIVILEGED_SOFTWARE_EXCEPTION : InterruptionInfo.HARDWARE_EXCEPTION;
        };
    }

    /** The exception bitmap, with the page-fault error-code mask and match (25.2). */
    private boolean exceptionExits(int vector, int error) {
        boolean bit = (exceptionBitmap >>> vector & 1) != 0;
        if (vector == Exceptions.PF && (error & pageFaultMask) != pageFaultMatch) {
            return !bit;
        }
        return bit;
    }

    /**
     * Exit 0 for an exception (27.2.1-27.2.2): #PF leaves CR2 and #DB leaves DR6 as they were, the qualification
     * holding what they would have received; a software exception's RIP is the instruction's own, with its length.
     */
    private void exceptionExit(int info, int error, boolean software) {
        int vector = InterruptionInfo.vector(info);
        long qualification = 0;
        if (vector == Exceptions.PF && !software) {
            qualification = c.cr2 & 0xFFFFFFFFL;
            c.cr2 = c.cr2BeforeFault;
        } else if (vector == Exceptions.DB && InterruptionInfo.type(info) == InterruptionInfo.HARDWARE_EXCEPTION) {
            qualification = c.dr[6] & ~c.dr6BeforeStep & 0x600F;
            c.dr[6] = c.dr6BeforeStep;
        }
        exitInterruptionInfo = info;
        exitInterruptionError = InterruptionInfo.hasErrorCode(info) ? error : 0;
        if (software) {
            instructionLength = instructionLengthSoFar();
            c.eip = c.startEip;
        }
        perform(ExitReason.EXCEPTION_OR_NMI, qualification);
    }

    /**
     * Delivers an exception raised in the guest (from the run loop, and for faults during injection): the bitmap is
     * consulted for it before the double-fault rules pair it with the event under way (27.2.3: such an exit records
     * that event as IDT-vectoring, no #DF arises); a fault while delivering #DF is a triple fault, exit 2 (25.2).
     */
    void deliverException(int vector, int error) {
        int prior = vectoringInfo;
        if (InterruptionInfo.isValid(prior)) {
            if (exceptionExits(vector, error)) {
                exceptionExit(InterruptionInfo.of(vector, InterruptionInfo.HARDWARE_EXCEPTION,
                        Exceptions.pushesErrorCode(vector) && c.protectedMode()), error, false);
                return;
            }
            if (InterruptionInfo.type(prior) == InterruptionInfo.HARDWARE_EXCEPTION) {
                int delivered = Exceptions.duringDelivery(InterruptionInfo.vector(prior), vector);
                if (delivered == Exceptions.TRIPLE_FAULT) {
                    vectoringInfo = 0;
                    perform(ExitReason.TRIPLE_FAULT, 0);
                    return;
                }
                if (delivered != vector) {
                    vector = Exceptions.DF;
                    error = 0;
                }
            }
            vectoringInfo = 0;
        }
        deliver(vector, error, Cpu.InterruptKind.EXCEPTION);
    }

    /** Delivers an event in the guest; a fault on the way is delivered (or exits) in turn. */
    void deliver(int vector, int error, Cpu.InterruptKind kind) {
        try {
            c.interrupt(vector, error, kind);
        } catch (CpuFault nested) {
            injecting = false;
            if (c.faultVector == Vmx.VM_EXITED) {
                return;
            }
            c.eip = c.startEip;
            c.reg[Cpu.ESP] = c.startEsp;
            c.counters.exception(c.faultVector);
            deliverException(c.faultVector, c.faultError);
        }
        c.eventPending = true;
    }

    // =====================================================================================================
    // Instructions in non-root operation (25.1)
    // =====================================================================================================

    /** The bytes of the current instruction fetched so far (its length once decoded), in 16- or 32-bit code. */
    private int instructionLengthSoFar() {
        int length = c.eip - c.startEip;
        return c.code32 ? length : length & 0xFFFF;
    }

    /**
     * A fault-like exit for the instruction being executed: RIP and RSP go back to its start, the length is recorded,
     * and the returned fault unwinds the interpreter (the caller throws it).
     */
    CpuFault instruction(int reason, long qualification) {
        instructionLength = instructionLengthSoFar();
        if (qualification == QUALIFICATION_DISPLACEMENT) {
            VmxDecode.OperandInfo operand = VmxDecode.OperandInfo.decode(c);
            instructionInfo = operand.info();
            qualification = operand.displacement() & 0xFFFFFFFFL;
        }
        c.eip = c.startEip;
        c.reg[Cpu.ESP] = c.startEsp;
        perform(reason, qualification);
        return c.fault(Vmx.VM_EXITED, 0);
    }

    void cpuid() {
        throw instruction(ExitReason.CPUID, 0);
    }

    void hlt() {
        if ((proc & PROC_HLT_EXITING) != 0) {
            throw instruction(ExitReason.HLT, 0);
        }
    }

    void invlpg(int linear) {
        if ((proc & PROC_INVLPG_EXITING) != 0) {
            throw instruction(ExitReason.INVLPG, linear & 0xFFFFFFFFL);
        }
    }

    void invd() {
        throw instruction(ExitReason.INVD, 0);
    }

    void wbinvd() {
        if ((proc2 & PROC2_WBINVD_EXITING) != 0) {
            throw instruction(ExitReason.WBINVD, 0);
        }
    }

    /** RDTSC (25.1.3, 25.3): exits with "RDTSC exiting", else reads the TSC plus the offset. */
    long rdtsc(long tsc) {
        if ((proc & PROC_RDTSC_EXITING) != 0) {
            throw instruction(ExitReason.RDTSC, 0);
        }
        return tsc + tscOffset;
    }

    /** MOV DR (25.1.3): exit 29 with the DR number, direction and GPR (Table 27-4). */
    void movDr(boolean toDr, int dr, int gpr) {
        if ((proc & PROC_MOV_DR_EXITING) != 0) {
            throw instruction(ExitReason.MOV_DR, dr | (toDr ? 0 : 1 << 4) | gpr << 8);
        }
    }

    /** RDMSR and WRMSR against the MSR bitmap (24.6.9, 25.1.3); IA32_TSC reads add the TSC offset (25.3). */
    void msr(boolean write, int index) {
        if (msrExits(write, index)) {
            throw instruction(write ? ExitReason.WRMSR : ExitReason.RDMSR, 0);
        }
    }

    private boolean msrExits(boolean write, int index) {
        if ((proc & PROC_MSR_BITMAPS) == 0) {
            return true;
        }
        int offset;
        if (Integer.compareUnsigned(index, 0x1FFF) <= 0) {
            offset = 0;
        } else if (Integer.compareUnsigned(index - 0xC0000000, 0x1FFF) <= 0) {
            offset = 1024;
        } else {
            return true;
        }
        int bit = index & 0x1FFF;
        int bitmap = (int) v.vmcs.read(MSR_BITMAP) + (write ? 2048 : 0) + offset;
        return (c.memory.readU8(bitmap + (bit >>> 3)) >>> (bit & 7) & 1) != 0;
    }

    long tscOffset() {
        return tscOffset;
    }

    /**
     * IN, OUT, INS, OUTS (25.1.3): with "use I/O bitmaps" each port the access touches is looked up in bitmap A
     * (0000-7FFF) or B (8000-FFFF), and an access wrapping past FFFF exits; otherwise "unconditional I/O exiting"
     * decides. The qualification is Table 27-5's; INS/OUTS add the linear address and instruction information.
     */
    void io(int port, int width) {
        if (!ioExits(port, width)) {
            return;
        }
        VmxDecode.IoInstruction insn = VmxDecode.IoInstruction.decode(c);
        long qualification = (width - 1) | (insn.in() ? 1 << 3 : 0) | (insn.string() ? 1 << 4 : 0)
                | (insn.string() && c.repPrefix != 0 ? 1 << 5 : 0) | (insn.immediate() ? 1 << 6 : 0)
                | (long) port << 16;
        if (insn.string()) {
            int seg = insn.in() ? Cpu.ES : c.segOverride >= 0 ? c.segOverride : Cpu.DS;
            int offset = c.reg[insn.in() ? Cpu.EDI : Cpu.ESI];
            guestLinear = (c.segBase[seg] + (c.addrSize32 ? offset : offset & 0xFFFF)) & 0xFFFFFFFFL;
            instructionInfo = (c.addrSize32 ? 1 : 0) << 7 | seg << 15;
        }
        throw instruction(ExitReason.IO_INSTRUCTION, qualification);
    }

    private boolean ioExits(int port, int width) {
        if ((proc & PROC_IO_BITMAPS) == 0) {
            return (proc & PROC_UNCONDITIONAL_IO_EXITING) != 0;
        }
        for (int p = port; p < port + width; p++) {
            if (p > 0xFFFF) {
                return true; // the access wraps around the I/O space
            }
            long bitmap = v.vmcs.read(p < 0x8000 ? IO_BITMAP_A : IO_BITMAP_B);
            int bit = p & 0x7FFF;
            if ((c.memory.readU8((int) bitmap + (bit >>> 3)) >>> (bit & 7) & 1) != 0) {
                return true;
            }
        }
        return false;
    }

    // ---- control registers (25.1.3, 25.3) ----

    private static final int MOV_TO_CR = 0, MOV_FROM_CR = 1, CLTS = 2, LMSW = 3;

    private CpuFault crExit(int cr, int accessType, int gpr, long extra) {
        return instruction(ExitReason.CONTROL_REGISTER_ACCESS, cr | accessType << 4 | gpr << 8 | extra);
    }

    /**
     * MOV to or from CR0, CR3 or CR4 in non-root operation. Returns true when the access has been done here (CR0 and
     * CR4 under their guest/host masks), false when the normal instruction must run; throws for an exit.
     */
    boolean movCr(boolean toCr, int cr, int gpr) {
        switch (cr) {
            case 0, 4 -> {
                int mask = cr == 0 ? cr0Mask : cr4Mask, shadow = cr == 0 ? cr0Shadow : cr4Shadow;
                int real = cr == 0 ? c.cr0 : c.cr4;
                if (!toCr) { // reads see the read shadow in the bits the host owns
                    c.reg[gpr] = real & ~mask | shadow & mask;
                    return true;
                }
                int value = c.reg[gpr];
                if (((value ^ shadow) & mask) != 0) {
                    throw crExit(cr, MOV_TO_CR, gpr, 0);
                }
                int written = value & ~mask | real & mask; // owned bits keep their values
                if (cr == 0) {
                    SystemOps.writeCr0(c, written);
                } else {
                    SystemOps.writeCr4(c, written);
                }
                return true;
            }
            case 3 -> {
                if (toCr ? (proc & PROC_CR3_LOAD_EXITING) != 0 && !cr3Target(c.reg[gpr])
                        : (proc & PROC_CR3_STORE_EXITING) != 0) {
                    throw crExit(3, toCr ? MOV_TO_CR : MOV_FROM_CR, gpr, 0);
                }
                return false;
            }
            default -> {
                return false;
            }
        }
    }

    /** A MOV to CR3 of one of the first CR3-target-count target values does not exit (25.1.3). */
    private boolean cr3Target(int value) {
        for (int i = 0; i < cr3TargetCount && i < cr3Targets.length; i++) {
            if (cr3Targets[i] == value) {
                return true;
            }
        }
        return false;
    }

    /** CLTS (25.1.3, 25.3): exits if TS is owned and set in the shadow; if owned and clear there, changes nothing. */
    boolean clts() {
        if ((cr0Mask & Cpu.CR0_TS) != 0) {
            if ((cr0Shadow & Cpu.CR0_TS) != 0) {
                throw crExit(0, CLTS, 0, 0);
            }
            return true;
        }
        return false;
    }

    /**
     * LMSW (25.1.3): exits if it would set an owned PE the shadow has clear, or write an owned MP/EM/TS differently
     * from the shadow; otherwise owned bits keep their values. Returns the CR0 value LMSW may leave.
     */
    int lmsw(int source, int cr0, boolean memory, int linear) {
        int owned = cr0Mask & 0xF;
        if ((owned & 1) != 0 && (source & 1) != 0 && (cr0Shadow & 1) == 0
                || ((source ^ cr0Shadow) & owned & 0xE) != 0) {
            if (memory) {
                guestLinear = linear & 0xFFFFFFFFL;
            }
            throw crExit(0, LMSW, 0, (memory ? 1 << 6 : 0) | (long) (source & 0xFFFF) << 16);
        }
        return cr0 & ~owned | c.cr0 & owned;
    }

    /** SMSW and MOV from CR0 see the read shadow in the owned bits (25.3). */
    int guestCr0() {
        return c.cr0 & ~cr0Mask | cr0Shadow & cr0Mask;
    }

    /** A task switch always exits (25.1.2); the qualification has the TSS selector and its source (Table 27-3). */
    void taskSwitch(int selector, TaskSwitch.Source why) {
        int source = switch (why) {
            case CALL -> 0;
            case IRET -> 1;
            case JMP -> 2;
            case INTERRUPT -> TASK_GATE_IN_IDT;
        };
        long qualification = selector & 0xFFFF | (long) source << 30;
        if (source == TASK_GATE_IN_IDT) {
            perform(ExitReason.TASK_SWITCH, qualification);
            throw c.fault(Vmx.VM_EXITED, 0);
        }
        throw instruction(ExitReason.TASK_SWITCH, qualification);
    }

    private static final int TASK_GATE_IN_IDT = 3;

    /** VMFUNC (25.5.6): function 0 switches the EPTP to entry ECX of the EPTP list; anything else exits (59). */
    void vmfunc(int function, int index) {
        if (Integer.compareUnsigned(function, 63) > 0 || (vmFunctions >>> function & 1) == 0
                || Integer.compareUnsigned(index, 512) >= 0) {
            throw instruction(ExitReason.VMFUNC, 0);
        }
        int entry = (int) v.vmcs.read(EPTP_LIST_ADDRESS) + 8 * index;
        long eptp = c.memory.readU32(entry) & 0xFFFFFFFFL | (long) c.memory.readU32(entry + 4) << 32;
        if (!VmxCapabilities.validEptp(eptp)) {
            throw instruction(ExitReason.VMFUNC, 0);
        }
        v.vmcs.write(EPT_POINTER, eptp);
        c.mmu.useEpt(eptp);
        c.mmu.useContext(vpid, eptp & ~0xFFFL); // mappings cached for the new EPT root may be used (28.3.1)
    }

    /**
     * An EPT-induced VM exit (28.2.3) met while translating a guest-physical address: fault-like, the instruction (or
     * the event delivery) starts again after the VMM's work. An EPT violation (48) reports its qualification and the
     * guest-linear address; both report the guest-physical address (27.2.1).
     */
    CpuFault eptExit(int reason, long qualification, int gpa, int linear) {
        v.vmcs.write(GUEST_PHYSICAL_ADDRESS, gpa & 0xFFFFFFFFL);
        if (reason == ExitReason.EPT_VIOLATION) {
            guestLinear = linear & 0xFFFFFFFFL;
        }
        return faultLike(reason, qualification);
    }

    /** A fault-like exit met during an instruction: the guest state saved is the instruction's start. */
    CpuFault faultLike(int reason, long qualification) {
        c.eip = c.startEip;
        c.reg[Cpu.ESP] = c.startEsp;
        perform(reason, qualification);
        return c.fault(Vmx.VM_EXITED, 0);
    }

    // =====================================================================================================
    // The VM exit (27.1-27.7)
    // =====================================================================================================

    /**
     * A VM exit: records the exit information (27.2), saves the guest state (27.3) and the exit MSR-store list
     * (27.4), loads the host state (27.5) and the exit MSR-load list (27.6). A failure in either list is a VMX abort.
     */
    void perform(int reason, long qualification) {
        var vmcs = v.vmcs;
        vmcs.write(EXIT_REASON, reason);
        vmcs.write(EXIT_QUALIFICATION, qualification);
        vmcs.write(VM_EXIT_INTERRUPTION_INFO, exitInterruptionInfo);
        if (InterruptionInfo.isValid(exitInterruptionInfo)) {
            vmcs.write(VM_EXIT_INTERRUPTION_ERROR_CODE, exitInterruptionError);
        }
        int vectoring = vectoringInfo;
        vmcs.write(IDT_VECTORING_INFO, vectoring);
        if (InterruptionInfo.isValid(vectoring)) {
            vmcs.write(IDT_VECTORING_ERROR_CODE, vectoringError);
            if (InterruptionInfo.isSoftware(InterruptionInfo.type(vectoring)) && instructionLength < 0) {
                instructionLength = vectoringLength;
                c.eip = c.startEip; // the software interrupt's own address (27.3.3)
            }
        }
        if (instructionLength >= 0) {
            vmcs.write(VM_EXIT_INSTRUCTION_LENGTH, instructionLength);
        }
        if (instructionInfo != -1) {
            vmcs.write(VM_EXIT_INSTRUCTION_INFO, instructionInfo);
        }
        if (guestLinear >= 0) {
            vmcs.write(GUEST_LINEAR_ADDRESS, guestLinear);
        }
        int entryInfo = vmcs.read32(VM_ENTRY_INTERRUPTION_INFO);
        vmcs.write(VM_ENTRY_INTERRUPTION_INFO, entryInfo & ~InterruptionInfo.VALID); // every VM exit clears it (27.2)
        saveGuestState();
        if (!storeMsrs()) {
            abort(1);
            return;
        }
        finishExit();
        loadHostState();
    }

    /** A VM entry that fails after its guest-state checks or MSR loading (26.8): host state, no guest state saved. */
    void entryFailure(int reason, int qualification) {
        v.vmcs.write(EXIT_REASON, reason | ExitReason.ENTRY_FAILURE);
        v.vmcs.write(EXIT_QUALIFICATION, qualification);
        finishExit();
        loadHostState();
    }

    private void finishExit() {
        exitInterruptionInfo = 0;
        exitInterruptionError = 0;
        instructionLength = -1;
        instructionInfo = -1;
        guestLinear = -1;
        vectoringInfo = 0;
        injecting = false;
        v.nonRoot = false;
        apicAccesses.leave();
        c.mmu.leaveEpt();
        if (vpid == 0) {
            c.mmu.flushVpidZero();
        }
        c.mmu.useContext(0, Mmu.NO_EPT); // VMX root operation's mappings: VPID 0 (28.1)
        v.transitions++;
        stopTimer();
    }

    /** 27.3: the guest state the processor saves. */
    private void saveGuestState() {
        var vmcs = v.vmcs;
        vmcs.write(GUEST_CR0, c.cr0);
        vmcs.write(GUEST_CR3, c.cr3);
        vmcs.write(GUEST_CR4, c.cr4);
        if ((exitControls & EXIT_SAVE_DEBUG_CONTROLS) != 0) {
            vmcs.write(GUEST_DR7, c.dr[7]);
            vmcs.write(GUEST_IA32_DEBUGCTL, 0); // IA32_DEBUGCTL is not modelled: it reads as 0
        }
        vmcs.write(GUEST_IA32_SYSENTER_CS, c.sysenterCs);
        vmcs.write(GUEST_IA32_SYSENTER_ESP, c.sysenterEsp);
        vmcs.write(GUEST_IA32_SYSENTER_EIP, c.sysenterEip);
        boolean v86 = c.v86Mode();
        for (int s = Cpu.ES; s <= Cpu.GS; s++) {
            vmcs.write(VmcsField.guestSelector(s), c.segSel[s]);
            vmcs.write(VmcsField.guestBase(s), c.segBase[s]);
            vmcs.write(VmcsField.guestLimit(s), c.segLimit[s]);
            vmcs.write(VmcsField.guestAccessRights(s), v86 ? 0xF3 : segmentRights(s));
        }
        vmcs.write(VmcsField.guestSelector(VmEntry.LDTR), c.ldtSel);
        vmcs.write(GUEST_LDTR_BASE, c.ldtBase);
        vmcs.write(GUEST_LDTR_LIMIT, c.ldtLimit);
        // unusable once a null selector was loaded (LLDT clears the cache); the reset LDTR (selector 0, a present LDT
        // cache, SDM Vol. 3A Table 9-1) stays usable, so a guest that never loads one keeps it across exits
        vmcs.write(GUEST_LDTR_ACCESS_RIGHTS, c.ldtAttr == 0 ? VmEntry.UNUSABLE : c.ldtAttr);
        vmcs.write(GUEST_TR_SELECTOR, c.trSel);
        vmcs.write(GUEST_TR_BASE, c.trBase);
        vmcs.write(GUEST_TR_LIMIT, c.trLimit);
        vmcs.write(GUEST_TR_ACCESS_RIGHTS, c.trAttr);
        vmcs.write(GUEST_GDTR_BASE, c.gdtBase);
        vmcs.write(GUEST_GDTR_LIMIT, c.gdtLimit & 0xFFFF);
        vmcs.write(GUEST_IDTR_BASE, c.idtBase);
        vmcs.write(GUEST_IDTR_LIMIT, c.idtLimit & 0xFFFF);
        vmcs.write(GUEST_RSP, c.reg[Cpu.ESP]);
        vmcs.write(GUEST_RIP, c.eip);
        vmcs.write(GUEST_RFLAGS, c.eflags());
        vmcs.write(GUEST_ACTIVITY_STATE, c.halted ? HLT : ACTIVE);
        int interruptibility = 0;
        if (c.interruptShadowAt == c.retired) {
            interruptibility = c.stackLoadAt == c.retired ? BLOCKING_BY_MOV_SS : BLOCKING_BY_STI;
        }
        vmcs.write(GUEST_INTERRUPTIBILITY_STATE, interruptibility);
        vmcs.write(GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
        if ((exitControls & EXIT_SAVE_PREEMPTION_TIMER) != 0) {
            vmcs.write(VMX_PREEMPTION_TIMER_VALUE, timerRemaining());
        }
    }

    /** Access rights as the VMCS holds them (24.4.1): a null data or stack segment is unusable, SS keeping its DPL. */
    private int segmentRights(int s) {
        int attr = c.segAttr[s];
        if (attr == 0 && c.protectedMode() && s != Cpu.CS) {
            return VmEntry.UNUSABLE | (s == Cpu.SS ? c.cpl << 5 : 0);
        }
        return attr & 0xF0FF;
    }

    private static final int[] HOST_DATA_SEGMENTS = {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS};

    /** 27.5: the host state; RFLAGS is 2, CS and the data segments flat ring 0, LDTR unusable, TR a busy TSS. */
    private void loadHostState() {
        var vmcs = v.vmcs;
        c.cr0 = vmcs.read32(HOST_CR0) | Cpu.CR0_ET;
        c.cr3 = vmcs.read32(HOST_CR3);
        c.cr4 = vmcs.read32(HOST_CR4);
        c.dr[7] = 0x400;
        c.sysenterCs = vmcs.read32(HOST_IA32_SYSENTER_CS);
        c.sysenterEsp = vmcs.read32(HOST_IA32_SYSENTER_ESP);
        c.sysenterEip = vmcs.read32(HOST_IA32_SYSENTER_EIP);
        c.flags = 2;
        c.ccOp = Alu.CC_NONE;
        c.loadSegmentParts(Cpu.CS, vmcs.read32(HOST_CS_SELECTOR), 0, -1, 0xC09B);
        for (int s : HOST_DATA_SEGMENTS) {
            int selector = vmcs.read32(HOST_ES_SELECTOR + 2 * s);
            if (selector == 0) {
                c.loadNullSegment(s, 0);
                continue;
            }
            int base = s == Cpu.FS ? vmcs.read32(HOST_FS_BASE) : s == Cpu.GS ? vmcs.read32(HOST_GS_BASE) : 0;
            c.loadSegmentParts(s, selector, base, -1, 0xC093);
        }
        c.trSel = vmcs.read32(HOST_TR_SELECTOR);
        c.trBase = vmcs.read32(HOST_TR_BASE);
        c.trLimit = 0x67;
        c.trAttr = 0x8B;
        c.ldtSel = c.ldtBase = c.ldtLimit = c.ldtAttr = 0;
        c.gdtBase = vmcs.read32(HOST_GDTR_BASE);
        c.gdtLimit = 0xFFFF;
        c.idtBase = vmcs.read32(HOST_IDTR_BASE);
        c.idtLimit = 0xFFFF;
        c.reg[Cpu.ESP] = vmcs.read32(HOST_RSP);
        c.eip = vmcs.read32(HOST_RIP);
        c.forgetCpl();
        c.setCpl(0);
        c.halted = false;
        c.interruptShadowAt = -1;
        transitionDone();
        if (v.entry.loadMsrs(vmcs.read(VM_EXIT_MSR_LOAD_ADDRESS), vmcs.read32(VM_EXIT_MSR_LOAD_COUNT)) > 0) {
            abort(4);
        }
    }

    /** The VM-exit MSR-store list (27.4): each listed MSR's value goes into its entry. False on a bad entry. */
    private boolean storeMsrs() {
        long address = v.vmcs.read(VM_EXIT_MSR_STORE_ADDRESS);
        int count = v.vmcs.read32(VM_EXIT_MSR_STORE_COUNT);
        for (int i = 0; i < count; i++) {
            int entry = (int) address + 16 * i;
            int index = c.memory.readU32(entry);
            if (c.memory.readU32(entry + 4) != 0 || index >>> 8 == 0x8) {
                return false;
            }
            long value;
            try {
                value = SystemOps.readMsr(c, index);
            } catch (CpuFault refused) {
                return false;
            }
            c.memory.writeU32(entry + 8, (int) value);
            c.memory.writeU32(entry + 12, (int) (value >>> 32));
        }
        return true;
    }

    /** VMX abort (27.7): the indicator goes into the VMCS region and the processor shuts down. */
    private void abort(int indicator) {
        long region = v.vmcs.address();
        if (region >= 0) {
            c.memory.writeU32((int) region + 4, indicator);
        }
        finishExit();
        c.shutdown("VMX abort " + indicator);
    }
}

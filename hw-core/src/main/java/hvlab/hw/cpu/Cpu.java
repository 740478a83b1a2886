package hvlab.hw.cpu;

import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.irq.InterruptController;
import hvlab.hw.memory.PhysicalMemory;

/**
 * One IA-32 processor: architectural state, segmentation, paging with a software TLB, exception and interrupt
 * delivery. The instruction handlers live beside it ({@link Interpreter}, {@link Alu}, {@link SystemOps}); they
 * work on the plain fields here. Faults unwind through {@link CpuFault} to {@link #run(long)}, which delivers them.
 */
public final class Cpu {
    // General registers, in the ModRM encoding order.
    public static final int EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
    // Segment registers, in the ModRM/Sreg encoding order.
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

    // EFLAGS bits (SDM Vol. 1, 3.4.3).
    public static final int CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8, IF = 1 << 9,
            DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17, AC = 1 << 18,
            VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;
    static final int ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

    // CR0 and CR4 bits (SDM Vol. 3A, 2.5).
    public static final int CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 16, CR0_NE = 32,
            CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
    public static final int CR4_VME = 1, CR4_PVI = 2, CR4_TSD = 4, CR4_DE = 8, CR4_PSE = 16, CR4_PAE = 32,
            CR4_MCE = 64, CR4_PGE = 128, CR4_PCE = 256, CR4_OSFXSR = 512, CR4_OSXMMEXCPT = 1024;
    static final int CR4_SUPPORTED = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE | CR4_PCE
            | CR4_OSFXSR;

    // Segment cache access bits.
    static final int SEG_READ = 1, SEG_WRITE = 2;

    // ---- architectural state ----
    final int[] reg = new int[8];
    int eip;
    /** EFLAGS; the arithmetic bits are valid only while {@code ccOp == Alu.CC_NONE}. */
    int flags = 2;
    int ccOp, ccA, ccB, ccRes, ccCarry;

    final int[] segSel = new int[6];
    final int[] segBase = new int[6];
    /** Raw descriptor attribute bits 8..23 of the high dword (type, S, DPL, P, AVL, D/B, G). */
    final int[] segAttr = new int[6];
    final int[] segLimit = new int[6];
    /** Lowest and highest valid offset (expand-down segments turn the limit around), unsigned. */
    final long[] segLow = new long[6];
    final long[] segHigh = new long[6];
    final int[] segAccess = new int[6];
    int cpl;
    boolean code32, stack32;

    int gdtBase, gdtLimit, idtBase, idtLimit;
    int ldtSel, ldtBase, ldtLimit, ldtAttr;
    int trSel, trBase, trLimit, trAttr;
    int cr0 = CR0_ET, cr2, cr3, cr4;
    final int[] dr = new int[8];
    int sysenterCs, sysenterEsp, sysenterEip;
    long tscOffset;

    boolean halted;
    /** Retired instruction count at which interrupts are inhibited (after STI, MOV SS, POP SS). */
    long interruptShadowAt = -1;

    // ---- per-instruction decode state ----
    int startEip, startEsp;
    int segOverride;
    boolean opSize32, addrSize32;
    int repPrefix;
    boolean lockPrefix;
    int modrmMod, modrmReg, modrmRm;
    int eaSeg, eaOff;

    // ---- machine wiring ----
    final PhysicalMemory memory;
    final byte[] ram;
    final PortBus ports;
    final VirtualClock clock;
    InterruptController interrupts;
    CpuHost host;

    // ---- time and events ----
    long retired;
    /** Virtual time in ns when {@link #retired} was {@link #retiredAtTimeBase}; one instruction takes one ns. */
    private long timeBase, retiredAtTimeBase;
    /** Set by anything that may make an interrupt deliverable; checked between instructions. */
    boolean eventPending = true;
    boolean stopRequested;
    /** The next instruction runs in the interpreter, not in a compiled block (see {@link Vmx#INTERPRET_ALONE}). */
    boolean interpretAlone;

    // ---- fault being delivered ----
    int faultVector, faultError;
    private int deliveringVector = -1;

    final CpuCounters counters = new CpuCounters();

    /** DR6.BS: the debug exception was a single step (SDM Vol. 3A, 17.2.3). */
    static final int DR6_SINGLE_STEP = 1 << 14;
    /** An interrupt or exception was delivered during the current instruction (no single-step trap after it). */
    private boolean eventDelivered;
    /** A single-step trap waits one instruction (after MOV SS or POP SS). */
    private boolean singleStepDeferred;
    /** Retired count right after the last MOV SS or POP SS (SDM 6.8.3: it delays debug traps too). */
    long stackLoadAt = -1;
    /** CR2 and DR6 before the last #PF and single-step trap: a VM exit for them leaves both as they were. */
    int cr2BeforeFault, dr6BeforeStep;

    /** Never a page address: no hypervisor entry page is set. */
    private static final int NO_ENTRY_PAGE = 1;
    private int hypervisorEntryPage = NO_ENTRY_PAGE;
    private HypervisorEntry hypervisorEntry;
    /**
     * Hypervisor entries in a row with no instruction retired between them. Host software runs in no guest time, so
     * a guest whose every instruction exits (a task that IRETs to a CALL of itself, a fault the hypervisor reflects
     * onto its own faulting instruction) would spin for ever with the virtual clock and the run's budget standing.
     */
    private int entriesWithoutProgress;
    private long retiredAtLastEntry = -1;
    static final int ENTRIES_WITHOUT_PROGRESS_LIMIT = 1_000_000;
    final SystemOps.InnerStack innerStack = new SystemOps.InnerStack(this);
    /** Compiled blocks, or null when the interpreter runs alone ({@code -Dhvlab.jit=false}). */
    final BlockCache blocks;
    /** Sees each instruction before it runs; null (the normal case) to run at full speed. */
    private InstructionTracer tracer;
    /** The retired count at which the current run slice ends; compiled loops stop there. */
    long runEnd;
    final Mmu mmu;
    final Interpreter interpreter;
    final X87 x87;
    /** This processor's own state as task switching sees it; its descriptor reads serve every segment load. */
    private final NativeTaskProcessor system = new NativeTaskProcessor(this);
    final TaskSwitch tasks = new TaskSwitch(system);
    /** VT-x (SDM Vol. 3C ch. 23-30); present in every CPU, reported and usable only when {@link #setVmxSupported}. */
    final Vmx vmx = new Vmx(this);
    final P6PerformanceCounters performanceCounters = new P6PerformanceCounters();

    public Cpu(PhysicalMemory memory, PortBus ports, VirtualClock clock) {
        this.memory = memory;
        this.ram = memory.ram();
        this.ports = ports;
        this.clock = clock;
        this.blocks = Boolean.parseBoolean(System.getProperty("hvlab.jit", "true")) ? new BlockCache(ram) : null;
        this.mmu = new Mmu(this);
        this.interpreter = new Interpreter(this);
        this.x87 = new X87(this, interpreter);
        this.interrupts = InterruptController.NONE;
        this.host = reason -> stopRequested = true;
        reset();
    }

    public void connect(InterruptController interrupts, CpuHost host) {
        this.interrupts = interrupts;
        this.host = host;
    }

    /** Power-on / RESET state (SDM Vol. 3A, 9.1.1, Table 9-1). */
    public void reset() {
        java.util.Arrays.fill(reg, 0);
        reg[EDX] = CpuIdentity.RESET_EDX;
        eip = 0xFFF0;
        flags = 2;
        ccOp = Alu.CC_NONE;
        cr0 = CR0_ET | CR0_NW | CR0_CD;
        cr2 = cr3 = cr4 = 0;
        java.util.Arrays.fill(dr, 0);
        dr[6] = 0xFFFF0FF0;
        dr[7] = 0x400;
        for (int s = 0; s < 6; s++) {
            loadRealModeSegment(s, 0);
            segLimit[s] = 0xFFFF;
            segLow[s] = 0;
            segHigh[s] = 0xFFFF;
            segAttr[s] = 0x93; // present, DPL 0, read/write data, accessed
            segAccess[s] = SEG_READ | SEG_WRITE;
        }
        segSel[CS] = 0xF000;
        segBase[CS] = 0xFFFF0000;
        segAttr[CS] = 0x9B;
        cpl = 0;
        code32 = stack32 = false;
        gdtBase = idtBase = 0;
        gdtLimit = idtLimit = 0xFFFF;
        ldtSel = ldtBase = 0;
        ldtLimit = 0xFFFF;
        ldtAttr = 0x82;
        trSel = trBase = 0;
        trLimit = 0xFFFF;
        trAttr = 0x8B;
        sysenterCs = sysenterEsp = sysenterEip = 0;
        halted = false;
        interruptShadowAt = -1;
        deliveringVector = -1;
        vmx.reset();
        x87.reset();
        mmu.useContext(0, Mmu.NO_EPT);
        mmu.flushEverything();
    }

    // =====================================================================================================
    // Running
    // =====================================================================================================

    /**
     * Executes up to {@code budget} instructions. Returns early when the CPU halts or the host asks it to stop.
     * Time is virtual: each retired instruction advances the machine's clock by one nanosecond.
     */
    public void run(long budget) {
        final long end = retired + budget;
        stopRequested = false;
        while (retired < end && !stopRequested) {
            if (halted) {
                if (!(eventPending && wakeFromHalt())) {
                    return;
                }
            }
            try {
                runInstructions(vmx.nonRoot ? vmx.exit.sliceEnd(end) : end);
            } catch (CpuFault fault) {
                if (faultVector == Vmx.VM_EXITED) {
                    continue; // a VM exit unwound the instruction; the host state is loaded (SDM 27.5)
                }
                eip = startEip;
                reg[ESP] = startEsp;
                if (faultVector == Vmx.INTERPRET_ALONE) {
                    interpretAlone = true;
                    continue;
                }
                counters.exception(faultVector);
                deliverException(faultVector, faultError);
            }
        }
    }

    /**
     * The run loop: hypervisor entries, compiled blocks when the code has them, else one instruction through the
     * interpreter. With a tracer, every instruction goes through the interpreter and is shown to it first.
     */
    private void runInstructions(long end) {
        final Interpreter interp = interpreter;
        final InstructionTracer trace = tracer;
        final BlockCache compiled = trace == null ? blocks : null;
        runEnd = end;
        while (retired < end) {
            if (eventPending && checkEvents()) {
                return;
            }
            startEip = eip;
            startEsp = reg[ESP];
            if (((segBase[CS] + eip) & ~0xFFF) == hypervisorEntryPage && cpl == 0 && !vmx.nonRoot) {
                if (enterHypervisor()) {
                    return;
                }
                continue;
            }
            // Not under EPT for now: Debian's kernel under vtx-ept gets a wrong result there from compiled blocks
            // (a user process faults; the interpreter alone, shadow paging and native runs are right). Known bug.
            if (compiled != null && code32 && (flags & TF) == 0 && !interpretAlone && !mmu.translatesThroughEpt()
                    && end - retired >= BlockCompiler.MAX_INSTRUCTIONS) {
                int physical = mmu.codePhysical(segBase[CS] + eip, eip);
                CompiledBlock block = physical < 0 ? null : compiled.find(physical, eip, true, mmu);
                if (block != null) {
                    block.execute(this);
                    if (halted || stopRequested) {
                        return;
                    }
                    continue;
                }
            }
            if (trace != null) {
                trace.beforeInstruction(this);
            }
            boolean singleStep = (flags & TF) != 0 || singleStepDeferred;
            eventDelivered = false;
            interp.step();
            retired++;
            interpretAlone = false;
            if (halted || stopRequested) {
                return;
            }
            if (singleStep) {
                singleStepTrap();
            }
        }
    }

    /**
     * Calls the hypervisor at its entry address; returns true when the run loop must leave. A handler that leaves
     * the CPU where it was would loop for ever without retiring an instruction: that is a hypervisor bug, and the
     * machine shuts down with a message saying so rather than hang.
     */
    private boolean enterHypervisor() {
        int entry = segBase[CS] + eip;
        if (retired != retiredAtLastEntry) {
            retiredAtLastEntry = retired;
            entriesWithoutProgress = 0;
        } else if (++entriesWithoutProgress >= ENTRIES_WITHOUT_PROGRESS_LIMIT) {
            host.shutdown("no progress: " + ENTRIES_WITHOUT_PROGRESS_LIMIT + " hypervisor entries in a row without a"
                    + " guest instruction retired (every instruction the guest reaches exits; last entry 0x"
                    + Integer.toHexString(entry) + ")");
            halted = true;
            stopRequested = true;
            return true;
        }
        long transitions = vmx.transitions;
        hypervisorEntry.enter(this, entry & 0xFFF);
        if (segBase[CS] + eip == entry && cpl == 0 && !halted && vmx.transitions == transitions) {
            host.shutdown("hypervisor entry 0x" + Integer.toHexString(entry) + " returned without leaving it");
            halted = true;
            stopRequested = true;
        }
        return halted || stopRequested;
    }

    /** Sees each instruction before it executes ({@code hvlab run --trace}). */
    @FunctionalInterface
    public interface InstructionTracer {
        void beforeInstruction(Cpu cpu);
    }

    /**
     * Shows every instruction to {@code tracer} before it runs, or stops tracing with null. While tracing, no block
     * is compiled or run: the interpreter executes each instruction alone, so each is seen.
     */
    public void setTracer(InstructionTracer tracer) {
        this.tracer = tracer;
    }

    /** Returns true when the run loop must leave (halted or stopped); delivers a pending interrupt if it may. */
    private boolean checkEvents() {
        if (stopRequested || halted) {
            return true;
        }
        eventPending = false;
        if (vmx.nonRoot) {
            return vmx.exit.events(); // VMX non-root: exits for interrupts, windows, the timer (SDM 25.2)
        }
        if ((flags & IF) != 0 && interruptShadowAt != retired && interrupts.hasPendingInterrupt()) {
            deliverExternalInterrupt();
        } else if ((flags & IF) != 0 && interruptShadowAt == retired) {
            eventPending = true; // look again after the shadowed instruction
        }
        return false;
    }

    private boolean wakeFromHalt() {
        if (vmx.nonRoot) {
            return vmx.exit.wakeFromHalt();
        }
        eventPending = false;
        if ((flags & IF) != 0 && interrupts.hasPendingInterrupt()) {
            halted = false;
            deliverExternalInterrupt();
            return true;
        }
        return false;
    }

    void deliverExternalInterrupt() {
        int vector = interrupts.acknowledge() & 0xFF;
        counters.interrupt(vector);
        startEip = eip;
        startEsp = reg[ESP];
        try {
            interrupt(vector, Exceptions.NO_ERROR_CODE, InterruptKind.EXTERNAL);
        } catch (CpuFault fault) {
            if (faultVector == Vmx.VM_EXITED) {
                return;
            }
            eip = startEip;
            reg[ESP] = startEsp;
            deliverException(faultVector, faultError);
        }
        eventPending = true;
    }

    /** Delivers a fault raised by an instruction, with the double- and triple-fault rules of SDM 6.15 (Table 6-5). */
    /**
     * The single-step trap (SDM Vol. 3A, 17.3.1.4): an instruction that began with EFLAGS.TF set is followed by #DB
     * with DR6.BS. Not after an instruction that itself raised an interrupt or exception (INT n, INT3 and INTO
     * clear TF on the way to their handler), and one instruction later after MOV SS or POP SS.
     */
    private void singleStepTrap() {
        if (eventDelivered) {
            singleStepDeferred = false;
            return;
        }
        if (stackLoadAt == retired && !singleStepDeferred) {
            singleStepDeferred = true;
            return;
        }
        singleStepDeferred = false;
        dr6BeforeStep = dr[6];
        dr[6] |= DR6_SINGLE_STEP;
        startEip = eip;
        startEsp = reg[ESP];
        counters.exception(Exceptions.DB);
        deliverException(Exceptions.DB, Exceptions.NO_ERROR_CODE);
    }

    /** A VM entry or exit ends the instruction: no single-step trap follows it in the other world. */
    void suppressSingleStep() {
        eventDelivered = true;
        singleStepDeferred = false;
    }

    private void deliverException(int vector, int error) {
        if (vmx.nonRoot) {
            vmx.exit.deliverException(vector, error); // the exception bitmap, IDT-vectoring, exit 2 (SDM 25.2, 27.2.3)
            return;
        }
        int previous = deliveringVector;
        int delivered = previous < 0 ? vector : Exceptions.duringDelivery(previous, vector);
        if (delivered == Exceptions.TRIPLE_FAULT) {
            deliveringVector = -1;
            shutdown("triple fault: " + Exceptions.name(vector) + " while delivering #DF");
            return;
        }
        if (delivered != vector) {
            vector = Exceptions.DF;
            error = 0;
        }
        deliveringVector = vector;
        try {
            interrupt(vector, error, InterruptKind.EXCEPTION);
            deliveringVector = -1;
        } catch (CpuFault nested) {
            eip = startEip;
            reg[ESP] = startEsp;
            counters.exception(faultVector);
            deliverException(faultVector, faultError);
        }
        deliveringVector = -1;
        eventPending = true;
    }

    /**
     * The shutdown state (triple fault, SDM 6.15), also entered by host software that gives the machine up, e.g. a
     * hypervisor whose guest failed beyond recovery.
     */
    public void shutdown(String reason) {
        halted = true;
        stopRequested = true;
        flags &= ~IF;
        host.shutdown(reason);
    }

    // =====================================================================================================
    // Virtual time
    // =====================================================================================================

    /** What CPUID returns for {@code leaf} as EAX, EBX, ECX, EDX: what firmware reads to describe the processor. */
    public int[] cpuid(int leaf) {
        int[] out = new int[8];
        out[EAX] = leaf;
        CpuIdentity.cpuid(out, cpuidFeaturesEcx());
        return new int[] {out[EAX], out[EBX], out[ECX], out[EDX]};
    }

    /** CPUID.1:ECX: VMX when the machine has it (SDM Vol. 3C 23.6). */
    int cpuidFeaturesEcx() {
        return vmx.supported ? CpuIdentity.FEATURE_VMX : 0;
    }

    /** Virtual time now, in ns. */
    public long nanos() {
        return timeBase + (retired - retiredAtTimeBase);
    }

    /** Brings the machine clock up to the CPU's time; called before device accesses so device reads are exact. */
    void syncClock() {
        clock.advanceTo(nanos());
    }

    /** While halted, time jumps ahead to the next device event. */
    public void skipTimeTo(long nanos) {
        if (nanos > nanos()) {
            timeBase = nanos;
            retiredAtTimeBase = retired;
            eventPending = true; // a timer of the processor's own (VMX preemption) may be due now
        }
    }

    public long retiredInstructions() {
        return retired;
    }

    public boolean isHalted() {
        return halted;
    }

    /** Tells the CPU that an interrupt line may have changed; it looks at the controller before the next instruction. */
    public void signalInterrupt() {
        eventPending = true;
    }

    /**
     * Makes the 4 KiB linear page at {@code linearPage} the hypervisor's entry page: arriving at an address in it at
     * CPL 0 calls {@code entry} instead of fetching there. One page per CPU; null removes it.
     */
    public void setHypervisorEntryPage(int linearPage, HypervisorEntry entry) {
        if ((linearPage & 0xFFF) != 0) {
            throw new IllegalArgumentException("the hypervisor entry page must be page aligned: 0x"
                    + Integer.toHexString(linearPage));
        }
        hypervisorEntry = entry;
        hypervisorEntryPage = entry == null ? NO_ENTRY_PAGE : linearPage;
    }

    /** IRET with a 32-bit operand size, as the hypervisor's own IRET instruction would execute it. */
    public void returnFromInterrupt() {
        opSize32 = true;
        startEip = eip;
        startEsp = reg[ESP];
        SystemOps.iret(interpreter);
    }

    // ---- ring-0 host software: the instructions a hypervisor's own code executes at CPL 0 ----

    /** LGDT, as the hypervisor's own instruction. */
    public void loadGdtr(int base, int limit) {
        requireHostSoftware();
        gdtBase = base;
        gdtLimit = limit & 0xFFFF;
    }

    /** LIDT, as the hypervisor's own instruction. */
    public void loadIdtr(int base, int limit) {
        requireHostSoftware();
        idtBase = base;
        idtLimit = limit & 0xFFFF;
    }

    /** LTR, as the hypervisor's own instruction: the descriptor is checked and marked busy (SDM Vol. 2A "LTR"). */
    public void loadTaskRegister(int selector) {
        requireHostSoftware();
        SystemOps.ltr(this, selector);
    }

    /** MOV to a segment register, as the hypervisor's own instruction (SDM Vol. 2B "MOV"). */
    public void loadSegmentRegister(int seg, int selector) {
        requireHostSoftware();
        loadSegment(seg, selector);
    }

    /**
     * MOV to CR0, CR2, CR3 or CR4, as the hypervisor's own instruction, with that write's TLB flushes. CR2 is how a
     * VMM gives a guest the faulting address of a #PF it injects (SDM Vol. 3C 27.1: a #PF that exits leaves CR2).
     */
    public void writeControlRegister(int index, int value) {
        requireHostSoftware();
        switch (index) {
            case 0 -> SystemOps.writeCr0(this, value);
            case 2 -> cr2 = value;
            case 3 -> SystemOps.writeCr3(this, value);
            case 4 -> SystemOps.writeCr4(this, value);
            default -> throw new IllegalArgumentException("CR" + index);
        }
    }

    /** WRMSR, as the hypervisor's own instruction: #GP(0) for an MSR the processor does not have (Vol. 2B "WRMSR"). */
    public void writeMsr(int index, long value) {
        requireHostSoftware();
        SystemOps.writeMsr(this, index, value);
    }

    /** INVLPG, as the hypervisor's own instruction. */
    public void invalidatePage(int linear) {
        requireHostSoftware();
        mmu.invalidatePage(linear);
    }

    /** IN, as the hypervisor's own instruction: the device sees the machine's time as of now. */
    public int inPort(int port, int width) {
        requireHostSoftware();
        return SystemOps.portRead(this, port & 0xFFFF, width);
    }

    /** OUT, as the hypervisor's own instruction. */
    public void outPort(int port, int width, int value) {
        requireHostSoftware();
        SystemOps.portWrite(this, port & 0xFFFF, width, value);
    }

    /**
     * HLT, as the last instruction of a hypervisor's exit path after it has returned to the guest: the CPU waits for
     * the next interrupt the guest context lets through, as it would had the guest halted itself.
     */
    public void halt() {
        halted = true;
    }

    /**
     * FXSAVE, as the hypervisor's own instruction after CLTS, into a record instead of its 512-byte area: the x87
     * state a hypervisor keeps for a vCPU whose FPU registers it takes away (SDM Vol. 2A "FXSAVE").
     */
    public CpuState.FpuState saveFpu() {
        requireHostSoftware();
        return x87.capture();
    }

    /** FXRSTOR, as the hypervisor's own instruction: the x87 state of {@link #saveFpu()} back in the FPU. */
    public void restoreFpu(CpuState.FpuState state) {
        requireHostSoftware();
        x87.restore(state);
    }

    /** A 32-bit store to physical memory through the host's direct map; compiled code on the page is retired. */
    public void writePhysical32(int physical, int value) {
        mmu.writeHostPhysical(physical, 4, value);
    }

    /** A store of 1, 2 or 4 bytes to physical memory through the host's direct map (see {@link #writePhysical32}). */
    public void writePhysical(int physical, int width, int value) {
        if (width != 1 && width != 2 && width != 4) {
            throw new IllegalArgumentException("a store of " + width + " bytes");
        }
        mmu.writeHostPhysical(physical, width, value);
    }

    private void requireHostSoftware() {
        if (cpl != 0 || v86Mode()) {
            throw new IllegalStateException("host software runs at CPL 0; the CPU is at CPL " + cpl);
        }
    }

    /** A 32-bit read at a linear address with supervisor privilege (a ring-0 access through paging). */
    public int readSupervisor32(int linear) {
        return mmu.readSystem32(linear);
    }

    /** A 32-bit write at a linear address with supervisor privilege. */
    public void writeSupervisor32(int linear, int value) {
        mmu.writeSystem32(linear, value);
    }

    /** Drops every cached translation (the platform changed what addresses mean, e.g. the A20 gate). */
    public void flushTranslations() {
        mmu.flushEverything();
    }

    public void requestStop() {
        stopRequested = true;
    }

    public boolean interruptsEnabled() {
        return (flags & IF) != 0;
    }

    /** Whether an external interrupt can end a halt: RFLAGS.IF, or a VMX guest whose interrupts exit (SDM 25.2). */
    public boolean interruptCanWake() {
        return vmx.nonRoot ? vmx.exit.interruptCanWake() : (flags & IF) != 0;
    }

    /** Virtual time (ns) at which the processor wakes itself from a halt (a VMX-preemption timer), else MAX_VALUE. */
    public long selfWakeNanos() {
        return vmx.nonRoot ? vmx.exit.timerDeadlineNanos() : Long.MAX_VALUE;
    }

    public CpuCounters counters() {
        return counters;
    }

    /** VT-x: the operations VMX-root software (a hypervisor plugin) uses, and the processor's VMX state. */
    public Vmx vmx() {
        return vmx;
    }

    /**
     * Whether this processor has VMX (CPUID.1:ECX[5], CR4.VMXE, the VMX MSRs and instructions). Off by default, as on
     * QEMU's default CPU, so native guests see the same processor on both; a machine for a VT-x hypervisor turns it on.
     */
    public void setVmxSupported(boolean supported) {
        vmx.supported = supported;
    }

    // =====================================================================================================
    // Faults
    // =====================================================================================================

    /** Raises a fault: the instruction is rolled back and the exception delivered. Never returns. */
    CpuFault fault(int vector, int errorCode) {
        faultVector = vector;
        faultError = errorCode;
        throw CpuFault.INSTANCE;
    }

    CpuFault gp(int errorCode) {
        return fault(Exceptions.GP, errorCode);
    }

    CpuFault ud() {
        return fault(Exceptions.UD, Exceptions.NO_ERROR_CODE);
    }

    /** The fault for a bad access through segment {@code seg}: #SS for the stack segment, #GP otherwise. */
    CpuFault segmentFault(int seg) {
        return fault(seg == SS ? Exceptions.SS : Exceptions.GP, 0);
    }

    // =====================================================================================================
    // Mode queries
    // =====================================================================================================

    boolean protectedMode() {
        return (cr0 & CR0_PE) != 0;
    }

    boolean v86Mode() {
        return (flags & VM) != 0;
    }

    int iopl() {
        return (flags >>> 12) & 3;
    }

    // =====================================================================================================
    // Segmented memory access (SDM Vol. 3A, 5.3 limit checking, 5.5 privilege levels)
    // =====================================================================================================

    int linearForRead(int seg, int off, int size) {
        if ((segAccess[seg] & SEG_READ) == 0) {
            throw segmentFault(seg);
        }
        long o = off & 0xFFFFFFFFL;
        if (o < segLow[seg] || o + size - 1 > segHigh[seg]) {
            throw segmentFault(seg);
        }
        return segBase[seg] + off;
    }

    int linearForWrite(int seg, int off, int size) {
        if ((segAccess[seg] & SEG_WRITE) == 0) {
            throw segmentFault(seg);
        }
        long o = off & 0xFFFFFFFFL;
        if (o < segLow[seg] || o + size - 1 > segHigh[seg]) {
            throw segmentFault(seg);
        }
        return segBase[seg] + off;
    }

    int read8(int seg, int off) {
        return mmu.read8(linearForRead(seg, off, 1));
    }

    int read16(int seg, int off) {
        return mmu.read16(linearForRead(seg, off, 2));
    }

    int read32(int seg, int off) {
        return mmu.read32(linearForRead(seg, off, 4));
    }

    void write8(int seg, int off, int value) {
        mmu.write8(linearForWrite(seg, off, 1), value);
    }

    void write16(int seg, int off, int value) {
        mmu.write16(linearForWrite(seg, off, 2), value);
    }

    void write32(int seg, int off, int value) {
        mmu.write32(linearForWrite(seg, off, 4), value);
    }

    int readMemory(int size, int seg, int off) {
        return switch (size) {
            case Alu.BYTE -> read8(seg, off);
            case Alu.WORD -> read16(seg, off);
            default -> read32(seg, off);
        };
    }

    void writeMemory(int size, int seg, int off, int value) {
        switch (size) {
            case Alu.BYTE -> write8(seg, off, value);
            case Alu.WORD -> write16(seg, off, value);
            default -> write32(seg, off, value);
        }
    }

    /** A general register by operand size; byte registers 4-7 are AH, CH, DH, BH (SDM Vol. 2A, Table 2-1). */
    static int readRegister(int[] reg, int n, int size) {
        return switch (size) {
            case Alu.BYTE -> n < 4 ? reg[n] & 0xFF : (reg[n - 4] >>> 8) & 0xFF;
            case Alu.WORD -> reg[n] & 0xFFFF;
            default -> reg[n];
        };
    }

    static void writeRegister(int[] reg, int n, int size, int value) {
        switch (size) {
            case Alu.BYTE -> {
                if (n < 4) {
                    reg[n] = (reg[n] & ~0xFF) | (value & 0xFF);
                } else {
                    reg[n - 4] = (reg[n - 4] & ~0xFF00) | (value & 0xFF) << 8;
                }
            }
            case Alu.WORD -> reg[n] = (reg[n] & 0xFFFF0000) | (value & 0xFFFF);
            default -> reg[n] = value;
        }
    }

    // =====================================================================================================
    // Stack
    // =====================================================================================================

    int sp() {
        return stack32 ? reg[ESP] : reg[ESP] & 0xFFFF;
    }

    void setSp(int value) {
        reg[ESP] = stack32 ? value : (reg[ESP] & 0xFFFF0000) | (value & 0xFFFF);
    }

    int stackAdd(int sp, int delta) {
        return stack32 ? sp + delta : (sp + delta) & 0xFFFF;
    }

    void push32(int value) {
        int sp = stackAdd(sp(), -4);
        write32(SS, sp, value);
        setSp(sp);
    }

    void push16(int value) {
        int sp = stackAdd(sp(), -2);
        write16(SS, sp, value);
        setSp(sp);
    }

    void push(int value) {
        if (opSize32) {
            push32(value);
        } else {
            push16(value);
        }
    }

    int pop32() {
        int sp = sp();
        int value = read32(SS, sp);
        setSp(stackAdd(sp, 4));
        return value;
    }

    int pop16() {
        int sp = sp();
        int value = read16(SS, sp);
        setSp(stackAdd(sp, 2));
        return value;
    }

    int pop() {
        return opSize32 ? pop32() : pop16();
    }

    // =====================================================================================================
    // Instruction fetch
    // =====================================================================================================

    int fetch8() {
        int lin = segBase[CS] + eip;
        int b = mmu.fetch8(lin, eip);
        eip = code32 ? eip + 1 : (eip + 1) & 0xFFFF;
        return b;
    }

    int fetch16() {
        int lo = fetch8();
        return lo | fetch8() << 8;
    }

    int fetch32() {
        int lin = segBase[CS] + eip;
        if ((lin & 0xFFF) <= 0xFFC && code32) {
            int v = mmu.fetch32(lin, eip);
            eip += 4;
            return v;
        }
        int lo = fetch16();
        return lo | fetch16() << 16;
    }

    // =====================================================================================================
    // EFLAGS
    // =====================================================================================================

    public int eflags() {
        return Alu.materialize(this);
    }

    /** Writes EFLAGS bits under {@code mask}; bit 1 always reads as one. */
    void setEflags(int value, int mask) {
        int current = Alu.materialize(this);
        int old = current;
        current = (current & ~mask) | (value & mask);
        flags = (current & 0x3F7FD7) | 2;
        ccOp = Alu.CC_NONE;
        if ((flags & IF) != 0 && (old & IF) == 0) {
            eventPending = true;
        }
    }

    // =====================================================================================================
    // Segment registers (SDM Vol. 3A, 3.4 and 5.4-5.6)
    // =====================================================================================================

    void loadRealModeSegment(int seg, int selector) {
        selector &= 0xFFFF;
        segSel[seg] = selector;
        segBase[seg] = selector << 4;
        if (seg == CS) {
            mmu.invalidateFetch();
        }
    }

    /** V86 mode segment load: real-mode base, 64 KiB limit, DPL 3 (SDM 20.1.1). */
    void loadV86Segment(int seg, int selector) {
        loadRealModeSegment(seg, selector);
        segLimit[seg] = 0xFFFF;
        segLow[seg] = 0;
        segHigh[seg] = 0xFFFF;
        segAttr[seg] = seg == CS ? 0xFB : 0xF3;
        segAccess[seg] = SEG_READ | SEG_WRITE;
        if (seg == CS) {
            code32 = false;
        } else if (seg == SS) {
            stack32 = false;
        }
    }

    /** Fills a segment register's hidden cache from a descriptor (high and low dwords). */
    void loadSegmentCache(int seg, int selector, int hi, int lo) {
        segSel[seg] = selector & 0xFFFF;
        segBase[seg] = Descriptors.base(hi, lo);
        int limit = Descriptors.limit(hi, lo);
        segLimit[seg] = limit;
        segAttr[seg] = (hi >>> 8) & 0xF0FF;
        int type = Descriptors.type(hi);
        boolean big = (hi & Descriptors.DB) != 0;
        if (Descriptors.isCode(hi)) {
            segAccess[seg] = (type & 2) != 0 ? SEG_READ : 0;
            segLow[seg] = 0;
            segHigh[seg] = limit & 0xFFFFFFFFL;
        } else {
            segAccess[seg] = SEG_READ | ((type & 2) != 0 ? SEG_WRITE : 0);
            if ((type & 4) != 0) { // expand-down (SDM 3.4.5.1)
                segLow[seg] = (limit & 0xFFFFFFFFL) + 1;
                segHigh[seg] = big ? 0xFFFFFFFFL : 0xFFFFL;
            } else {
                segLow[seg] = 0;
                segHigh[seg] = limit & 0xFFFFFFFFL;
            }
        }
        if (seg == CS) {
            code32 = big;
            mmu.invalidateFetch();
        } else if (seg == SS) {
            stack32 = big;
        }
    }

    /**
     * Loads a segment register from the parts of its hidden cache (snapshots, VM entries and exits): a descriptor is
     * rebuilt from them, the limit being byte-granular already.
     */
    void loadSegmentParts(int s, int selector, int base, int limit, int attr) {
        boolean pageGranular = (attr & 0x8000) != 0;
        int rawLimit = pageGranular ? limit >>> 12 : limit;
        int hi = (base & 0xFF000000) | (base >>> 16 & 0xFF) | (attr & 0xF0FF) << 8 | (rawLimit & 0xF0000);
        int lo = base << 16 | (rawLimit & 0xFFFF);
        loadSegmentCache(s, selector, hi, lo);
        if (!protectedMode() || v86Mode()) {
            segAccess[s] = SEG_READ | SEG_WRITE; // real mode and V86 do not check segment types
        }
    }

    /** A null selector in a data segment register: any access through it raises #GP(0). */
    void loadNullSegment(int seg, int selector) {
        segSel[seg] = selector & 0xFFFF;
        segBase[seg] = 0;
        segLimit[seg] = 0;
        segAttr[seg] = 0;
        segAccess[seg] = 0;
        segLow[seg] = 1;
        segHigh[seg] = 0;
    }

    void setCpl(int newCpl) {
        if (newCpl != cpl) {
            if (performanceCounters.counting()) {
                performanceCounters.settle(retired, cpl); // USR/OS: what ran so far ran at the old CPL
            }
            cpl = newCpl;
            mmu.privilegeChanged();
        }
    }

    /** Makes the next {@link #setCpl} take effect whatever the CPL, as a VMX transition needs; counts settle first. */
    void forgetCpl() {
        if (performanceCounters.counting()) {
            performanceCounters.settle(retired, cpl);
        }
        cpl = -1;
    }

    /** MOV/POP to a segment register, LDS and friends: the checks of SDM Vol. 2, "MOV" and 5.6. */
    void loadSegment(int seg, int selector) {
        selector &= 0xFFFF;
        if (!protectedMode()) {
            loadRealModeSegment(seg, selector);
            return;
        }
        if (v86Mode()) {
            loadV86Segment(seg, selector);
            return;
        }
        if ((selector & 0xFFFC) == 0) {
            if (seg == SS) {
                throw gp(0);
            }
            loadNullSegment(seg, selector);
            return;
        }
        long desc = readDescriptor(selector, Exceptions.GP, 0);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        int rpl = selector & 3, dpl = Descriptors.dpl(hi);
        if (seg == SS) {
            if (rpl != cpl || dpl != cpl || !Descriptors.isWritableData(hi)) {
                throw gp(selector & 0xFFFC);
            }
            if (!Descriptors.present(hi)) {
                throw fault(Exceptions.SS, selector & 0xFFFC);
            }
        } else {
            if (!Descriptors.isSegment(hi) || Descriptors.isCode(hi) && (Descriptors.type(hi) & 2) == 0) {
                throw gp(selector & 0xFFFC);
            }
            boolean conformingCode = Descriptors.isCode(hi) && (Descriptors.type(hi) & 4) != 0;
            if (!conformingCode && (rpl > dpl || cpl > dpl)) {
                throw gp(selector & 0xFFFC);
            }
            if (!Descriptors.present(hi)) {
                throw fault(Exceptions.NP, selector & 0xFFFC);
            }
        }
        hi = markAccessed(selector, hi);
        loadSegmentCache(seg, selector, hi, lo);
        if (seg == SS) {
            interruptShadowAt = retired + 1;
            stackLoadAt = retired + 1;
        }
    }

    /**
     * Reads the 8-byte descriptor a selector names from the GDT or LDT, with supervisor privilege. A selector
     * beyond the table limit raises {@code vector} with the selector as error code (SDM 6.13).
     */
    long readDescriptor(int selector, int vector, int ext) {
        return system.readDescriptor(selector, vector, ext);
    }

    /** Sets the accessed bit of a code or data descriptor in memory, as the processor does on a load. */
    int markAccessed(int selector, int hi) {
        return system.markAccessed(selector, hi);
    }

    // =====================================================================================================
    // Interrupt and exception delivery (SDM Vol. 3A, 6.12; real mode 20.1.4)
    // =====================================================================================================

    enum InterruptKind { EXTERNAL, EXCEPTION, SOFTWARE, SOFTWARE_EXCEPTION }

    void interrupt(int vector, int errorCode, InterruptKind kind) {
        halted = false;
        eventDelivered = true;
        if (vmx.nonRoot && vmx.exit.intercept(vector, errorCode, kind)) {
            return; // the exception bitmap made it a VM exit (SDM 25.2)
        }
        if (!protectedMode()) {
            interruptRealMode(vector);
        } else {
            SystemOps.interruptProtectedMode(this, vector, errorCode, kind);
        }
        if (vmx.nonRoot) {
            vmx.exit.delivered();
        }
    }

    private void interruptRealMode(int vector) {
        int entry = vector * 4;
        if (entry + 3 > (idtLimit & 0xFFFFL)) {
            throw gp(0);
        }
        int offset = mmu.readSystem16(idtBase + entry);
        int selector = mmu.readSystem16(idtBase + entry + 2);
        int fl = eflags();
        boolean saved = opSize32;
        opSize32 = false;
        push16(fl);
        push16(segSel[CS]);
        push16(eip);
        opSize32 = saved;
        flags = Alu.materialize(this) & ~(IF | TF | AC | RF);
        loadRealModeSegment(CS, selector);
        eip = offset;
    }

    // =====================================================================================================
    // State exchange
    // =====================================================================================================

    public int register(int index) {
        return reg[index];
    }

    public void setRegister(int index, int value) {
        reg[index] = value;
    }

    public int eip() {
        return eip;
    }

    public void setEip(int value) {
        eip = value;
    }

    public int cr(int index) {
        return switch (index) {
            case 0 -> cr0;
            case 2 -> cr2;
            case 3 -> cr3;
            case 4 -> cr4;
            default -> throw new IllegalArgumentException("CR" + index);
        };
    }

    public int segmentSelector(int seg) {
        return segSel[seg];
    }

    public int segmentBase(int seg) {
        return segBase[seg];
    }

    public int cpl() {
        return cpl;
    }

    public CpuState captureState() {
        CpuState.GeneralRegisters general = new CpuState.GeneralRegisters(reg[EAX], reg[ECX], reg[EDX], reg[EBX],
                reg[ESP], reg[EBP], reg[ESI], reg[EDI], eip, eflags());
        java.util.List<CpuState.SegmentRegister> segments = new java.util.ArrayList<>(6);
        for (int s = 0; s < 6; s++) {
            segments.add(new CpuState.SegmentRegister(segSel[s], segBase[s], segLimit[s], segAttr[s]));
        }
        CpuState.SystemRegisters system = new CpuState.SystemRegisters(cr0, cr2, cr3, cr4,
                new CpuState.TableRegister(gdtBase, gdtLimit), new CpuState.TableRegister(idtBase, idtLimit),
                new CpuState.SegmentRegister(ldtSel, ldtBase, ldtLimit, ldtAttr),
                new CpuState.SegmentRegister(trSel, trBase, trLimit, trAttr), cpl, halted);
        return new CpuState(general, java.util.List.copyOf(segments), system, x87.capture(), retired);
    }

    /** Puts the CPU in a captured state (snapshots, tests, test vectors); the TLB starts empty. */
    public void restoreState(CpuState state) {
        CpuState.GeneralRegisters g = state.general();
        reg[EAX] = g.eax();
        reg[ECX] = g.ecx();
        reg[EDX] = g.edx();
        reg[EBX] = g.ebx();
        reg[ESP] = g.esp();
        reg[EBP] = g.ebp();
        reg[ESI] = g.esi();
        reg[EDI] = g.edi();
        eip = g.eip();
        flags = (g.eflags() & 0x3F7FD7) | 2;
        ccOp = Alu.CC_NONE;
        CpuState.SystemRegisters sys = state.system();
        cr0 = sys.cr0() | CR0_ET;
        cr2 = sys.cr2();
        cr3 = sys.cr3();
        cr4 = sys.cr4();
        gdtBase = sys.gdt().base();
        gdtLimit = sys.gdt().limit();
        idtBase = sys.idt().base();
        idtLimit = sys.idt().limit();
        ldtSel = sys.ldt().selector();
        ldtBase = sys.ldt().base();
        ldtLimit = sys.ldt().limit();
        ldtAttr = sys.ldt().attributes();
        trSel = sys.tr().selector();
        trBase = sys.tr().base();
        trLimit = sys.tr().limit();
        trAttr = sys.tr().attributes();
        for (int s = 0; s < 6; s++) {
            CpuState.SegmentRegister r = state.segments().get(s);
            int attr = r.attributes();
            if (attr == 0 && protectedMode() && !v86Mode()) {
                loadNullSegment(s, r.selector());
                continue;
            }
            loadSegmentParts(s, r.selector(), r.base(), r.limit(), attr);
        }
        forgetCpl();
        setCpl(sys.cpl());
        halted = sys.halted();
        x87.restore(state.fpu());
        retired = state.retiredInstructions();
        performanceCounters.rebase(retired);
        interruptShadowAt = -1;
        eventPending = true;
        mmu.flushEverything();
    }

    /**
     * Puts the CPU in the state a Multiboot loader leaves it in (Multiboot 0.6.96, 3.2): protected mode, flat
     * 4 GiB code (selector 0x08) and data (0x10) segments, paging off, interrupts off.
     */
    public void enterFlatProtectedMode(int entry, int eax, int ebx) {
        cr0 |= CR0_PE;
        cr0 &= ~CR0_PG;
        int flatHi = 0x00CF9300, flatLo = 0x0000FFFF;
        for (int s = 0; s < 6; s++) {
            loadSegmentCache(s, 0x10, flatHi, flatLo);
        }
        loadSegmentCache(CS, 0x08, 0x00CF9B00, flatLo);
        setCpl(0);
        flags = 2;
        ccOp = Alu.CC_NONE;
        eip = entry;
        reg[EAX] = eax;
        reg[EBX] = ebx;
        mmu.flushAll();
    }
}

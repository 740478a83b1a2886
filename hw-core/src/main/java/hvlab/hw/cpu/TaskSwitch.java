package hvlab.hw.cpu;

import static hvlab.hw.cpu.Cpu.CS;
import static hvlab.hw.cpu.Cpu.DS;
import static hvlab.hw.cpu.Cpu.ES;
import static hvlab.hw.cpu.Cpu.FS;
import static hvlab.hw.cpu.Cpu.GS;
import static hvlab.hw.cpu.Cpu.SS;

/**
 * Hardware task switching (SDM Vol. 3A, 7.3): JMP or CALL to a TSS descriptor or a task gate, an interrupt or
 * exception through a task gate in the IDT, and IRET with EFLAGS.NT set. Step numbers are those of the SDM 7.3
 * list. Faults up to the state save (step 8) occur in the old task with nothing changed; faults while the new
 * task's segments are qualified (step 13) occur in the new task (Table 7-1).
 *
 * <p>The switch works on a {@link Processor}: this CPU's own state, or the guest state a VMM keeps in its VMCS. A
 * task switch in VMX non-root operation always exits (SDM Vol. 3C 25.4.2); the VMM then performs it for its guest
 * with {@link #perform}, the same code the processor runs outside VMX.
 */
public final class TaskSwitch {
    /** What started the switch: it decides the busy bits, NT and the back link (SDM 7.3, Table 7-2). */
    public enum Source { JMP, CALL, IRET, INTERRUPT }

    // 32-bit TSS (SDM Figure 7-2) and 16-bit TSS (Figure 7-10) field offsets.
    public static final int LINK = 0, CR3 = 0x1C, EIP32 = 0x20, EFLAGS32 = 0x24, REGS32 = 0x28, SELECTORS32 = 0x48,
            LDT32 = 0x60, TRAP32 = 0x64;
    public static final int IP16 = 0x0E, FLAGS16 = 0x10, REGS16 = 0x12, SELECTORS16 = 0x22, LDT16 = 0x2A;
    /** The smallest limits of a TSS (SDM 7.2.2, Table 7-1 condition 3). */
    public static final int MIN_LIMIT32 = 0x67, MIN_LIMIT16 = 0x2B;
    /** DR7 L0-L3 and LE: the local breakpoint enables a task switch clears (SDM 17.2.4). */
    private static final int DR7_LOCAL_ENABLES = 0x155;

    /**
     * The processor state and memory a task switch reads and writes: registers, segment and system-table
     * registers, CR0/CR3/DR7, and linear memory reached with supervisor privilege through the current paging.
     * Faults leave through {@link #fault}, which throws.
     */
    public interface Processor {
        /** Raises an exception in the processor's current task: never returns normally. */
        RuntimeException fault(int vector, int errorCode);

        // Linear memory, accessed as the processor accesses its system structures (SDM 4.6, implicit supervisor).
        int readSystem16(int linear);

        int readSystem32(int linear);

        void writeSystem16(int linear, int value);

        void writeSystem32(int linear, int value);

        /** Pushes an error code on the current stack (SS:ESP, its B bit and limits); #SS({@code ext}) if no room. */
        void pushErrorCode(int value, int width, int ext);

        int register(int index);

        void setRegister(int index, int value);

        /** The EIP the old task resumes at: after the instruction that switched, or where the event came. */
        int eip();

        void setEip(int value);

        int eflags();

        /** EFLAGS with the bits a task switch loads (reserved bits already fixed). */
        void setEflags(int value);

        int cr0();

        /** CR0 with TS set (SDM 2.5): the only CR0 change a task switch makes. */
        void setCr0(int value);

        /** MOV to CR3 from the new TSS (step 10), with its TLB flush. */
        void loadCr3(int value);

        int dr7();

        void setDr7(int value);

        int cpl();

        void setCpl(int cpl);

        int gdtBase();

        int gdtLimit();

        int ldtSelector();

        int ldtBase();

        int ldtLimit();

        /** LDTR with a qualified descriptor, or (attributes 0) the new task's selector with no descriptor yet. */
        void loadLdtr(int selector, int base, int limit, int attributes);

        int trSelector();

        int trBase();

        /** TR's access rights: descriptor bits 8..23 of the high dword, as the VMCS holds them. */
        int trAttributes();

        void loadTr(int selector, int base, int limit, int attributes);

        int segmentSelector(int seg);

        /** The CS limit in bytes (the highest offset, a code segment being expand-up). */
        int codeLimit();

        /** A segment register from a qualified descriptor: base, limit in bytes, access rights as for TR. */
        void loadSegment(int seg, int selector, int base, int limit, int attributes);

        /** A segment register of a virtual-8086 task: real-mode base, 64 KiB limit, DPL 3 (SDM 20.1.1). */
        void loadV86Segment(int seg, int selector);

        /** The new task's selector, before its descriptor is qualified (step 13): not usable yet. */
        void loadUnqualifiedSegment(int seg, int selector);

        /** The checks before the switch passed (SDM Vol. 3C 25.4.2); in VMX non-root operation the processor exits. */
        default void checksPassed(int selector, Source source) {
        }

        /** The new task's state is loaded: a fault from here on is taken in the new task (SDM 7.3, Table 7-1). */
        default void newTaskLoaded() {
        }

        /**
         * Reads the 8-byte descriptor a selector names from the GDT or LDT, with supervisor privilege. A selector
         * beyond the table limit, or in the LDT when there is none, raises {@code vector} with the selector as error
         * code (SDM 6.13).
         */
        default long readDescriptor(int selector, int vector, int ext) {
            int index = selector & 0xFFF8;
            int base, limit;
            if ((selector & 4) != 0) {
                if ((ldtSelector() & 0xFFFC) == 0) {
                    throw fault(vector, (selector & 0xFFFC) | ext);
                }
                base = ldtBase();
                limit = ldtLimit();
            } else {
                base = gdtBase();
                limit = gdtLimit();
            }
            if (Integer.compareUnsigned(index | 7, limit) > 0) {
                throw fault(vector, (selector & 0xFFFC) | ext);
            }
            int lo = readSystem32(base + index);
            int hi = readSystem32(base + index + 4);
            return (long) hi << 32 | (lo & 0xFFFFFFFFL);
        }

        /** Sets the accessed bit of a code or data descriptor in memory, as the processor does on a load. */
        default int markAccessed(int selector, int hi) {
            if ((hi & Descriptors.ACCESSED) == 0 && Descriptors.isSegment(hi)) {
                hi |= Descriptors.ACCESSED;
                int base = (selector & 4) != 0 ? ldtBase() : gdtBase();
                writeSystem32(base + (selector & 0xFFF8) + 4, hi);
            }
            return hi;
        }
    }

    private final Processor p;
    // The new task's state, read in full before anything changes (step 5: a #PF here is in the old task).
    private final int[] newRegs = new int[8];
    private final int[] newSelectors = new int[6];
    private int newEip, newFlags, newCr3, newLdt;

    public TaskSwitch(Processor processor) {
        this.p = processor;
    }

    /** A target of JMP/CALL that switches tasks: an available TSS or a task gate (SDM Vol. 2A "JMP", "CALL"). */
    static boolean isTaskTarget(int hi) {
        int type = Descriptors.type(hi);
        return !Descriptors.isSegment(hi)
                && (type == Descriptors.TASK_GATE || type == Descriptors.TSS16_AVAILABLE
                || type == Descriptors.TSS32_AVAILABLE);
    }

    /**
     * JMP or CALL to a TSS descriptor or task gate whose DPL and present bit the caller checked
     * (SDM Vol. 2A "JMP"/"CALL", TASK-GATE and TASK-STATE-SEGMENT).
     */
    void jumpOrCall(int selector, int hi, int lo, boolean call) {
        Source source = call ? Source.CALL : Source.JMP;
        if (Descriptors.type(hi) == Descriptors.TASK_GATE) {
            perform(Descriptors.gateSelector(lo), source, Exceptions.NO_ERROR_CODE, 0);
            return;
        }
        if ((selector & 4) != 0) {
            throw p.fault(Exceptions.GP, selector & 0xFFFC); // a TSS descriptor lives in the GDT only (SDM 7.2.2)
        }
        switchTasks(selector, (long) hi << 32 | (lo & 0xFFFFFFFFL), source, Exceptions.NO_ERROR_CODE, 0);
    }

    /** An interrupt or exception through a task gate in the IDT (SDM 6.12.2; Vol. 2A "INT n", TASK-GATE). */
    void interruptThroughTaskGate(int tssSelector, int errorCode, int ext) {
        perform(tssSelector, Source.INTERRUPT, errorCode, ext);
    }

    /** IRET with NT set: back to the task named by the current TSS's link field (SDM Vol. 2A "IRET", TASK-RETURN). */
    void returnToLinkedTask() {
        perform(p.readSystem16(p.trBase() + LINK), Source.IRET, Exceptions.NO_ERROR_CODE, 0);
    }

    /**
     * A switch to the TSS {@code tssSelector} names (from a task gate, a JMP or CALL, or the link for IRET), from the
     * check of its descriptor on (SDM 7.3 steps 2-3, 5-13): the part a VMM performs for its guest after a VM exit for
     * a task switch (SDM Vol. 3C 25.4.2, exit qualification Table 27-3). {@code errorCode} (-1: none) is the error
     * code of the exception that came through a task gate; {@code ext} is 1 for an event from outside the program
     * (an interrupt or exception other than INT n, INT3, INTO), which the error codes of faults carry (SDM 6.13).
     */
    public void perform(int tssSelector, Source source, int errorCode, int ext) {
        boolean toBusy = source == Source.IRET;
        long desc = tssDescriptor(tssSelector, toBusy ? Exceptions.TS : Exceptions.GP, ext, toBusy);
        switchTasks(tssSelector, desc, source, errorCode, ext);
    }

    /**
     * The TSS descriptor a selector names, checked as the task-switching instructions do: in the GDT, a TSS,
     * busy or available as required (else {@code vector} with the selector), present (else #NP).
     */
    private long tssDescriptor(int selector, int vector, int ext, boolean busy) {
        int error = (selector & 0xFFFC) | ext;
        if ((selector & 4) != 0) {
            throw p.fault(vector, error);
        }
        long desc = p.readDescriptor(selector, vector, ext);
        int hi = (int) (desc >>> 32);
        if (!Descriptors.isTss(hi) || Descriptors.isBusyTss(hi) != busy) {
            throw p.fault(vector, error);
        }
        if (!Descriptors.present(hi)) {
            throw p.fault(Exceptions.NP, error);
        }
        return desc;
    }

    private void switchTasks(int selector, long desc, Source source, int errorCode, int ext) {
        int hi = (int) (desc >>> 32), lo = (int) desc;
        int base = Descriptors.base(hi, lo), limit = Descriptors.limit(hi, lo);
        boolean new32 = (Descriptors.type(hi) & 8) != 0;
        // Step 3: the new TSS must hold a whole TSS (#TS with the new TSS's selector, in the old task).
        if (Integer.compareUnsigned(limit, new32 ? MIN_LIMIT32 : MIN_LIMIT16) < 0) {
            throw p.fault(Exceptions.TS, (selector & 0xFFFC) | ext);
        }
        // The descriptor checks, limit included, come before a VM exit for the switch (SDM Vol. 3C 25.4.2).
        p.checksPassed(selector, source);
        // Step 5: the new TSS is read whole first, so a #PF on it is taken in the old task.
        readNewState(base, new32);
        // Step 7: IRET clears NT in the saved image of the old task's EFLAGS.
        int oldFlags = p.eflags();
        if (source == Source.IRET) {
            oldFlags &= ~Cpu.NT;
        }
        // Step 8 (done before step 6 so that a #PF on the old TSS, step 5, leaves both busy bits as they were):
        // save the old task's state in its TSS.
        saveOldState(oldFlags);
        int oldSelector = p.trSelector();
        // Step 6: JMP and IRET leave the old task not busy; CALL and interrupts keep it busy (Table 7-2).
        if (source == Source.JMP || source == Source.IRET) {
            setBusy(oldSelector, false);
        }
        // Step 11, the back link: CALL and interrupts record the old task in the new TSS.
        boolean nested = source == Source.CALL || source == Source.INTERRUPT;
        if (nested) {
            p.writeSystem16(base + LINK, oldSelector);
        }
        // Step 12: the new task is busy (IRET finds it busy already).
        if (source != Source.IRET) {
            hi = setBusy(selector, true);
        }
        // Step 9: TR holds the new TSS.
        p.loadTr(selector & 0xFFFF, base, limit, (hi >>> 8) & 0xF0FF);
        // Step 10: the new task's state; step 11: CALL and interrupts set NT in it.
        boolean v86 = loadNewState(new32, nested);
        // Step 13: qualify and load the segment descriptors; faults from here on belong to the new task.
        loadSegments(v86, ext);
        // TODO: a new 32-bit TSS with T set (TRAP32 bit 0) raises a #DB trap (DR6.BT) before its first
        // instruction (SDM 7.2.1); the CPU models no debug traps yet.
        if (errorCode >= 0) {
            p.pushErrorCode(errorCode, new32 ? 4 : 2, ext);
        }
        // SDM Vol. 2A "JMP", "CALL", "INT n", "IRET": the new EIP must lie within CS.
        checkEipInCs(ext);
    }

    private void checkEipInCs(int ext) {
        if (Long.compareUnsigned(p.eip() & 0xFFFFFFFFL, p.codeLimit() & 0xFFFFFFFFL) > 0) {
            throw p.fault(Exceptions.GP, ext);
        }
    }

    private static boolean v86Flags(int flags) {
        return (flags & Cpu.VM) != 0;
    }

    private void readNewState(int base, boolean is32) {
        if (is32) {
            newCr3 = p.readSystem32(base + CR3);
            newEip = p.readSystem32(base + EIP32);
            newFlags = p.readSystem32(base + EFLAGS32);
            for (int r = 0; r < 8; r++) {
                newRegs[r] = p.readSystem32(base + REGS32 + r * 4);
            }
            for (int s = 0; s < 6; s++) {
                newSelectors[s] = p.readSystem16(base + SELECTORS32 + s * 4);
            }
            newLdt = p.readSystem16(base + LDT32);
            return;
        }
        newEip = p.readSystem16(base + IP16);
        newFlags = p.readSystem16(base + FLAGS16);
        // SDM 7.6: loading from a 16-bit TSS modifies the upper halves; they read as ones, as on Intel parts.
        for (int r = 0; r < 8; r++) {
            newRegs[r] = 0xFFFF0000 | p.readSystem16(base + REGS16 + r * 2);
        }
        for (int s = ES; s <= DS; s++) {
            newSelectors[s] = p.readSystem16(base + SELECTORS16 + s * 2);
        }
        newSelectors[FS] = newSelectors[GS] = 0; // a 16-bit TSS has no FS and GS
        newLdt = p.readSystem16(base + LDT16);
    }

    /** Step 8: general registers, segment selectors, EFLAGS and EIP go into the current TSS. */
    private void saveOldState(int flags) {
        int base = p.trBase();
        if ((p.trAttributes() & 8) != 0) {
            p.writeSystem32(base + EIP32, p.eip());
            p.writeSystem32(base + EFLAGS32, flags);
            for (int r = 0; r < 8; r++) {
                p.writeSystem32(base + REGS32 + r * 4, p.register(r));
            }
            for (int s = 0; s < 6; s++) {
                p.writeSystem32(base + SELECTORS32 + s * 4, p.segmentSelector(s)); // upper half zero (SDM 22.28.2)
            }
            return;
        }
        p.writeSystem16(base + IP16, p.eip());
        p.writeSystem16(base + FLAGS16, flags);
        for (int r = 0; r < 8; r++) {
            p.writeSystem16(base + REGS16 + r * 2, p.register(r));
        }
        for (int s = ES; s <= DS; s++) {
            p.writeSystem16(base + SELECTORS16 + s * 2, p.segmentSelector(s));
        }
    }

    /** Sets or clears the busy bit of a TSS descriptor in the GDT; returns the new high dword. */
    private int setBusy(int selector, boolean busy) {
        int address = p.gdtBase() + (selector & 0xFFF8) + 4;
        int hi = p.readSystem32(address);
        hi = busy ? hi | Descriptors.TSS_BUSY : hi & ~Descriptors.TSS_BUSY;
        p.writeSystem32(address, hi);
        return hi;
    }

    /**
     * Step 10 (with NT from step 11), CR0.TS (SDM 2.5) and the DR7 local enables (SDM 17.2.4). Returns whether the
     * new task runs in virtual-8086 mode.
     */
    private boolean loadNewState(boolean is32, boolean nested) {
        if (is32 && (p.cr0() & Cpu.CR0_PG) != 0) {
            p.loadCr3(newCr3); // without paging the PDBR is read but not loaded (step 10)
        }
        p.setCr0(p.cr0() | Cpu.CR0_TS);
        p.setDr7(p.dr7() & ~DR7_LOCAL_ENABLES);
        int flags = ((nested ? newFlags | Cpu.NT : newFlags) & 0x3F7FD7) | 2;
        p.setEflags(flags);
        p.setEip(newEip);
        for (int r = 0; r < 8; r++) {
            p.setRegister(r, newRegs[r]);
        }
        // The selectors are loaded now with no descriptors; step 13 qualifies them one by one.
        p.loadLdtr(newLdt, 0, 0, 0);
        for (int s = 0; s < 6; s++) {
            p.loadUnqualifiedSegment(s, newSelectors[s]);
        }
        boolean v86 = v86Flags(flags);
        p.setCpl(v86 ? 3 : newSelectors[CS] & 3);
        p.newTaskLoaded();
        return v86;
    }

    /** Step 13, in the order of Table 7-1: LDT (conditions 5, 10), CS (6, 11, 12), SS (7-9, 13), data (14-17). */
    private void loadSegments(boolean v86, int ext) {
        loadLdt(newLdt, ext);
        if (v86) {
            for (int s = 0; s < 6; s++) {
                p.loadV86Segment(s, newSelectors[s]);
            }
            return;
        }
        loadCode(newSelectors[CS], ext);
        loadStack(newSelectors[SS], ext);
        for (int s : DATA_SEGMENTS) {
            loadData(s, newSelectors[s], ext);
        }
    }

    private static final int[] DATA_SEGMENTS = {ES, DS, FS, GS};

    private void loadLdt(int selector, int ext) {
        if ((selector & 0xFFFC) == 0) {
            return; // a null LDT selector leaves LDTR unusable, which is allowed
        }
        int error = (selector & 0xFFFC) | ext;
        if ((selector & 4) != 0) {
            throw p.fault(Exceptions.TS, error);
        }
        long desc = p.readDescriptor(selector, Exceptions.TS, ext);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        if (Descriptors.isSegment(hi) || Descriptors.type(hi) != Descriptors.LDT || !Descriptors.present(hi)) {
            throw p.fault(Exceptions.TS, error);
        }
        p.loadLdtr(selector, Descriptors.base(hi, lo), Descriptors.limit(hi, lo), (hi >>> 8) & 0xF0FF);
    }

    private void loadCode(int selector, int ext) {
        int error = (selector & 0xFFFC) | ext;
        if ((selector & 0xFFFC) == 0) {
            throw p.fault(Exceptions.TS, error);
        }
        long desc = p.readDescriptor(selector, Exceptions.TS, ext);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        if (!Descriptors.isCode(hi) || Descriptors.dpl(hi) != (selector & 3)) {
            throw p.fault(Exceptions.TS, error);
        }
        if (!Descriptors.present(hi)) {
            throw p.fault(Exceptions.NP, error);
        }
        load(CS, selector, p.markAccessed(selector, hi), lo);
    }

    private void loadStack(int selector, int ext) {
        int error = (selector & 0xFFFC) | ext;
        if ((selector & 0xFFFC) == 0) {
            throw p.fault(Exceptions.TS, error);
        }
        long desc = p.readDescriptor(selector, Exceptions.TS, ext);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        if (!Descriptors.isWritableData(hi)) {
            throw p.fault(Exceptions.TS, error);
        }
        if (!Descriptors.present(hi)) {
            throw p.fault(Exceptions.SS, error);
        }
        if (Descriptors.dpl(hi) != p.cpl() || Descriptors.dpl(hi) != (selector & 3)) {
            throw p.fault(Exceptions.TS, error);
        }
        load(SS, selector, p.markAccessed(selector, hi), lo);
    }

    private void loadData(int seg, int selector, int ext) {
        if ((selector & 0xFFFC) == 0) {
            return; // stays null
        }
        int error = (selector & 0xFFFC) | ext;
        long desc = p.readDescriptor(selector, Exceptions.TS, ext);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        boolean readable = Descriptors.isSegment(hi) && (!Descriptors.isCode(hi) || (Descriptors.type(hi) & 2) != 0);
        if (!readable) {
            throw p.fault(Exceptions.TS, error);
        }
        if (!Descriptors.present(hi)) {
            throw p.fault(Exceptions.NP, error);
        }
        int dpl = Descriptors.dpl(hi);
        if (!Descriptors.isConformingCode(hi) && (dpl < p.cpl() || dpl < (selector & 3))) {
            throw p.fault(Exceptions.TS, error);
        }
        load(seg, selector, p.markAccessed(selector, hi), lo);
    }

    private void load(int seg, int selector, int hi, int lo) {
        p.loadSegment(seg, selector, Descriptors.base(hi, lo), Descriptors.limit(hi, lo), (hi >>> 8) & 0xF0FF);
    }
}

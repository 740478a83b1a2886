package hvlab.hw.cpu;

import static hvlab.hw.cpu.Cpu.CS;
import static hvlab.hw.cpu.Cpu.DS;
import static hvlab.hw.cpu.Cpu.ES;
import static hvlab.hw.cpu.Cpu.ESP;
import static hvlab.hw.cpu.Cpu.FS;
import static hvlab.hw.cpu.Cpu.GS;
import static hvlab.hw.cpu.Cpu.SS;

/**
 * Hardware task switching (SDM Vol. 3A, 7.3): JMP or CALL to a TSS descriptor or a task gate, an interrupt or
 * exception through a task gate in the IDT, and IRET with EFLAGS.NT set. Step numbers are those of the SDM 7.3
 * list. Faults up to the state save (step 8) occur in the old task with nothing changed; faults while the new
 * task's segments are qualified (step 13) occur in the new task (Table 7-1).
 */
final class TaskSwitch {
    /** What started the switch: it decides the busy bits, NT and the back link (SDM 7.3, Table 7-2). */
    enum Source { JMP, CALL, IRET, INTERRUPT }

    // 32-bit TSS (SDM Figure 7-2) and 16-bit TSS (Figure 7-10) field offsets.
    static final int LINK = 0, CR3 = 0x1C, EIP32 = 0x20, EFLAGS32 = 0x24, REGS32 = 0x28, SELECTORS32 = 0x48,
            LDT32 = 0x60, TRAP32 = 0x64;
    static final int IP16 = 0x0E, FLAGS16 = 0x10, REGS16 = 0x12, SELECTORS16 = 0x22, LDT16 = 0x2A;
    /** The smallest limits of a TSS (SDM 7.2.2, Table 7-1 condition 3). */
    static final int MIN_LIMIT32 = 0x67, MIN_LIMIT16 = 0x2B;
    /** DR7 L0-L3 and LE: the local breakpoint enables a task switch clears (SDM 17.2.4). */
    private static final int DR7_LOCAL_ENABLES = 0x155;

    private final Cpu c;
    // The new task's state, read in full before anything changes (step 5: a #PF here is in the old task).
    private final int[] newRegs = new int[8];
    private final int[] newSelectors = new int[6];
    private int newEip, newFlags, newCr3, newLdt;

    TaskSwitch(Cpu cpu) {
        this.c = cpu;
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
            int tssSelector = Descriptors.gateSelector(lo);
            switchTasks(tssSelector, tssDescriptor(tssSelector, Exceptions.GP, 0, false), source,
                    Exceptions.NO_ERROR_CODE, 0);
            return;
        }
        if ((selector & 4) != 0) {
            throw c.gp(selector & 0xFFFC); // a TSS descriptor lives in the GDT only (SDM 7.2.2)
        }
        switchTasks(selector, (long) hi << 32 | (lo & 0xFFFFFFFFL), source, Exceptions.NO_ERROR_CODE, 0);
    }

    /** An interrupt or exception through a task gate in the IDT (SDM 6.12.2; Vol. 2A "INT n", TASK-GATE). */
    void interruptThroughTaskGate(int tssSelector, int errorCode, int ext) {
        switchTasks(tssSelector, tssDescriptor(tssSelector, Exceptions.GP, ext, false), Source.INTERRUPT, errorCode,
                ext);
    }

    /** IRET with NT set: back to the task named by the current TSS's link field (SDM Vol. 2A "IRET", TASK-RETURN). */
    void returnToLinkedTask() {
        int link = c.mmu.readSystem16(c.trBase + LINK);
        switchTasks(link, tssDescriptor(link, Exceptions.TS, 0, true), Source.IRET, Exceptions.NO_ERROR_CODE, 0);
    }

    /**
     * The TSS descriptor a selector names, checked as the task-switching instructions do: in the GDT, a TSS,
     * busy or available as required (else {@code vector} with the selector), present (else #NP).
     */
    private long tssDescriptor(int selector, int vector, int ext, boolean busy) {
        int error = (selector & 0xFFFC) | ext;
        if ((selector & 4) != 0) {
            throw c.fault(vector, error);
        }
        long desc = c.readDescriptor(selector, vector, ext);
        int hi = (int) (desc >>> 32);
        if (!Descriptors.isTss(hi) || Descriptors.isBusyTss(hi) != busy) {
            throw c.fault(vector, error);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.NP, error);
        }
        return desc;
    }

    private void switchTasks(int selector, long desc, Source source, int errorCode, int ext) {
        int hi = (int) (desc >>> 32), lo = (int) desc;
        int base = Descriptors.base(hi, lo), limit = Descriptors.limit(hi, lo);
        boolean new32 = (Descriptors.type(hi) & 8) != 0;
        if (c.vmx.nonRoot) {
            c.vmx.exit.taskSwitch(selector, source); // VMX non-root: every task switch exits (SDM 25.1.2, 25.4.2)
        }
        // Step 3: the new TSS must hold a whole TSS (#TS with the new TSS's selector, in the old task).
        if (Integer.compareUnsigned(limit, new32 ? MIN_LIMIT32 : MIN_LIMIT16) < 0) {
            throw c.fault(Exceptions.TS, (selector & 0xFFFC) | ext);
        }
        // Step 5: the new TSS is read whole first, so a #PF on it is taken in the old task.
        readNewState(base, new32);
        // Step 7: IRET clears NT in the saved image of the old task's EFLAGS.
        int oldFlags = c.eflags();
        if (source == Source.IRET) {
            oldFlags &= ~Cpu.NT;
        }
        // Step 8 (done before step 6 so that a #PF on the old TSS, step 5, leaves both busy bits as they were):
        // save the old task's state in its TSS.
        saveOldState(oldFlags);
        int oldSelector = c.trSel;
        // Step 6: JMP and IRET leave the old task not busy; CALL and interrupts keep it busy (Table 7-2).
        if (source == Source.JMP || source == Source.IRET) {
            setBusy(oldSelector, false);
        }
        // Step 11, the back link: CALL and interrupts record the old task in the new TSS.
        boolean nested = source == Source.CALL || source == Source.INTERRUPT;
        if (nested) {
            c.mmu.writeSystem16(base + LINK, oldSelector);
        }
        // Step 12: the new task is busy (IRET finds it busy already).
        if (source != Source.IRET) {
            hi = setBusy(selector, true);
        }
        // Step 9: TR holds the new TSS.
        c.trSel = selector & 0xFFFF;
        c.trBase = base;
        c.trLimit = limit;
        c.trAttr = (hi >>> 8) & 0xF0FF;
        // Step 10: the new task's state; step 11: CALL and interrupts set NT in it.
        loadNewState(new32, nested);
        // Step 13: qualify and load the segment descriptors; faults from here on belong to the new task.
        loadSegments(ext);
        // TODO: a new 32-bit TSS with T set (TRAP32 bit 0) raises a #DB trap (DR6.BT) before its first
        // instruction (SDM 7.2.1); the CPU models no debug traps yet.
        if (errorCode >= 0) {
            pushErrorCode(errorCode, new32 ? 4 : 2, ext);
        }
        // SDM Vol. 2A "JMP", "CALL", "INT n", "IRET": the new EIP must lie within CS.
        if ((c.eip & 0xFFFFFFFFL) > c.segHigh[CS]) {
            throw c.gp(ext);
        }
    }

    private void readNewState(int base, boolean is32) {
        if (is32) {
            newCr3 = c.mmu.readSystem32(base + CR3);
            newEip = c.mmu.readSystem32(base + EIP32);
            newFlags = c.mmu.readSystem32(base + EFLAGS32);
            for (int r = 0; r < 8; r++) {
                newRegs[r] = c.mmu.readSystem32(base + REGS32 + r * 4);
            }
            for (int s = 0; s < 6; s++) {
                newSelectors[s] = c.mmu.readSystem16(base + SELECTORS32 + s * 4);
            }
            newLdt = c.mmu.readSystem16(base + LDT32);
            return;
        }
        newEip = c.mmu.readSystem16(base + IP16);
        newFlags = c.mmu.readSystem16(base + FLAGS16);
        // SDM 7.6: loading from a 16-bit TSS modifies the upper halves; they read as ones, as on Intel parts.
        for (int r = 0; r < 8; r++) {
            newRegs[r] = 0xFFFF0000 | c.mmu.readSystem16(base + REGS16 + r * 2);
        }
        for (int s = ES; s <= DS; s++) {
            newSelectors[s] = c.mmu.readSystem16(base + SELECTORS16 + s * 2);
        }
        newSelectors[FS] = newSelectors[GS] = 0; // a 16-bit TSS has no FS and GS
        newLdt = c.mmu.readSystem16(base + LDT16);
    }

    /** Step 8: general registers, segment selectors, EFLAGS and EIP go into the current TSS. */
    private void saveOldState(int flags) {
        int base = c.trBase;
        if ((c.trAttr & 8) != 0) {
            c.mmu.writeSystem32(base + EIP32, c.eip);
            c.mmu.writeSystem32(base + EFLAGS32, flags);
            for (int r = 0; r < 8; r++) {
                c.mmu.writeSystem32(base + REGS32 + r * 4, c.reg[r]);
            }
            for (int s = 0; s < 6; s++) {
                c.mmu.writeSystem32(base + SELECTORS32 + s * 4, c.segSel[s]); // upper half zero (SDM 22.28.2)
            }
            return;
        }
        c.mmu.writeSystem16(base + IP16, c.eip);
        c.mmu.writeSystem16(base + FLAGS16, flags);
        for (int r = 0; r < 8; r++) {
            c.mmu.writeSystem16(base + REGS16 + r * 2, c.reg[r]);
        }
        for (int s = ES; s <= DS; s++) {
            c.mmu.writeSystem16(base + SELECTORS16 + s * 2, c.segSel[s]);
        }
    }

    /** Sets or clears the busy bit of a TSS descriptor in the GDT; returns the new high dword. */
    private int setBusy(int selector, boolean busy) {
        int address = c.gdtBase + (selector & 0xFFF8) + 4;
        int hi = c.mmu.readSystem32(address);
        hi = busy ? hi | Descriptors.TSS_BUSY : hi & ~Descriptors.TSS_BUSY;
        c.mmu.writeSystem32(address, hi);
        return hi;
    }

    /** Step 10 (with NT from step 11), CR0.TS (SDM 2.5) and the DR7 local enables (SDM 17.2.4). */
    private void loadNewState(boolean is32, boolean nested) {
        if (is32 && (c.cr0 & Cpu.CR0_PG) != 0) {
            SystemOps.writeCr3(c, newCr3); // without paging the PDBR is read but not loaded (step 10)
        }
        c.cr0 |= Cpu.CR0_TS;
        c.dr[7] &= ~DR7_LOCAL_ENABLES;
        c.flags = ((nested ? newFlags | Cpu.NT : newFlags) & 0x3F7FD7) | 2;
        c.ccOp = Alu.CC_NONE;
        c.eventPending = true;
        c.eip = newEip;
        System.arraycopy(newRegs, 0, c.reg, 0, 8);
        // The selectors are loaded now with unusable caches; step 13 qualifies them one by one.
        c.ldtSel = newLdt;
        c.ldtBase = c.ldtLimit = c.ldtAttr = 0;
        for (int s = 0; s < 6; s++) {
            c.loadNullSegment(s, newSelectors[s]);
        }
        c.mmu.invalidateFetch();
        c.setCpl(c.v86Mode() ? 3 : newSelectors[CS] & 3);
        // From here a fault is delivered in the new task: it restarts at the new task's EIP and ESP.
        c.startEip = c.eip;
        c.startEsp = c.reg[ESP];
    }

    /** Step 13, in the order of Table 7-1: LDT (conditions 5, 10), CS (6, 11, 12), SS (7-9, 13), data (14-17). */
    private void loadSegments(int ext) {
        loadLdt(newLdt, ext);
        if (c.v86Mode()) {
            for (int s = 0; s < 6; s++) {
                c.loadV86Segment(s, newSelectors[s]);
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
            throw c.fault(Exceptions.TS, error);
        }
        long desc = c.readDescriptor(selector, Exceptions.TS, ext);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        if (Descriptors.isSegment(hi) || Descriptors.type(hi) != Descriptors.LDT || !Descriptors.present(hi)) {
            throw c.fault(Exceptions.TS, error);
        }
        c.ldtBase = Descriptors.base(hi, lo);
        c.ldtLimit = Descriptors.limit(hi, lo);
        c.ldtAttr = (hi >>> 8) & 0xF0FF;
    }

    private void loadCode(int selector, int ext) {
        int error = (selector & 0xFFFC) | ext;
        if ((selector & 0xFFFC) == 0) {
            throw c.fault(Exceptions.TS, error);
        }
        long desc = c.readDescriptor(selector, Exceptions.TS, ext);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        if (!Descriptors.isCode(hi) || Descriptors.dpl(hi) != (selector & 3)) {
            throw c.fault(Exceptions.TS, error);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.NP, error);
        }
        c.loadSegmentCache(CS, selector, c.markAccessed(selector, hi), lo);
    }

    private void loadStack(int selector, int ext) {
        int error = (selector & 0xFFFC) | ext;
        if ((selector & 0xFFFC) == 0) {
            throw c.fault(Exceptions.TS, error);
        }
        long desc = c.readDescriptor(selector, Exceptions.TS, ext);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        if (!Descriptors.isWritableData(hi)) {
            throw c.fault(Exceptions.TS, error);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.SS, error);
        }
        if (Descriptors.dpl(hi) != c.cpl || Descriptors.dpl(hi) != (selector & 3)) {
            throw c.fault(Exceptions.TS, error);
        }
        c.loadSegmentCache(SS, selector, c.markAccessed(selector, hi), lo);
    }

    private void loadData(int seg, int selector, int ext) {
        if ((selector & 0xFFFC) == 0) {
            return; // stays null
        }
        int error = (selector & 0xFFFC) | ext;
        long desc = c.readDescriptor(selector, Exceptions.TS, ext);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        boolean readable = Descriptors.isSegment(hi) && (!Descriptors.isCode(hi) || (Descriptors.type(hi) & 2) != 0);
        if (!readable) {
            throw c.fault(Exceptions.TS, error);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.NP, error);
        }
        int dpl = Descriptors.dpl(hi);
        if (!Descriptors.isConformingCode(hi) && (dpl < c.cpl || dpl < (selector & 3))) {
            throw c.fault(Exceptions.TS, error);
        }
        c.loadSegmentCache(seg, selector, c.markAccessed(selector, hi), lo);
    }

    /** An exception's error code goes on the new task's stack (SDM 6.12.2; Vol. 2A "INT n", TASK-GATE). */
    private void pushErrorCode(int errorCode, int width, int ext) {
        int sp = c.stackAdd(c.sp(), -width);
        long low = sp & 0xFFFFFFFFL;
        if (low < c.segLow[SS] || low + width - 1 > c.segHigh[SS]) {
            throw c.fault(Exceptions.SS, ext);
        }
        if (width == 4) {
            c.write32(SS, sp, errorCode);
        } else {
            c.write16(SS, sp, errorCode);
        }
        c.setSp(sp);
    }
}

package hvlab.hw.cpu;

import static hvlab.hw.cpu.Cpu.CS;
import static hvlab.hw.cpu.Cpu.DS;
import static hvlab.hw.cpu.Cpu.ES;
import static hvlab.hw.cpu.Cpu.ESP;
import static hvlab.hw.cpu.Cpu.FS;
import static hvlab.hw.cpu.Cpu.GS;
import static hvlab.hw.cpu.Cpu.SS;

/**
 * Protected-mode control transfers and privileged operations: interrupt and exception delivery through the IDT,
 * far JMP/CALL/RET through call gates, IRET, flags with IOPL rules, I/O permission, control registers and
 * descriptor-table registers. Each rule cites its SDM section.
 */
final class SystemOps {
    private SystemOps() {
    }

    // =====================================================================================================
    // Interrupt and exception delivery (SDM Vol. 3A, 6.12.1 and 6.12.1.1; error codes 6.13)
    // =====================================================================================================

    static void interruptProtectedMode(Cpu c, int vector, int errorCode, Cpu.InterruptKind kind) {
        boolean software = kind == Cpu.InterruptKind.SOFTWARE || kind == Cpu.InterruptKind.SOFTWARE_EXCEPTION;
        int ext = software ? 0 : 1;
        int idtError = vector * 8 + 2 + ext;
        if (Integer.compareUnsigned(vector * 8 + 7, c.idtLimit) > 0) {
            throw c.gp(idtError);
        }
        int lo = c.mmu.readSystem32(c.idtBase + vector * 8);
        int hi = c.mmu.readSystem32(c.idtBase + vector * 8 + 4);
        int type = (hi >>> 8) & 0x1F; // includes S, which must be 0
        boolean gate32 = type == Descriptors.INTERRUPT_GATE32 || type == Descriptors.TRAP_GATE32;
        boolean gate16 = type == Descriptors.INTERRUPT_GATE16 || type == Descriptors.TRAP_GATE16;
        boolean taskGate = type == Descriptors.TASK_GATE;
        if (!gate32 && !gate16 && !taskGate) {
            throw c.gp(idtError);
        }
        if (software && Descriptors.dpl(hi) < c.cpl) {
            throw c.gp(vector * 8 + 2);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.NP, idtError);
        }
        if (taskGate) {
            c.tasks.interruptThroughTaskGate(Descriptors.gateSelector(lo), errorCode, ext);
            return;
        }
        boolean trapGate = (type & 1) != 0;
        int selector = Descriptors.gateSelector(lo);
        int offset = Descriptors.gateOffset(hi, lo, gate32);
        if ((selector & 0xFFFC) == 0) {
            throw c.gp(ext);
        }
        long code = c.readDescriptor(selector, Exceptions.GP, ext);
        int codeHi = (int) (code >>> 32), codeLo = (int) code;
        int dpl = Descriptors.dpl(codeHi);
        if (!Descriptors.isCode(codeHi) || dpl > c.cpl) {
            throw c.gp((selector & 0xFFFC) | ext);
        }
        if (!Descriptors.present(codeHi)) {
            throw c.fault(Exceptions.NP, (selector & 0xFFFC) | ext);
        }
        if (Integer.compareUnsigned(offset, Descriptors.limit(codeHi, codeLo)) > 0) {
            throw c.gp(ext);
        }
        int oldFlags = c.eflags();
        boolean fromV86 = (oldFlags & Cpu.VM) != 0;
        boolean hasError = errorCode >= 0;
        int width = gate32 ? 4 : 2;

        if (!Descriptors.isConformingCode(codeHi) && dpl < c.cpl) {
            if (fromV86 && dpl != 0) {
                throw c.gp((selector & 0xFFFC) | ext);
            }
            int frameWords = 5 + (hasError ? 1 : 0) + (fromV86 ? 4 : 0);
            InnerStack w = c.innerStack.load(dpl, ext, frameWords * width);
            if (fromV86) {
                w.push(c.segSel[GS], width);
                w.push(c.segSel[FS], width);
                w.push(c.segSel[DS], width);
                w.push(c.segSel[ES], width);
            }
            w.push(c.segSel[SS], width);
            w.push(c.reg[ESP], width);
            w.push(oldFlags, width);
            w.push(c.segSel[CS], width);
            w.push(c.eip, width);
            if (hasError) {
                w.push(errorCode, width);
            }
            // Commit: nothing above has changed architectural state.
            c.flags = oldFlags & ~(Cpu.TF | Cpu.NT | Cpu.RF | Cpu.VM | (trapGate ? 0 : Cpu.IF));
            c.ccOp = Alu.CC_NONE;
            if (fromV86) {
                for (int s : DATA_SEGMENTS) {
                    c.loadNullSegment(s, 0);
                }
            }
            w.activate();
            c.setCpl(dpl);
            loadCodeSegment(c, (selector & 0xFFFC) | dpl, codeHi, codeLo, offset);
            return;
        }
        if (fromV86) {
            throw c.gp((selector & 0xFFFC) | ext);
        }
        // Same privilege level: the frame goes on the current stack.
        int sp = c.sp();
        int frame = (3 + (hasError ? 1 : 0)) * width;
        int newSp = c.stackAdd(sp, -frame);
        c.linearForWrite(SS, newSp, frame);
        int at = newSp;
        if (hasError) {
            writeStack(c, at, errorCode, width);
            at = c.stackAdd(at, width);
        }
        writeStack(c, at, c.eip, width);
        writeStack(c, c.stackAdd(at, width), c.segSel[CS], width);
        writeStack(c, c.stackAdd(at, 2 * width), oldFlags, width);
        c.setSp(newSp);
        c.flags = oldFlags & ~(Cpu.TF | Cpu.NT | Cpu.RF | Cpu.VM | (trapGate ? 0 : Cpu.IF));
        c.ccOp = Alu.CC_NONE;
        loadCodeSegment(c, (selector & 0xFFFC) | c.cpl, codeHi, codeLo, offset);
    }

    private static void writeStack(Cpu c, int sp, int value, int width) {
        if (width == 4) {
            c.write32(SS, sp, value);
        } else {
            c.write16(SS, sp, value);
        }
    }

    private static void loadCodeSegment(Cpu c, int selector, int hi, int lo, int offset) {
        hi = c.markAccessed(selector, hi);
        c.loadSegmentCache(CS, selector, hi, lo);
        c.eip = offset;
    }

    /**
     * The inner-level stack of a transfer to a more privileged level: taken from the TSS (SDM 6.12.1, 7.2.1), checked
     * as SDM 6.12.1.1 says (#TS, #SS), then written before it is loaded. One per CPU, reused: interrupts from ring 3
     * are frequent (every system call), and the hot path allocates nothing.
     */
    static final class InnerStack {
        private final Cpu c;
        int selector, hi, lo, sp;
        private int base;
        private boolean big;

        InnerStack(Cpu c) {
            this.c = c;
        }

        /** Loads the stack for privilege level {@code dpl} and makes room for {@code frameBytes} below its top. */
        InnerStack load(int dpl, int ext, int frameBytes) {
            boolean tss32 = (c.trAttr & 8) != 0;
            int spOffset = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
            int width = tss32 ? 4 : 2;
            if (spOffset + 2 * width - 1 > c.trLimit) {
                throw c.fault(Exceptions.TS, (c.trSel & 0xFFFC) | ext);
            }
            int pointer = tss32 ? c.mmu.readSystem32(c.trBase + spOffset) : c.mmu.readSystem16(c.trBase + spOffset);
            int ss = c.mmu.readSystem16(c.trBase + spOffset + width);
            if ((ss & 0xFFFC) == 0) {
                throw c.fault(Exceptions.TS, ext);
            }
            if ((ss & 3) != dpl) {
                throw c.fault(Exceptions.TS, (ss & 0xFFFC) | ext);
            }
            long desc = c.readDescriptor(ss, Exceptions.TS, ext);
            int dhi = (int) (desc >>> 32), dlo = (int) desc;
            if (Descriptors.dpl(dhi) != dpl || !Descriptors.isWritableData(dhi)) {
                throw c.fault(Exceptions.TS, (ss & 0xFFFC) | ext);
            }
            if (!Descriptors.present(dhi)) {
                throw c.fault(Exceptions.SS, (ss & 0xFFFC) | ext);
            }
            dhi = c.markAccessed(ss, dhi);
            selector = ss;
            hi = dhi;
            lo = dlo;
            base = Descriptors.base(dhi, dlo);
            big = (dhi & Descriptors.DB) != 0;
            sp = big ? pointer : pointer & 0xFFFF;
            int limit = Descriptors.limit(dhi, dlo);
            boolean expandDown = (Descriptors.type(dhi) & 4) != 0;
            long low = (big ? sp - frameBytes : (sp - frameBytes) & 0xFFFF) & 0xFFFFFFFFL;
            long high = low + frameBytes - 1;
            boolean fits = expandDown
                    ? low > (limit & 0xFFFFFFFFL) && high <= (big ? 0xFFFFFFFFL : 0xFFFFL)
                    : high <= (limit & 0xFFFFFFFFL);
            if (!fits) {
                throw c.fault(Exceptions.SS, (ss & 0xFFFC) | ext);
            }
            return this;
        }

        void push(int value, int width) {
            sp = big ? sp - width : (sp - width) & 0xFFFF;
            if (width == 4) {
                c.mmu.writeSystem32(base + sp, value);
            } else {
                c.mmu.writeSystem16(base + sp, value);
            }
        }

        /** Makes this the current stack: SS and ESP (only SP for a 16-bit stack). */
        void activate() {
            c.loadSegmentCache(SS, selector, hi, lo);
            c.reg[ESP] = c.stack32 ? sp : (c.reg[ESP] & 0xFFFF0000) | (sp & 0xFFFF);
        }
    }

    // =====================================================================================================
    // IRET (SDM Vol. 2A "IRET/IRETD")
    // =====================================================================================================

    static void iret(Interpreter in) {
        Cpu c = in.c;
        int width = c.opSize32 ? 4 : 2;
        if (!c.protectedMode()) {
            int ip = c.pop(), cs = c.pop(), fl = c.pop();
            c.loadRealModeSegment(CS, cs);
            c.eip = c.opSize32 ? ip : ip & 0xFFFF;
            c.setEflags(fl, c.opSize32 ? 0x257FD5 : 0x7FD5);
            return;
        }
        if (c.v86Mode()) {
            boolean virtualFlags = c.iopl() < 3;
            if (virtualFlags && (!vme(c) || c.opSize32)) {
                throw c.gp(0); // SDM 20.2.7
            }
            int ip = c.pop(), cs = c.pop(), fl = c.pop();
            if (virtualFlags) {
                popVirtualFlags(c, fl);
            } else {
                c.setEflags(fl, (c.opSize32 ? 0x3F7FD5 : 0x7FD5) & ~(Cpu.IOPL | Cpu.VM | Cpu.VIP | Cpu.VIF));
            }
            c.loadV86Segment(CS, cs);
            c.eip = c.opSize32 ? ip : ip & 0xFFFF;
            return;
        }
        if ((c.flags & Cpu.NT) != 0) {
            c.tasks.returnToLinkedTask();
            return;
        }
        int sp = c.sp();
        int newEip = readStack(c, sp, width);
        int newCs = readStack(c, c.stackAdd(sp, width), width) & 0xFFFF;
        int newFlags = readStack(c, c.stackAdd(sp, 2 * width), width);
        if (!c.opSize32) {
            newFlags = (c.eflags() & 0xFFFF0000) | (newFlags & 0xFFFF);
        }
        if ((newFlags & Cpu.VM) != 0 && c.cpl == 0 && c.opSize32) {
            returnToV86(c, sp, newEip, newCs, newFlags);
            return;
        }
        int rpl = newCs & 3;
        if ((newCs & 0xFFFC) == 0) {
            throw c.gp(0);
        }
        long desc = c.readDescriptor(newCs, Exceptions.GP, 0);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        checkReturnCodeSegment(c, newCs, hi, rpl);
        int oldCpl = c.cpl;
        if (rpl == c.cpl) {
            checkTargetLimit(c, newEip, hi, lo);
            c.setSp(c.stackAdd(sp, 3 * width));
            loadCodeSegment(c, newCs, hi, lo, newEip);
            c.setEflags(newFlags, returnFlagsMask(c, oldCpl, c.opSize32));
            return;
        }
        // Return to an outer privilege level: the outer stack pointer is on the inner stack.
        int newEsp = readStack(c, c.stackAdd(sp, 3 * width), width);
        int newSs = readStack(c, c.stackAdd(sp, 4 * width), width) & 0xFFFF;
        long ssDesc = checkOuterStack(c, newSs, rpl);
        checkTargetLimit(c, newEip, hi, lo);
        int mask = returnFlagsMask(c, oldCpl, c.opSize32);
        loadCodeSegment(c, newCs, hi, lo, newEip);
        c.setCpl(rpl);
        c.setEflags(newFlags, mask);
        loadOuterStack(c, newSs, ssDesc, newEsp, width);
        nullInaccessibleDataSegments(c);
    }

    private static int readStack(Cpu c, int sp, int width) {
        return width == 4 ? c.read32(SS, sp) : c.read16(SS, sp);
    }

    /** Which EFLAGS bits IRET may change: IOPL only at CPL 0, IF only when CPL <= IOPL (SDM "IRET"). */
    private static int returnFlagsMask(Cpu c, int cpl, boolean is32) {
        int mask = Cpu.CF | Cpu.PF | Cpu.AF | Cpu.ZF | Cpu.SF | Cpu.TF | Cpu.DF | Cpu.OF | Cpu.NT;
        if (is32) {
            mask |= Cpu.RF | Cpu.AC | Cpu.ID;
            if (cpl == 0) {
                mask |= Cpu.VIF | Cpu.VIP;
            }
        }
        if (cpl <= c.iopl()) {
            mask |= Cpu.IF;
        }
        if (cpl == 0) {
            mask |= Cpu.IOPL;
        }
        return mask;
    }

    private static void checkReturnCodeSegment(Cpu c, int selector, int hi, int rpl) {
        if (!Descriptors.isCode(hi) || rpl < c.cpl
                || Descriptors.isConformingCode(hi) && Descriptors.dpl(hi) > rpl
                || !Descriptors.isConformingCode(hi) && Descriptors.dpl(hi) != rpl) {
            throw c.gp(selector & 0xFFFC);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.NP, selector & 0xFFFC);
        }
    }

    private static void checkTargetLimit(Cpu c, int eip, int hi, int lo) {
        if (Integer.compareUnsigned(eip, Descriptors.limit(hi, lo)) > 0) {
            throw c.gp(0);
        }
    }

    private static long checkOuterStack(Cpu c, int selector, int rpl) {
        if ((selector & 0xFFFC) == 0) {
            throw c.gp(0);
        }
        long desc = c.readDescriptor(selector, Exceptions.GP, 0);
        int hi = (int) (desc >>> 32);
        if ((selector & 3) != rpl || Descriptors.dpl(hi) != rpl || !Descriptors.isWritableData(hi)) {
            throw c.gp(selector & 0xFFFC);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.SS, selector & 0xFFFC);
        }
        return desc;
    }

    private static void loadOuterStack(Cpu c, int selector, long desc, int esp, int width) {
        int hi = c.markAccessed(selector, (int) (desc >>> 32));
        c.loadSegmentCache(SS, selector, hi, (int) desc);
        c.reg[ESP] = c.stack32 ? esp : (c.reg[ESP] & 0xFFFF0000) | (esp & 0xFFFF);
    }

    /** After a return to an outer level, data segments the new CPL may not use become null (SDM "RET", "IRET"). */
    private static void nullInaccessibleDataSegments(Cpu c) {
        for (int s : DATA_SEGMENTS) {
            int attr = c.segAttr[s];
            boolean dataOrNonConforming = (attr & 0x10) != 0 && ((attr & 0x8) == 0 || (attr & 0x4) == 0);
            if (c.segAccess[s] != 0 && dataOrNonConforming && ((attr >>> 5) & 3) < c.cpl) {
                c.loadNullSegment(s, 0);
            }
        }
    }

    private static final int[] DATA_SEGMENTS = {ES, DS, FS, GS};

    /** IRET to virtual-8086 mode (SDM "IRET", RETURN-TO-VIRTUAL-8086-MODE). */
    private static void returnToV86(Cpu c, int sp, int newEip, int newCs, int newFlags) {
        int newEsp = c.read32(SS, c.stackAdd(sp, 12));
        int newSs = c.read32(SS, c.stackAdd(sp, 16));
        int es = c.read32(SS, c.stackAdd(sp, 20));
        int ds = c.read32(SS, c.stackAdd(sp, 24));
        int fs = c.read32(SS, c.stackAdd(sp, 28));
        int gs = c.read32(SS, c.stackAdd(sp, 32));
        c.flags = (newFlags & 0x3F7FD7) | 2;
        c.ccOp = Alu.CC_NONE;
        c.eventPending = true;
        c.setCpl(3);
        c.loadV86Segment(CS, newCs);
        c.eip = newEip & 0xFFFF;
        c.loadV86Segment(SS, newSs);
        c.reg[ESP] = newEsp;
        c.loadV86Segment(ES, es);
        c.loadV86Segment(DS, ds);
        c.loadV86Segment(FS, fs);
        c.loadV86Segment(GS, gs);
    }

    // =====================================================================================================
    // Far JMP, CALL, RET (SDM Vol. 2A "JMP", "CALL", Vol. 2B "RET"; call gates 5.8.3-5.8.6)
    // =====================================================================================================

    static void farJump(Interpreter in, int selector, int offset) {
        Cpu c = in.c;
        if (!c.opSize32) {
            offset &= 0xFFFF;
        }
        if (!c.protectedMode() || c.v86Mode()) {
            loadRealOrV86Cs(c, selector);
            c.eip = offset;
            return;
        }
        DescriptorPair target = resolveFarTarget(c, selector, false);
        if (target == TASK_SWITCHED) {
            return;
        }
        if (target.gate) {
            offset = target.offset;
        }
        checkTargetLimit(c, offset, target.hi, target.lo);
        loadCodeSegment(c, (target.selector & 0xFFFC) | c.cpl, target.hi, target.lo, offset);
    }

    static void farCall(Interpreter in, int selector, int offset) {
        Cpu c = in.c;
        int width = c.opSize32 ? 4 : 2;
        if (!c.opSize32) {
            offset &= 0xFFFF;
        }
        if (!c.protectedMode() || c.v86Mode()) {
            pushFarReturnAddress(c, width);
            loadRealOrV86Cs(c, selector);
            c.eip = offset;
            return;
        }
        DescriptorPair target = resolveFarTarget(c, selector, true);
        if (target == TASK_SWITCHED) {
            return;
        }
        if (!target.gate) {
            checkTargetLimit(c, offset, target.hi, target.lo);
            pushFarReturnAddress(c, width);
            loadCodeSegment(c, (target.selector & 0xFFFC) | c.cpl, target.hi, target.lo, offset);
            return;
        }
        callThroughGate(c, target);
    }

    /** Pushes CS and EIP for a far CALL on the current stack; both slots are checked before either is written. */
    private static void pushFarReturnAddress(Cpu c, int width) {
        int sp = c.stackAdd(c.sp(), -2 * width);
        c.linearForWrite(SS, sp, 2 * width);
        writeStack(c, c.stackAdd(sp, width), c.segSel[CS], width);
        writeStack(c, sp, c.eip, width);
        c.setSp(sp);
    }

    /** CALL through a call gate, to the same or a more privileged level (SDM 5.8.5, Figure 5-13). */
    private static void callThroughGate(Cpu c, DescriptorPair target) {
        int width = target.gate32 ? 4 : 2;
        int dpl = Descriptors.dpl(target.hi);
        int offset = target.offset;
        checkTargetLimit(c, offset, target.hi, target.lo);
        if (!Descriptors.isConformingCode(target.hi) && dpl < c.cpl) {
            int params = target.paramCount;
            InnerStack w = c.innerStack.load(dpl, 0, (4 + params) * width);
            int oldSs = c.segSel[SS], oldEsp = c.reg[ESP], oldSp = c.sp();
            w.push(oldSs, width);
            w.push(oldEsp, width);
            for (int i = params - 1; i >= 0; i--) {
                w.push(readStack(c, c.stackAdd(oldSp, i * width), width), width);
            }
            w.push(c.segSel[CS], width);
            w.push(c.eip, width);
            w.activate();
            c.setCpl(dpl);
            loadCodeSegment(c, (target.selector & 0xFFFC) | dpl, target.hi, target.lo, offset);
            return;
        }
        pushFarReturnAddress(c, width);
        loadCodeSegment(c, (target.selector & 0xFFFC) | c.cpl, target.hi, target.lo, offset);
    }

    /** A resolved far target: a code segment descriptor, reached directly or through a call gate. */
    record DescriptorPair(int selector, int hi, int lo, boolean gate, boolean gate32, int offset, int paramCount) { }

    /** What {@link #resolveFarTarget} answers when the target was a TSS or task gate and the task switch is done. */
    private static final DescriptorPair TASK_SWITCHED = new DescriptorPair(0, 0, 0, false, false, 0, 0);

    private static DescriptorPair resolveFarTarget(Cpu c, int selector, boolean call) {
        selector &= 0xFFFF;
        if ((selector & 0xFFFC) == 0) {
            throw c.gp(0);
        }
        long desc = c.readDescriptor(selector, Exceptions.GP, 0);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        int rpl = selector & 3, dpl = Descriptors.dpl(hi);
        if (Descriptors.isCode(hi)) {
            if (Descriptors.isConformingCode(hi) ? dpl > c.cpl : rpl > c.cpl || dpl != c.cpl) {
                throw c.gp(selector & 0xFFFC);
            }
            if (!Descriptors.present(hi)) {
                throw c.fault(Exceptions.NP, selector & 0xFFFC);
            }
            return new DescriptorPair(selector, hi, lo, false, false, 0, 0);
        }
        int type = Descriptors.type(hi);
        boolean callGate = !Descriptors.isSegment(hi)
                && (type == Descriptors.CALL_GATE32 || type == Descriptors.CALL_GATE16);
        boolean taskTarget = TaskSwitch.isTaskTarget(hi);
        if (!callGate && !taskTarget) {
            throw c.gp(selector & 0xFFFC);
        }
        if (dpl < c.cpl || dpl < rpl) {
            throw c.gp(selector & 0xFFFC);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.NP, selector & 0xFFFC);
        }
        if (taskTarget) {
            c.tasks.jumpOrCall(selector, hi, lo, call);
            return TASK_SWITCHED;
        }
        boolean gate32 = type == Descriptors.CALL_GATE32;
        int codeSelector = Descriptors.gateSelector(lo);
        int offset = Descriptors.gateOffset(hi, lo, gate32);
        if ((codeSelector & 0xFFFC) == 0) {
            throw c.gp(0);
        }
        long code = c.readDescriptor(codeSelector, Exceptions.GP, 0);
        int codeHi = (int) (code >>> 32), codeLo = (int) code;
        int codeDpl = Descriptors.dpl(codeHi);
        boolean allowed = Descriptors.isCode(codeHi) && (call
                ? codeDpl <= c.cpl
                : Descriptors.isConformingCode(codeHi) ? codeDpl <= c.cpl : codeDpl == c.cpl);
        if (!allowed) {
            throw c.gp(codeSelector & 0xFFFC);
        }
        if (!Descriptors.present(codeHi)) {
            throw c.fault(Exceptions.NP, codeSelector & 0xFFFC);
        }
        return new DescriptorPair(codeSelector, codeHi, codeLo, true, gate32, offset, hi & 0x1F);
    }

    private static void loadRealOrV86Cs(Cpu c, int selector) {
        if (c.v86Mode()) {
            c.loadV86Segment(CS, selector);
        } else {
            c.loadRealModeSegment(CS, selector);
        }
    }

    static void farReturn(Interpreter in, int release) {
        Cpu c = in.c;
        int width = c.opSize32 ? 4 : 2;
        int sp = c.sp();
        int newEip = readStack(c, sp, width);
        int newCs = readStack(c, c.stackAdd(sp, width), width) & 0xFFFF;
        if (!c.protectedMode() || c.v86Mode()) {
            c.setSp(c.stackAdd(sp, 2 * width + release));
            loadRealOrV86Cs(c, newCs);
            c.eip = c.opSize32 ? newEip : newEip & 0xFFFF;
            return;
        }
        if ((newCs & 0xFFFC) == 0) {
            throw c.gp(0);
        }
        long desc = c.readDescriptor(newCs, Exceptions.GP, 0);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        int rpl = newCs & 3;
        checkReturnCodeSegment(c, newCs, hi, rpl);
        if (!c.opSize32) {
            newEip &= 0xFFFF;
        }
        if (rpl == c.cpl) {
            checkTargetLimit(c, newEip, hi, lo);
            c.setSp(c.stackAdd(sp, 2 * width + release));
            loadCodeSegment(c, newCs, hi, lo, newEip);
            return;
        }
        int outer = c.stackAdd(sp, 2 * width + release);
        int newEsp = readStack(c, outer, width);
        int newSs = readStack(c, c.stackAdd(outer, width), width) & 0xFFFF;
        long ssDesc = checkOuterStack(c, newSs, rpl);
        checkTargetLimit(c, newEip, hi, lo);
        loadCodeSegment(c, newCs, hi, lo, newEip);
        c.setCpl(rpl);
        loadOuterStack(c, newSs, ssDesc, newEsp, width);
        c.setSp(c.stackAdd(c.sp(), release));
        nullInaccessibleDataSegments(c);
    }

    // =====================================================================================================
    // Flags and interrupt enable (SDM Vol. 2B "PUSHF", "POPF", "CLI", "STI"; V86 20.2)
    // =====================================================================================================

    static void pushFlags(Interpreter in) {
        Cpu c = in.c;
        int value = c.eflags() & ~(Cpu.VM | Cpu.RF);
        if (c.v86Mode() && c.iopl() < 3) {
            if (!vme(c) || c.opSize32) {
                throw c.gp(0);
            }
            // SDM "PUSHF" with CR4.VME: the image shows VIF as IF, and IOPL as 3
            c.push16(value & ~Cpu.IF | Cpu.IOPL | ((value & Cpu.VIF) != 0 ? Cpu.IF : 0));
            return;
        }
        c.push(c.opSize32 ? value : value & 0xFFFF);
    }

    static void popFlags(Interpreter in) {
        Cpu c = in.c;
        if (c.v86Mode() && c.iopl() < 3) {
            if (!vme(c) || c.opSize32) {
                throw c.gp(0);
            }
            popVirtualFlags(c, c.pop16());
            return;
        }
        int value = c.pop();
        int mask = Cpu.CF | Cpu.PF | Cpu.AF | Cpu.ZF | Cpu.SF | Cpu.TF | Cpu.DF | Cpu.OF | Cpu.NT;
        if (c.opSize32) {
            mask |= Cpu.AC | Cpu.ID;
        }
        boolean realMode = !c.protectedMode();
        if (realMode || c.cpl <= c.iopl()) {
            mask |= Cpu.IF;
        }
        if (realMode || c.cpl == 0 && !c.v86Mode()) {
            mask |= Cpu.IOPL;
        }
        c.setEflags(value, mask);
    }

    static void cli(Interpreter in) {
        Cpu c = in.c;
        if (c.protectedMode() && c.cpl > c.iopl()) {
            if (!virtualInterrupts(c)) {
                throw c.gp(0);
            }
            c.flags &= ~Cpu.VIF;
            return;
        }
        c.flags &= ~Cpu.IF;
    }

    static void sti(Interpreter in) {
        Cpu c = in.c;
        if (c.protectedMode() && c.cpl > c.iopl()) {
            if (!virtualInterrupts(c) || (c.flags & Cpu.VIP) != 0) {
                throw c.gp(0); // with VIP set the monitor is to deliver the pending interrupt (SDM 20.3.2)
            }
            c.flags |= Cpu.VIF;
            return;
        }
        if ((c.flags & Cpu.IF) == 0) {
            c.flags |= Cpu.IF;
            c.interruptShadowAt = c.retired + 1; // SDM "STI": interrupts wait until after the next instruction
            c.eventPending = true;
        }
    }

    // =====================================================================================================
    // Virtual-8086 mode extensions and protected-mode virtual interrupts (SDM Vol. 3A, 20.3 and 20.4)
    // =====================================================================================================

    static boolean vme(Cpu c) {
        return (c.cr4 & Cpu.CR4_VME) != 0;
    }

    /** CLI and STI act on VIF instead of raising #GP: V86 with CR4.VME (SDM 20.3.2), CPL 3 with CR4.PVI (20.4). */
    private static boolean virtualInterrupts(Cpu c) {
        return (c.cr4 & (c.v86Mode() ? Cpu.CR4_VME : c.cpl == 3 ? Cpu.CR4_PVI : 0)) != 0;
    }

    /**
     * 16-bit POPF and IRET in V86 with VME and IOPL < 3 (SDM "POPF", "IRET"): the popped IF goes to VIF, IF and IOPL
     * stay; #GP(0) if that would set VIF with an interrupt pending, or set TF.
     */
    private static void popVirtualFlags(Cpu c, int value) {
        if ((value & Cpu.IF) != 0 && (c.flags & Cpu.VIP) != 0 || (value & Cpu.TF) != 0) {
            throw c.gp(0);
        }
        int mask = Cpu.CF | Cpu.PF | Cpu.AF | Cpu.ZF | Cpu.SF | Cpu.DF | Cpu.OF | Cpu.NT | Cpu.VIF;
        c.setEflags((value & 0xFFFF) | ((value & Cpu.IF) != 0 ? Cpu.VIF : 0), mask);
    }

    /**
     * INT n in V86 (SDM 20.3.3, Table 20-2). With CR4.VME and the vector's bit clear in the TSS's interrupt
     * redirection bit map, the 8086 program's own handler runs (methods 5 and 6) and this returns true; otherwise
     * IOPL 3 sends the interrupt through the IDT (methods 1 and 4, false) and a lower IOPL raises #GP(0) (2 and 3).
     */
    static boolean redirectV86Interrupt(Cpu c, int vector) {
        if (vme(c) && !redirectionBitSet(c, vector)) {
            interruptV86Program(c, vector);
            return true;
        }
        if (c.iopl() < 3) {
            throw c.gp(0);
        }
        return false;
    }

    /** The interrupt redirection bit map: the 32 bytes below the I/O map base (SDM 20.3.3, Figure 20-5). */
    private static boolean redirectionBitSet(Cpu c, int vector) {
        int offset = ioMapBase(c) - 32 + (vector >>> 3);
        if (Integer.compareUnsigned(offset, c.trLimit) > 0) {
            throw c.gp(0);
        }
        return (c.mmu.readSystem8(c.trBase + offset) >>> (vector & 7) & 1) != 0;
    }

    /**
     * Methods 5 and 6 (SDM 20.3.3.4, 20.3.3.5): a real-mode style call through the interrupt vector table at linear
     * address 0 of the V86 task (read with its CPL 3). With IOPL < 3 the pushed FLAGS show VIF as IF and IOPL as 3,
     * and VIF rather than IF is cleared.
     */
    private static void interruptV86Program(Cpu c, int vector) {
        int ip = c.mmu.read16(vector * 4);
        int cs = c.mmu.read16(vector * 4 + 2);
        int flags = c.eflags();
        boolean virtualFlags = c.iopl() < 3;
        int image = virtualFlags ? flags & ~Cpu.IF | Cpu.IOPL | ((flags & Cpu.VIF) != 0 ? Cpu.IF : 0) : flags;
        c.push16(image);
        c.push16(c.segSel[CS]);
        c.push16(c.eip);
        c.flags = flags & ~(Cpu.TF | Cpu.RF | (virtualFlags ? Cpu.VIF : Cpu.IF));
        c.loadV86Segment(CS, cs);
        c.eip = ip;
    }

    // =====================================================================================================
    // I/O (SDM Vol. 1, 18.5 I/O permission bit map)
    // =====================================================================================================

    static int in(Interpreter in, int port, int width) {
        checkIoPermission(in, port, width);
        return portRead(in.c, port, width);
    }

    static void out(Interpreter in, int port, int width, int value) {
        checkIoPermission(in, port, width);
        portWrite(in.c, port, width, value);
    }

    static int portRead(Cpu c, int port, int width) {
        c.syncClock();
        c.counters.ioInstructions++;
        c.eventPending = true;
        return c.ports.read(port, width);
    }

    static void portWrite(Cpu c, int port, int width, int value) {
        c.syncClock();
        c.counters.ioInstructions++;
        c.eventPending = true;
        c.ports.write(port, width, width == 4 ? value : value & ((1 << (width * 8)) - 1));
    }

    static void checkIoPermission(Interpreter in, int port, int width) {
        Cpu c = in.c;
        checkTssIoPermission(c, port, width);
        if (c.vmx.nonRoot) {
            c.vmx.exit.io(port, width); // after the TSS check, which has priority (SDM Vol. 3C 25.1.1)
        }
    }

    private static void checkTssIoPermission(Cpu c, int port, int width) {
        if (!c.protectedMode() || c.cpl <= c.iopl() && !c.v86Mode()) {
            return;
        }
        int byteOffset = ioMapBase(c) + (port >>> 3);
        if (byteOffset + 1 > c.trLimit) {
            throw c.gp(0);
        }
        int bits = c.mmu.readSystem16(c.trBase + byteOffset);
        int mask = ((1 << width) - 1) << (port & 7);
        if ((bits & mask) != 0) {
            throw c.gp(0);
        }
    }

    /** The I/O map base of the current TSS; #GP(0) unless it is a 32-bit TSS that holds the field (SDM 18.5.2). */
    private static int ioMapBase(Cpu c) {
        boolean tss32 = (c.trAttr & 0xD) == 9;
        if (!tss32 || c.trLimit < TaskSwitch.MIN_LIMIT32) {
            throw c.gp(0);
        }
        return c.mmu.readSystem16(c.trBase + 0x66);
    }

    // =====================================================================================================
    // Control registers and system tables (SDM Vol. 3A, 2.5, 2.8; Vol. 2 "MOV—Move to/from Control Registers")
    // =====================================================================================================

    static void requireCpl0(Cpu c) {
        if (c.protectedMode() && (c.cpl != 0 || c.v86Mode())) {
            throw c.gp(0);
        }
    }

    static void writeCr0(Cpu c, int value) {
        value |= Cpu.CR0_ET;
        if ((value & Cpu.CR0_PG) != 0 && (value & Cpu.CR0_PE) == 0
                || (value & Cpu.CR0_NW) != 0 && (value & Cpu.CR0_CD) == 0) {
            throw c.gp(0);
        }
        if (c.vmx.operation && !c.vmx.cr0Allowed(value)) {
            throw c.gp(0); // CR0 bits fixed in VMX operation (SDM Vol. 3C 23.8)
        }
        int changed = c.cr0 ^ value;
        c.cr0 = value;
        if ((changed & (Cpu.CR0_PG | Cpu.CR0_WP | Cpu.CR0_PE)) != 0) {
            c.mmu.flushAll();
        }
        if ((changed & Cpu.CR0_PE) != 0 && (value & Cpu.CR0_PE) == 0) {
            c.setCpl(0);
            for (int s = 0; s < 6; s++) {
                c.segAccess[s] = Cpu.SEG_READ | Cpu.SEG_WRITE; // real mode does not check segment types
            }
        }
    }

    static void writeCr3(Cpu c, int value) {
        c.cr3 = value;
        c.mmu.flushNonGlobal();
    }

    static void writeCr4(Cpu c, int value) {
        if ((value & ~(Cpu.CR4_SUPPORTED | (c.vmx.supported ? Vmx.CR4_VMXE : 0))) != 0
                || c.vmx.operation && (value & Vmx.CR4_VMXE) == 0) {
            throw c.gp(0); // CR4.VMXE exists with VMX, and stays set in VMX operation (SDM Vol. 3C 23.7, 23.8)
        }
        int changed = c.cr4 ^ value;
        c.cr4 = value;
        if ((changed & (Cpu.CR4_PGE | Cpu.CR4_PSE | Cpu.CR4_PAE)) != 0) {
            c.mmu.flushAll();
        }
    }

    static void lldt(Cpu c, int selector) {
        if ((selector & 0xFFFC) == 0) {
            c.ldtSel = selector;
            c.ldtBase = 0;
            c.ldtLimit = 0;
            c.ldtAttr = 0;
            return;
        }
        if ((selector & 4) != 0) {
            throw c.gp(selector & 0xFFFC);
        }
        long desc = c.readDescriptor(selector, Exceptions.GP, 0);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        if (Descriptors.isSegment(hi) || Descriptors.type(hi) != Descriptors.LDT) {
            throw c.gp(selector & 0xFFFC);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.NP, selector & 0xFFFC);
        }
        c.ldtSel = selector;
        c.ldtBase = Descriptors.base(hi, lo);
        c.ldtLimit = Descriptors.limit(hi, lo);
        c.ldtAttr = (hi >>> 8) & 0xF0FF;
    }

    static void ltr(Cpu c, int selector) {
        if ((selector & 0xFFFC) == 0) {
            throw c.gp(0);
        }
        if ((selector & 4) != 0) {
            throw c.gp(selector & 0xFFFC);
        }
        long desc = c.readDescriptor(selector, Exceptions.GP, 0);
        int hi = (int) (desc >>> 32), lo = (int) desc;
        int type = Descriptors.type(hi);
        if (Descriptors.isSegment(hi) || type != Descriptors.TSS32_AVAILABLE && type != Descriptors.TSS16_AVAILABLE) {
            throw c.gp(selector & 0xFFFC);
        }
        if (!Descriptors.present(hi)) {
            throw c.fault(Exceptions.NP, selector & 0xFFFC);
        }
        hi |= Descriptors.TSS_BUSY;
        c.mmu.writeSystem32(c.gdtBase + (selector & 0xFFF8) + 4, hi);
        c.trSel = selector;
        c.trBase = Descriptors.base(hi, lo);
        c.trLimit = Descriptors.limit(hi, lo);
        c.trAttr = (hi >>> 8) & 0xF0FF;
    }

    /** LAR, LSL, VERR, VERW: ZF says whether the selector passes; the checks of SDM Vol. 2A "LAR". */
    static long checkedDescriptor(Cpu c, int selector, int validSystemTypes) {
        if ((selector & 0xFFFC) == 0) {
            return -1;
        }
        int base = (selector & 4) != 0 ? c.ldtBase : c.gdtBase;
        int limit = (selector & 4) != 0 ? c.ldtLimit : c.gdtLimit;
        if ((selector & 4) != 0 && (c.ldtSel & 0xFFFC) == 0 || Integer.compareUnsigned(selector | 7, limit) > 0) {
            return -1;
        }
        int lo = c.mmu.readSystem32(base + (selector & 0xFFF8));
        int hi = c.mmu.readSystem32(base + (selector & 0xFFF8) + 4);
        if (!Descriptors.isSegment(hi) && (validSystemTypes & 1 << Descriptors.type(hi)) == 0) {
            return -1;
        }
        if (!Descriptors.isConformingCode(hi)) {
            int dpl = Descriptors.dpl(hi);
            if (dpl < c.cpl || dpl < (selector & 3)) {
                return -1;
            }
        }
        return (long) hi << 32 | (lo & 0xFFFFFFFFL);
    }

    static final int LAR_SYSTEM_TYPES = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 9 | 1 << 11 | 1 << 12;
    static final int LSL_SYSTEM_TYPES = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 9 | 1 << 11;

    /** ARPL (SDM Vol. 2A): raises the destination selector's RPL to the source's; #UD outside protected mode. */
    static void arpl(Interpreter in) {
        Cpu c = in.c;
        if (!c.protectedMode() || c.v86Mode()) {
            throw c.ud();
        }
        in.modrm();
        int dst = in.readRm(Alu.WORD);
        int src = in.readReg(c.modrmReg, Alu.WORD);
        if ((dst & 3) < (src & 3)) {
            in.writeRm(Alu.WORD, (dst & ~3) | (src & 3));
            Alu.setFlag(c, Cpu.ZF, true);
        } else {
            Alu.setFlag(c, Cpu.ZF, false);
        }
    }

    // =====================================================================================================
    // SYSENTER / SYSEXIT (SDM Vol. 2B) and MSRs
    // =====================================================================================================

    static final int MSR_TSC = 0x10, MSR_APIC_BASE = 0x1B, MSR_BIOS_SIGN_ID = 0x8B, MSR_SYSENTER_CS = 0x174,
            MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176;

    static void sysenter(Cpu c) {
        if (!c.protectedMode() || (c.sysenterCs & 0xFFFC) == 0) {
            throw c.gp(0);
        }
        int cs = c.sysenterCs & 0xFFFC;
        Alu.materialize(c);
        c.flags &= ~(Cpu.VM | Cpu.IF | Cpu.RF);
        c.loadSegmentCache(CS, cs, 0x00CF9B00, 0x0000FFFF);
        c.loadSegmentCache(SS, cs + 8, 0x00CF9300, 0x0000FFFF);
        c.setCpl(0);
        c.reg[ESP] = c.sysenterEsp;
        c.eip = c.sysenterEip;
    }

    static void sysexit(Cpu c) {
        if (!c.protectedMode() || c.v86Mode() || c.cpl != 0 || (c.sysenterCs & 0xFFFC) == 0) {
            throw c.gp(0);
        }
        int cs = c.sysenterCs & 0xFFFC;
        c.loadSegmentCache(CS, (cs + 16) | 3, 0x00CFFB00, 0x0000FFFF);
        c.loadSegmentCache(SS, (cs + 24) | 3, 0x00CFF300, 0x0000FFFF);
        c.setCpl(3);
        c.reg[ESP] = c.reg[Cpu.ECX];
        c.eip = c.reg[Cpu.EDX];
    }

    static long readMsr(Cpu c, int index) {
        return switch (index) {
            case MSR_TSC -> timeStampCounter(c) + (c.vmx.nonRoot ? c.vmx.exit.tscOffset() : 0);
            // IA32_BIOS_SIGN_ID (SDM Vol. 4 Table 2-2; Vol. 3A 9.11.7.1): the signature of the loaded microcode
            // update in bits 63:32 after CPUID.01H; no update is ever loaded, so it reads zero
            case MSR_BIOS_SIGN_ID -> 0;
            case MSR_SYSENTER_CS -> c.sysenterCs & 0xFFFFFFFFL;
            case MSR_SYSENTER_ESP -> c.sysenterEsp & 0xFFFFFFFFL;
            case MSR_SYSENTER_EIP -> c.sysenterEip & 0xFFFFFFFFL;
            case P6PerformanceCounters.PERF_CTR0, P6PerformanceCounters.PERF_CTR1 -> c.performanceCounters.counter(
                    index - P6PerformanceCounters.PERF_CTR0, c.retired, c.cpl);
            case P6PerformanceCounters.PERF_EVT_SEL0, P6PerformanceCounters.PERF_EVT_SEL1 ->
                    c.performanceCounters.eventSelect(index - P6PerformanceCounters.PERF_EVT_SEL0);
            default -> {
                if (c.vmx.isVmxMsr(index)) {
                    yield c.vmx.readMsr(index);
                }
                try {
                    yield c.host.readPlatformMsr(index);
                } catch (CpuHost.UnknownMsrException unknown) {
                    throw c.gp(0);
                }
            }
        };
    }

    static void writeMsr(Cpu c, int index, long value) {
        switch (index) {
            case MSR_TSC -> c.tscOffset = value - c.nanos();
            case MSR_BIOS_SIGN_ID -> { } // software clears it before CPUID.01H (SDM Vol. 3A 9.11.7.1); CPUID rewrites it
            case MSR_SYSENTER_CS -> c.sysenterCs = (int) value;
            case MSR_SYSENTER_ESP -> c.sysenterEsp = (int) value;
            case MSR_SYSENTER_EIP -> c.sysenterEip = (int) value;
            case P6PerformanceCounters.PERF_CTR0, P6PerformanceCounters.PERF_CTR1 -> c.performanceCounters.writeCounter(
                    index - P6PerformanceCounters.PERF_CTR0, value, c.retired, c.cpl);
            case P6PerformanceCounters.PERF_EVT_SEL0, P6PerformanceCounters.PERF_EVT_SEL1 -> {
                if (value >>> 32 != 0) {
                    throw c.gp(0); // bits 63:32 are reserved
                }
                c.performanceCounters.writeEventSelect(index - P6PerformanceCounters.PERF_EVT_SEL0, value, c.retired,
                        c.cpl);
            }
            default -> {
                if (c.vmx.isVmxMsr(index)) {
                    c.vmx.writeMsr(index, value);
                    return;
                }
                try {
                    c.host.writePlatformMsr(index, value);
                } catch (CpuHost.UnknownMsrException unknown) {
                    throw c.gp(0);
                }
            }
        }
    }

    /**
     * RDPMC (SDM Vol. 2B): PerfCtr[ECX] into EDX:EAX, bits 39:32 in EDX[7:0]. #GP(0) when ECX names no counter (0 and
     * 1 on the P6 family), or when CR4.PCE is clear in protected mode outside CPL 0 (virtual-8086 mode runs at CPL 3).
     */
    static long readPerformanceCounter(Cpu c, int index) {
        boolean allowed = (c.cr4 & Cpu.CR4_PCE) != 0 || !c.protectedMode() || c.cpl == 0;
        if (!allowed || Integer.compareUnsigned(index, P6PerformanceCounters.COUNTERS) >= 0) {
            throw c.gp(0);
        }
        return c.performanceCounters.counter(index, c.retired, c.cpl);
    }

    /** The TSC counts at 1 GHz of virtual time (one tick per ns), so it is deterministic. */
    static long timeStampCounter(Cpu c) {
        return c.nanos() + c.tscOffset;
    }
}

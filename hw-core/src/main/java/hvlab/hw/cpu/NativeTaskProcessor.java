package hvlab.hw.cpu;

/**
 * The processor's own state as a {@link TaskSwitch.Processor}: the switches the CPU performs itself, and the one
 * in VMX non-root operation that becomes a VM exit (SDM Vol. 3C 25.4.2).
 */
final class NativeTaskProcessor implements TaskSwitch.Processor {
    private final Cpu c;

    NativeTaskProcessor(Cpu cpu) {
        this.c = cpu;
    }

    @Override
    public RuntimeException fault(int vector, int errorCode) {
        return c.fault(vector, errorCode);
    }

    @Override
    public int readSystem16(int linear) {
        return c.mmu.readSystem16(linear);
    }

    @Override
    public int readSystem32(int linear) {
        return c.mmu.readSystem32(linear);
    }

    @Override
    public void writeSystem16(int linear, int value) {
        c.mmu.writeSystem16(linear, value);
    }

    @Override
    public void writeSystem32(int linear, int value) {
        c.mmu.writeSystem32(linear, value);
    }

    /** An exception's error code goes on the new task's stack (SDM 6.12.2; Vol. 2A "INT n", TASK-GATE). */
    @Override
    public void pushErrorCode(int value, int width, int ext) {
        int sp = c.stackAdd(c.sp(), -width);
        long low = sp & 0xFFFFFFFFL;
        if (low < c.segLow[Cpu.SS] || low + width - 1 > c.segHigh[Cpu.SS]) {
            throw c.fault(Exceptions.SS, ext);
        }
        if (width == 4) {
            c.write32(Cpu.SS, sp, value);
        } else {
            c.write16(Cpu.SS, sp, value);
        }
        c.setSp(sp);
    }

    @Override
    public int register(int index) {
        return c.reg[index];
    }

    @Override
    public void setRegister(int index, int value) {
        c.reg[index] = value;
    }

    @Override
    public int eip() {
        return c.eip;
    }

    @Override
    public void setEip(int value) {
        c.eip = value;
    }

    @Override
    public int eflags() {
        return c.eflags();
    }

    @Override
    public void setEflags(int value) {
        c.flags = value;
        c.ccOp = Alu.CC_NONE;
        c.eventPending = true;
    }

    @Override
    public int cr0() {
        return c.cr0;
    }

    @Override
    public void setCr0(int value) {
        c.cr0 = value;
    }

    @Override
    public void loadCr3(int value) {
        SystemOps.writeCr3(c, value);
    }

    @Override
    public int dr7() {
        return c.dr[7];
    }

    @Override
    public void setDr7(int value) {
        c.dr[7] = value;
    }

    @Override
    public int cpl() {
        return c.cpl;
    }

    @Override
    public void setCpl(int cpl) {
        c.setCpl(cpl);
    }

    @Override
    public int gdtBase() {
        return c.gdtBase;
    }

    @Override
    public int gdtLimit() {
        return c.gdtLimit;
    }

    @Override
    public int ldtSelector() {
        return c.ldtSel;
    }

    @Override
    public int ldtBase() {
        return c.ldtBase;
    }

    @Override
    public int ldtLimit() {
        return c.ldtLimit;
    }

    @Override
    public void loadLdtr(int selector, int base, int limit, int attributes) {
        c.ldtSel = selector;
        c.ldtBase = base;
        c.ldtLimit = limit;
        c.ldtAttr = attributes;
    }

    @Override
    public int trSelector() {
        return c.trSel;
    }

    @Override
    public int trBase() {
        return c.trBase;
    }

    @Override
    public int trAttributes() {
        return c.trAttr;
    }

    @Override
    public void loadTr(int selector, int base, int limit, int attributes) {
        c.trSel = selector;
        c.trBase = base;
        c.trLimit = limit;
        c.trAttr = attributes;
    }

    @Override
    public int segmentSelector(int seg) {
        return c.segSel[seg];
    }

    @Override
    public int codeLimit() {
        return (int) c.segHigh[Cpu.CS];
    }

    @Override
    public void loadSegment(int seg, int selector, int base, int limit, int attributes) {
        c.loadSegmentParts(seg, selector, base, limit, attributes);
    }

    @Override
    public void loadV86Segment(int seg, int selector) {
        c.loadV86Segment(seg, selector);
    }

    @Override
    public void loadUnqualifiedSegment(int seg, int selector) {
        c.loadNullSegment(seg, selector);
    }

    /** In VMX non-root operation every task switch exits (SDM Vol. 3C 25.1.2, 25.4.2). */
    @Override
    public void checksPassed(int selector, TaskSwitch.Source source) {
        if (c.vmx.nonRoot) {
            c.vmx.exit.taskSwitch(selector, source);
        }
    }

    /** A fault from here on restarts at the new task's EIP and ESP. */
    @Override
    public void newTaskLoaded() {
        c.mmu.invalidateFetch();
        c.startEip = c.eip;
        c.startEsp = c.reg[Cpu.ESP];
    }
}

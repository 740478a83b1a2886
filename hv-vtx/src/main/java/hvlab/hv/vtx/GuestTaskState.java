package hvlab.hv.vtx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.Exceptions;
import hvlab.hw.cpu.TaskSwitch;
import hvlab.hw.cpu.vmx.VmcsField;
import hvlab.hw.memory.PhysicalMemory;

import static hvlab.hw.cpu.vmx.VmcsField.*;

/**
 * The guest after a VM exit, as a task switch sees it (SDM Vol. 3A 7.3): its segment, system-table and control
 * registers, RSP, RIP and RFLAGS in the guest-state area (SDM Vol. 3C 24.4), its other general registers still in
 * the processor (a VM exit leaves them, 27.5), and its linear memory reached through its own paging: the guest's
 * page tables, walked in software with its CR0, CR3 and CR4, then guest-physical to machine as the memory mode maps
 * it. Faults become {@link GuestFault}s; a #PF sets the guest's CR2 first, as the processor would.
 */
final class GuestTaskState implements TaskSwitch.Processor {
    private static final int UNUSABLE = 0x10000, DPL = 0x60, DEFAULT_BIG = 0x4000, EXPAND_DOWN = 4, CODE = 8;

    private final Cpu cpu;
    private final PhysicalMemory memory;
    private final CurrentVmcs vmcs;
    private final MemoryVirtualization memoryMode;
    private final GuestRam ram;
    private final GuestPageWalk walk;
    private int eip, cpl;

    GuestTaskState(Cpu cpu, PhysicalMemory memory, CurrentVmcs vmcs, MemoryVirtualization memoryMode,
                   GuestRam ram) {
        this.cpu = cpu;
        this.memory = memory;
        this.vmcs = vmcs;
        this.memoryMode = memoryMode;
        this.ram = ram;
        this.walk = new GuestPageWalk(memory, cpu, ram);
    }

    /** Takes the guest state as the exit left it; the old task resumes at {@code resumeEip}. */
    void begin(int resumeEip) {
        eip = resumeEip;
        boolean v86 = (vmcs.read(GUEST_RFLAGS) & Cpu.VM) != 0;
        cpl = v86 ? 3 : (vmcs.read(GUEST_SS_ACCESS_RIGHTS) & DPL) >>> 5; // SS.DPL is the CPL (24.4.1)
    }

    @Override
    public RuntimeException fault(int vector, int errorCode) {
        throw new GuestFault(vector, errorCode);
    }

    // ---- linear memory through the guest's paging ----

    @Override
    public int readSystem16(int linear) {
        return read(linear, 2);
    }

    @Override
    public int readSystem32(int linear) {
        return read(linear, 4);
    }

    @Override
    public void writeSystem16(int linear, int value) {
        write(linear, 2, value, false);
    }

    @Override
    public void writeSystem32(int linear, int value) {
        write(linear, 4, value, false);
    }

    private int read(int linear, int width) {
        if ((linear & 0xFFF) + width > 0x1000) {
            int value = 0;
            for (int k = 0; k < width; k++) {
                value |= memory.readU8(physical(linear + k, false, false)) << 8 * k;
            }
            return value;
        }
        int physical = physical(linear, false, false);
        return width == 2 ? memory.readU16(physical) : memory.readU32(physical);
    }

    /** Both pages of a store that crosses a page are translated before a byte is written, as the processor does. */
    private void write(int linear, int width, int value, boolean user) {
        int first = physical(linear, true, user);
        if ((linear & 0xFFF) + width > 0x1000) {
            int second = physical(linear + width - 1 & ~0xFFF, true, user);
            for (int k = 0; k < width; k++) {
                int at = linear + k;
                cpu.writePhysical(((at ^ linear) & ~0xFFF) == 0 ? first + k : second + (at & 0xFFF), 1, value >>> 8 * k);
            }
            return;
        }
        cpu.writePhysical(first, width, value);
    }

    private int physical(int linear, boolean write, boolean user) {
        int cr0 = cr0();
        long t = walk.translate(linear, write, user, cr0, memoryMode.guestCr3(vmcs.read(GUEST_CR3)),
                memoryMode.guestCr4(vmcs.read(GUEST_CR4)));
        if (t < 0) {
            cpu.writeControlRegister(2, linear);
            throw new GuestFault(Exceptions.PF, (int) (-1 - t));
        }
        return ram.machineAddress((int) t & ~0xFFF) | linear & 0xFFF;
    }

    /** The error code goes on the stack SS:ESP names, within SS's limits, at the new task's privilege (SDM 6.12.1). */
    @Override
    public void pushErrorCode(int value, int width, int ext) {
        int rights = vmcs.read(GUEST_SS_ACCESS_RIGHTS);
        boolean big = (rights & DEFAULT_BIG) != 0;
        int esp = vmcs.read(GUEST_RSP);
        int sp = big ? esp - width : esp - width & 0xFFFF;
        long low = sp & 0xFFFFFFFFL, limit = vmcs.read(GUEST_SS_LIMIT) & 0xFFFFFFFFL;
        boolean expandDown = (rights & (CODE | EXPAND_DOWN)) == EXPAND_DOWN;
        boolean fits = (rights & UNUSABLE) == 0 && (expandDown
                ? low > limit && low + width - 1 <= (big ? 0xFFFFFFFFL : 0xFFFF)
                : low + width - 1 <= limit);
        if (!fits) {
            throw new GuestFault(Exceptions.SS, ext);
        }
        write(vmcs.read(GUEST_SS_BASE) + sp, width, value, cpl == 3);
        vmcs.write(GUEST_RSP, (big ? sp : esp & 0xFFFF0000 | sp) & 0xFFFFFFFFL);
    }

    // ---- registers ----

    @Override
    public int register(int index) {
        return index == Cpu.ESP ? vmcs.read(GUEST_RSP) : cpu.register(index);
    }

    @Override
    public void setRegister(int index, int value) {
        if (index == Cpu.ESP) {
            vmcs.write(GUEST_RSP, value & 0xFFFFFFFFL);
        } else {
            cpu.setRegister(index, value);
        }
    }

    @Override
    public int eip() {
        return eip;
    }

    @Override
    public void setEip(int value) {
        eip = value;
        vmcs.write(GUEST_RIP, value & 0xFFFFFFFFL);
    }

    @Override
    public int eflags() {
        return vmcs.read(GUEST_RFLAGS);
    }

    @Override
    public void setEflags(int value) {
        vmcs.write(GUEST_RFLAGS, value & 0xFFFFFFFFL);
    }

    /** CR0 as the guest believes it; CR0.TS is the guest's own in both memory modes. */
    @Override
    public int cr0() {
        return memoryMode.guestCr0(vmcs.read(GUEST_CR0));
    }

    @Override
    public void setCr0(int value) {
        memoryMode.writeControlRegister(0, value);
    }

    @Override
    public void loadCr3(int value) {
        memoryMode.writeControlRegister(3, value);
    }

    @Override
    public int dr7() {
        return vmcs.read(GUEST_DR7);
    }

    @Override
    public void setDr7(int value) {
        vmcs.write(GUEST_DR7, value & 0xFFFFFFFFL);
    }

    /** The CPL is SS.DPL in the guest-state area (24.4.1): a new CPL goes into SS's access rights. */
    @Override
    public int cpl() {
        return cpl;
    }

    @Override
    public void setCpl(int cpl) {
        this.cpl = cpl;
        int rights = vmcs.read(GUEST_SS_ACCESS_RIGHTS);
        vmcs.write(GUEST_SS_ACCESS_RIGHTS, rights & ~DPL | cpl << 5);
    }

    // ---- descriptor tables and segments ----

    @Override
    public int gdtBase() {
        return vmcs.read(GUEST_GDTR_BASE);
    }

    @Override
    public int gdtLimit() {
        return vmcs.read(GUEST_GDTR_LIMIT);
    }

    @Override
    public int ldtSelector() {
        return vmcs.read(GUEST_LDTR_SELECTOR);
    }

    @Override
    public int ldtBase() {
        return vmcs.read(GUEST_LDTR_BASE);
    }

    @Override
    public int ldtLimit() {
        return vmcs.read(GUEST_LDTR_LIMIT);
    }

    @Override
    public void loadLdtr(int selector, int base, int limit, int attributes) {
        segment(6, selector, base, limit, attributes == 0 ? UNUSABLE : attributes);
    }

    @Override
    public int trSelector() {
        return vmcs.read(GUEST_TR_SELECTOR);
    }

    @Override
    public int trBase() {
        return vmcs.read(GUEST_TR_BASE);
    }

    @Override
    public int trAttributes() {
        return vmcs.read(GUEST_TR_ACCESS_RIGHTS);
    }

    @Override
    public void loadTr(int selector, int base, int limit, int attributes) {
        segment(7, selector, base, limit, attributes);
    }

    @Override
    public int segmentSelector(int seg) {
        return vmcs.read(VmcsField.guestSelector(seg));
    }

    @Override
    public int codeLimit() {
        return vmcs.read(GUEST_CS_LIMIT);
    }

    @Override
    public void loadSegment(int seg, int selector, int base, int limit, int attributes) {
        segment(seg, selector, base, limit, attributes);
    }

    @Override
    public void loadV86Segment(int seg, int selector) {
        segment(seg, selector, selector << 4, 0xFFFF, 0xF3); // the only V86 segments VM entry takes (26.3.1.2)
    }

    /**
     * A selector of the new task not qualified yet: a data or stack segment is unusable (SS keeping the DPL that is
     * the CPL, 24.4.1); CS, which the guest-state area cannot hold unusable, keeps its old descriptor until
     * qualified, so that a fault injected before then finds a guest state VM entry accepts.
     */
    @Override
    public void loadUnqualifiedSegment(int seg, int selector) {
        if (seg == Cpu.CS) {
            vmcs.write(GUEST_CS_SELECTOR, selector & 0xFFFF);
            return;
        }
        segment(seg, selector, 0, 0, UNUSABLE | (seg == Cpu.SS ? cpl << 5 : 0));
    }

    /** A register in the guest-state area's order ES..GS, LDTR, TR (24.4.1). */
    private void segment(int register, int selector, int base, int limit, int rights) {
        vmcs.write(VmcsField.guestSelector(register), selector & 0xFFFF);
        vmcs.write(VmcsField.guestBase(register), base & 0xFFFFFFFFL);
        vmcs.write(VmcsField.guestLimit(register), limit & 0xFFFFFFFFL);
        vmcs.write(VmcsField.guestAccessRights(register), rights);
    }
}

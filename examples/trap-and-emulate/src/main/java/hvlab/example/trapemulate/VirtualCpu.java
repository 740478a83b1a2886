package hvlab.example.trapemulate;

import hvlab.hw.cpu.CpuState;

/**
 * The processor state the guest kernel believes it has and the real CPU does not hold for it: control registers,
 * descriptor-table registers, the task register, IF and IOPL. The monitor keeps them and emulates the instructions
 * that read or write them when they trap.
 */
final class VirtualCpu {
    int cr0;
    int cr2;
    int cr3;
    int cr4;
    int gdtBase;
    int gdtLimit;
    int idtBase;
    int idtLimit;
    /** GDTR holds what the loader left until the guest's first LGDT; the monitor uses flat boot segments. */
    boolean gdtLoaded;
    CpuState.SegmentRegister ldt;
    int trSelector;
    int trBase;
    int trLimit;
    int trAttributes;
    /** EFLAGS.IF as the guest set it; the real IF stays 1 while the guest runs, so the monitor keeps control. */
    boolean interruptsEnabled;
    int iopl;
    final int[] debugRegisters = new int[8];

    static final int CR0_PE = 1, CR0_TS = 8, CR0_WP = 1 << 16, CR0_PG = 1 << 31;
    static final int CR4_PSE = 1 << 4;

    /** Starts as the CPU the loader left: the guest's registers are the real ones until it changes them. */
    void takeOver(CpuState.SystemRegisters real) {
        cr0 = real.cr0();
        cr2 = real.cr2();
        cr3 = real.cr3();
        cr4 = real.cr4();
        gdtBase = real.gdt().base();
        gdtLimit = real.gdt().limit();
        idtBase = real.idt().base();
        idtLimit = real.idt().limit();
        ldt = real.ldt();
        trSelector = real.tr().selector();
        trBase = real.tr().base();
        trLimit = real.tr().limit();
        trAttributes = real.tr().attributes();
    }

    boolean paging() {
        return (cr0 & CR0_PG) != 0;
    }

    boolean writeProtect() {
        return (cr0 & CR0_WP) != 0;
    }

    boolean largePages() {
        return (cr4 & CR4_PSE) != 0;
    }
}

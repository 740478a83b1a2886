package hvlab.example.trapemulate;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.memory.PhysicalMemory;

/**
 * What the CPU pushed on the monitor's stack when the guest trapped (SDM Vol. 3A 6.12.1): the error code if the
 * vector has one, EIP, CS, EFLAGS and, since the monitor is always more privileged, the guest's ESP and SS (and
 * ES, DS, FS, GS from virtual-8086 mode). The monitor edits it and leaves by IRET.
 */
final class TrapFrame {
    static final int NO_ERROR = -1;
    private static final int VM = 1 << 17;

    private final PhysicalMemory memory;
    private final MonitorLayout layout;
    int vector;
    int errorCode;
    int eip, cs, eflags, esp, ss;
    private int base;

    TrapFrame(PhysicalMemory memory, MonitorLayout layout) {
        this.memory = memory;
        this.layout = layout;
    }

    void read(Cpu cpu, int vector) {
        this.vector = vector;
        int top = cpu.register(Cpu.ESP);
        boolean hasError = vector == 8 || vector >= 10 && vector <= 14 || vector == 17;
        errorCode = hasError ? load(top) : NO_ERROR;
        base = hasError ? top + 4 : top;
        eip = load(base);
        cs = load(base + 4) & 0xFFFF;
        eflags = load(base + 8);
        boolean outer = (cs & 3) != 0 || (eflags & VM) != 0;
        esp = outer ? load(base + 12) : 0;
        ss = outer ? load(base + 16) & 0xFFFF : 0;
    }

    /** Whether the monitor itself trapped (a monitor bug: it runs no code of its own at a trap's address). */
    boolean fromMonitor() {
        return (cs & 3) == 0 && (eflags & VM) == 0;
    }

    boolean fromUser() {
        return (cs & 3) == 3 || (eflags & VM) != 0;
    }

    boolean fromVirtual8086() {
        return (eflags & VM) != 0;
    }

    /** Writes the (edited) frame back and returns to the guest through it. */
    void resume(Cpu cpu) {
        store(base, eip);
        store(base + 4, cs);
        store(base + 8, eflags);
        store(base + 12, esp);
        store(base + 16, ss);
        cpu.setRegister(Cpu.ESP, base);
        cpu.returnFromInterrupt();
    }

    private int load(int linear) {
        return memory.readU32(layout.physical(linear - MonitorLayout.LINEAR_BASE));
    }

    private void store(int linear, int value) {
        memory.writeU32(layout.physical(linear - MonitorLayout.LINEAR_BASE), value);
    }
}

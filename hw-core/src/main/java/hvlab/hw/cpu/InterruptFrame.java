package hvlab.hw.cpu;

/**
 * What ring-0 host software finds on its stack when the CPU delivered an event to it through an IDT gate (SDM Vol.
 * 3A 6.12.1, Figure 6-4): the error code for the vectors that push one, EIP, CS, EFLAGS, and the interrupted ESP and
 * SS when it came from an outer ring. A hypervisor reads it at its entry, edits it, and returns through it by IRET,
 * as Xen's and VMware's entry code do.
 */
public final class InterruptFrame {
    private static final int VM = 1 << 17;

    private final Cpu cpu;
    private int base;
    public int vector;
    /** The error code, or -1 for a vector without one. */
    public int errorCode;
    public int eip, cs, eflags, esp, ss;

    public InterruptFrame(Cpu cpu) {
        this.cpu = cpu;
    }

    /** Exceptions that push an error code (SDM Vol. 3A Table 6-1): #DF, #TS, #NP, #SS, #GP, #PF, #AC. */
    public static boolean hasErrorCode(int vector) {
        return vector == 8 || vector >= 10 && vector <= 14 || vector == 17;
    }

    /** Reads the frame at the current ESP for an event on {@code vector}. */
    public void read(int vector) {
        this.vector = vector;
        int top = cpu.register(Cpu.ESP);
        boolean hasError = hasErrorCode(vector);
        errorCode = hasError ? cpu.readSupervisor32(top) : -1;
        base = hasError ? top + 4 : top;
        eip = cpu.readSupervisor32(base);
        cs = cpu.readSupervisor32(base + 4) & 0xFFFF;
        eflags = cpu.readSupervisor32(base + 8);
        boolean outer = (cs & 3) != 0 || (eflags & VM) != 0;
        esp = outer ? cpu.readSupervisor32(base + 12) : 0;
        ss = outer ? cpu.readSupervisor32(base + 16) & 0xFFFF : 0;
    }

    /** Whether the event interrupted ring-0 code: the host software itself. */
    public boolean fromRingZero() {
        return (cs & 3) == 0 && (eflags & VM) == 0;
    }

    public boolean fromRingThree() {
        return (cs & 3) == 3 || fromVirtual8086();
    }

    public boolean fromVirtual8086() {
        return (eflags & VM) != 0;
    }

    /** Writes the (edited) frame back and returns through it: IRET to an outer ring. */
    public void resume() {
        cpu.writeSupervisor32(base, eip);
        cpu.writeSupervisor32(base + 4, cs);
        cpu.writeSupervisor32(base + 8, eflags);
        cpu.writeSupervisor32(base + 12, esp);
        cpu.writeSupervisor32(base + 16, ss);
        cpu.setRegister(Cpu.ESP, base);
        cpu.returnFromInterrupt();
    }

    /** Starts outer-ring code at the given state: a frame at {@code stackTop} and IRET, as a kernel starts a task. */
    public void enter(int stackTop, int startEip, int startCs, int startFlags, int startEsp, int startSs) {
        base = stackTop - 20;
        eip = startEip;
        cs = startCs;
        eflags = startFlags;
        esp = startEsp;
        ss = startSs;
        resume();
    }
}

package hvlab.hw.cpu;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.memory.PhysicalMemory;

import java.util.HexFormat;

/**
 * A bare CPU with 4 MiB of RAM for instruction-level tests: a flat protected-mode GDT (ring 0 and ring 3 code and
 * data, a TSS), an IDT whose every vector points at a one-byte HLT stub, and code loaded at {@link #CODE}.
 */
final class CpuBench {
    static final int GDT = 0x1000, IDT = 0x2000, STUBS = 0x3000, TSS = 0x4000, CODE = 0x10000, STACK_TOP = 0x80000,
            RING0_STACK_TOP = 0x90000;
    static final int CODE0 = 0x08, DATA0 = 0x10, CODE3 = 0x1B, DATA3 = 0x23, TSS_SEL = 0x28;
    static final int RING3_CODE = 0x10100, RING3_STACK = 0x70000;
    /** push 0x23; push 0x70000; push 0x2; push 0x1b; push 0x10100; iret: enter ring 3 at RING3_CODE. */
    static final String ENTER_RING3 = "68 23 00 00 00  68 00 00 07 00  68 02 00 00 00  68 1b 00 00 00"
            + "  68 00 01 01 00  cf";

    final PhysicalMemory memory = new PhysicalMemory(4 << 20, new MmioBus());
    final PortBus ports = new PortBus();
    final Cpu cpu = new Cpu(memory, ports, new VirtualClock());
    String shutdownReason;

    CpuBench() {
        cpu.connect(cpu.interrupts, reason -> shutdownReason = reason);
    }

    /** Protected mode, flat segments, IDT of HLT stubs, TSS with a ring-0 stack; paging off. */
    CpuBench flatProtectedMode() {
        descriptor(GDT, 0, 0);
        descriptor(GDT + 0x08, 0x00CF9A00, 0x0000FFFF);
        descriptor(GDT + 0x10, 0x00CF9200, 0x0000FFFF);
        descriptor(GDT + 0x18, 0x00CFFA00, 0x0000FFFF);
        descriptor(GDT + 0x20, 0x00CFF200, 0x0000FFFF);
        descriptor(GDT + 0x28, 0x00008900 | (TSS >>> 16 & 0xFF), (TSS & 0xFFFF) << 16 | 0x67);
        for (int v = 0; v < 256; v++) {
            int handler = STUBS + v * 16;
            memory.writeU8(handler, 0xF4); // hlt
            interruptGate(v, handler, 0);
        }
        memory.writeU32(TSS + 4, RING0_STACK_TOP);
        memory.writeU32(TSS + 8, DATA0);
        memory.writeU16(TSS + 0x66, 0x68); // I/O bitmap base: right after the TSS
        cpu.enterFlatProtectedMode(CODE, 0, 0);
        cpu.gdtBase = GDT;
        cpu.gdtLimit = 0x2F;
        cpu.idtBase = IDT;
        cpu.idtLimit = 256 * 8 - 1;
        cpu.reg[Cpu.ESP] = STACK_TOP;
        SystemOps.ltr(cpu, TSS_SEL);
        return this;
    }

    void descriptor(int address, int hi, int lo) {
        memory.writeU32(address, lo);
        memory.writeU32(address + 4, hi);
    }

    /**
     * A second task: a 32-bit TSS at {@code address} for flat ring-0 code at {@code eip} with stack {@code esp}, its
     * descriptor (available, DPL 0) at GDT offset {@code selector}, which the GDT limit grows to cover.
     */
    void task(int selector, int address, int eip, int esp) {
        descriptor(GDT + selector, 0x00008900 | (address >>> 16 & 0xFF) | (address & 0xFF000000),
                (address & 0xFFFF) << 16 | TaskSwitch.MIN_LIMIT32);
        cpu.gdtLimit = Math.max(cpu.gdtLimit, selector + 7);
        memory.writeU32(address + 4, RING0_STACK_TOP);
        memory.writeU32(address + 8, DATA0);
        memory.writeU32(address + TaskSwitch.EIP32, eip);
        memory.writeU32(address + TaskSwitch.EFLAGS32, 2);
        memory.writeU32(address + TaskSwitch.REGS32 + Cpu.ESP * 4, esp);
        for (int s = 0; s < 6; s++) {
            memory.writeU32(address + TaskSwitch.SELECTORS32 + s * 4, s == Cpu.CS ? CODE0 : DATA0);
        }
        memory.writeU16(address + 0x66, 0x68);
    }

    /** A task gate (type 5) for a TSS selector: in the GDT or LDT at {@code address}, or in the IDT. */
    void taskGate(int address, int tssSelector, int dpl) {
        descriptor(address, 0x8500 | dpl << 13, tssSelector << 16);
    }

    /** The type field (SDM Table 3-2) of the GDT descriptor a selector names, as it is in memory. */
    int descriptorType(int selector) {
        return memory.readU32(GDT + (selector & 0xFFF8) + 4) >>> 8 & 0xF;
    }

    /** A 32-bit interrupt gate (type 14) to CODE0:handler with the given DPL. */
    void interruptGate(int vector, int handler, int dpl) {
        descriptor(IDT + vector * 8, (handler & 0xFFFF0000) | 0x8E00 | dpl << 13, CODE0 << 16 | (handler & 0xFFFF));
    }

    CpuBench code(String hex) {
        return codeAt(CODE, hex);
    }

    CpuBench codeAt(int address, String hex) {
        byte[] bytes = HexFormat.of().parseHex(hex.replaceAll("[^0-9a-fA-F]", ""));
        memory.load(address, bytes, 0, bytes.length);
        return this;
    }

    /** Runs until HLT (or the budget ends) and returns the CPU. */
    Cpu run() {
        cpu.run(100_000);
        return cpu;
    }

    int stub(int vector) {
        return STUBS + vector * 16;
    }

    /** EIP after the HLT stub of a vector executed. */
    int afterStub(int vector) {
        return stub(vector) + 1;
    }

    int stackDword(int index) {
        return memory.readU32(cpu.reg[Cpu.ESP] + index * 4);
    }

    int reg(int n) {
        return cpu.reg[n];
    }
}

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

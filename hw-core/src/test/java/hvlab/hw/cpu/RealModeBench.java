package hvlab.hw.cpu;

/**
 * A bare CPU in real mode for instruction-level tests, the real-mode variant of {@link CpuBench}: code at
 * {@code CODE_SEGMENT:0}, SS:SP = {@code 7000:FFF0}, DS = ES = 0, and an IVT whose every vector points at a
 * one-byte HLT stub (vector v at segment {@code STUB_SEGMENT + v}, offset 0).
 */
final class RealModeBench {
    static final int CODE_SEGMENT = 0x1000, STACK_SEGMENT = 0x7000, STACK_POINTER = 0xFFF0, STUB_SEGMENT = 0x300;

    final CpuBench bench = new CpuBench();
    final Cpu cpu = bench.cpu;

    RealModeBench() {
        for (int v = 0; v < 256; v++) {
            bench.memory.writeU8((STUB_SEGMENT + v) << 4, 0xF4); // hlt
            bench.memory.writeU16(v * 4, 0);
            bench.memory.writeU16(v * 4 + 2, STUB_SEGMENT + v);
        }
        cpu.loadRealModeSegment(Cpu.CS, CODE_SEGMENT);
        cpu.eip = 0;
        cpu.loadRealModeSegment(Cpu.SS, STACK_SEGMENT);
        cpu.reg[Cpu.ESP] = STACK_POINTER;
        cpu.loadRealModeSegment(Cpu.DS, 0);
        cpu.loadRealModeSegment(Cpu.ES, 0);
        cpu.idtBase = 0;
        cpu.idtLimit = 0x3FF;
    }

    /** Code at CODE_SEGMENT:0; a trailing {@code f4} ends the run. */
    RealModeBench code(String hex) {
        bench.codeAt(CODE_SEGMENT << 4, hex);
        return this;
    }

    Cpu run() {
        cpu.run(1_000);
        return cpu;
    }

    /** True when the run ended in the HLT stub of {@code vector}. */
    boolean endedInStub(int vector) {
        return cpu.segmentSelector(Cpu.CS) == STUB_SEGMENT + vector && cpu.eip() == 1;
    }
}

package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real-mode instruction results that the SingleStepTests 80286 vectors found wrong, each checked against the SDM
 * Vol. 2 "Operation" of its instruction.
 */
class RealModeInstructionTest {
    @Test
    void dasTakesCarryFromTheBorrowOfTheLowDigitAdjust_sdmDas() {
        // mov ah,0x10; sahf (AF=1, CF=0); mov al,0x03; das: AL - 6 borrows, so CF <- old CF or borrow = 1
        Cpu cpu = new RealModeBench().code("b4 10  9e  b0 03  2f  f4").run();
        assertThat(cpu.register(Cpu.EAX) & 0xFF).isEqualTo(0xFD);
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.AF)).isEqualTo(Cpu.CF | Cpu.AF);
    }

    @Test
    void dasWithoutBorrowLeavesCarryClear_sdmDas() {
        Cpu cpu = new RealModeBench().code("b4 10  9e  b0 18  2f  f4").run(); // AF=1; al=0x18; das -> 0x12, CF=0
        assertThat(cpu.register(Cpu.EAX) & 0xFF).isEqualTo(0x12);
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.AF)).isEqualTo(Cpu.AF);
    }

    @Test
    void aasSubtractsSixFromAxSoTheBorrowReachesAh_sdmAas() {
        // mov ah,0x10; sahf (AF=1); mov ax,0x0205; aas: AX <- AX - 6 = 0x01FF, AH <- AH - 1, AL <- AL & 0x0F
        Cpu cpu = new RealModeBench().code("b4 10  9e  b8 05 02  3f  f4").run();
        assertThat(cpu.register(Cpu.EAX) & 0xFFFF).isEqualTo(0x000F);
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.AF)).isEqualTo(Cpu.CF | Cpu.AF);
    }

    @Test
    void aasWithoutBorrowFromAlDecrementsAhOnce_sdmAas() {
        Cpu cpu = new RealModeBench().code("b4 10  9e  b8 0b 02  3f  f4").run(); // AF=1; ax=0x020B; aas -> 0x0105
        assertThat(cpu.register(Cpu.EAX) & 0xFFFF).isEqualTo(0x0105);
    }

    @Test
    void theFninitFnstswPresenceProbeReadsZero_sdmVol3A_9_2() {
        // fninit; fnstsw [0x0100] (DS = 0): an x87 is present, so the status word after FNINIT (0) is stored
        RealModeBench bench = new RealModeBench().code("db e3  dd 3e 00 01  f4");
        bench.bench.memory.writeU16(0x0100, 0x5A5A);
        Cpu cpu = bench.run();
        assertThat(cpu.isHalted()).isTrue();
        assertThat(cpu.segmentSelector(Cpu.CS)).isEqualTo(RealModeBench.CODE_SEGMENT);
        assertThat(cpu.eip()).isEqualTo(7);
        assertThat(bench.bench.memory.readU16(0x0100)).isZero();
    }

    @Test
    void escapeMemoryOperandBeyondTheSegmentLimitRaisesGp_sdmFsubRealAddressModeExceptions() {
        // mov di,0xffff; fsub dword [di]: the m32 operand ends past offset 0xFFFF -> #GP (int 13)
        RealModeBench bench = new RealModeBench().code("bf ff ff  d8 25  f4");
        bench.run();
        assertThat(bench.endedInStub(Exceptions.GP)).isTrue();
        assertThat(bench.bench.memory.readU16((RealModeBench.STACK_SEGMENT << 4) + RealModeBench.STACK_POINTER - 6))
                .as("pushed IP: the faulting instruction").isEqualTo(3);
    }

    @Test
    void escapeWithCr0EmSetRaisesNm_sdmTable2_2() {
        RealModeBench bench = new RealModeBench().code("d8 c1  f4"); // fadd st0,st1
        bench.cpu.cr0 |= Cpu.CR0_EM;
        bench.run();
        assertThat(bench.endedInStub(Exceptions.NM)).isTrue();
    }
}

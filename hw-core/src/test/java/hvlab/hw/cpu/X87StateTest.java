package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static hvlab.hw.cpu.X87Bench.A;
import static hvlab.hw.cpu.X87Bench.B;
import static hvlab.hw.cpu.X87Bench.ENV;
import static hvlab.hw.cpu.X87Bench.IMAGE;
import static hvlab.hw.cpu.X87Bench.SW;
import static hvlab.hw.cpu.X87Bench.mem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * FPU state: RESET and FNINIT (SDM Vol. 3A, 9.2, Table 9-1; Vol. 2A "FINIT"), the environment and state images
 * (Vol. 1, 8.1.10, Figures 8-9 to 8-12), FXSAVE/FXRSTOR (Vol. 2A, Table 3-43), the CPU state exchange and CPUID.
 */
class X87StateTest {
    @Test
    void resetLeavesControl0040StatusZeroAndEveryRegisterTaggedZero_sdmVol3A_table9_1() {
        X87Bench x = new X87Bench().code("0f ae 05 00 04 02 00  f4"); // fxsave [IMAGE] without FNINIT first
        x.run();
        assertThat(x.bench.memory.readU16(IMAGE)).isEqualTo(0x0040);
        assertThat(x.bench.memory.readU16(IMAGE + 2)).isZero();
        assertThat(x.bench.memory.readU8(IMAGE + 4)).as("abridged tags: all non-empty").isEqualTo(0xFF);
        assertThat(x.cpu.x87.tagWord()).isEqualTo(0x5555);
        assertThat(x.cpu.captureState().fpu()).isEqualTo(CpuState.FpuState.RESET);
    }

    @Test
    void fninitSetsControl037fAndEmptiesEveryTag_sdmFinit() {
        // fld1; fninit; fnstenv [ENV] (32-bit protected format)
        X87Bench x = new X87Bench().code("d9 e8  db e3  d9 " + mem(6, ENV) + "f4");
        x.run();
        assertThat(x.bench.memory.readU16(ENV)).isEqualTo(0x037F);
        assertThat(x.bench.memory.readU16(ENV + 4)).isZero();
        assertThat(x.bench.memory.readU16(ENV + 8)).isEqualTo(0xFFFF);
        assertThat(x.bench.memory.readU32(ENV + 12)).as("FIP cleared").isZero();
    }

    @Test
    void fstenvProtectedMode32BitFormatHoldsTheLastInstructionAndOperand_sdmVol1_figure8_9() {
        // fninit; fld dword [A] (D9 /0, the last non-control instruction); fnstenv [ENV]
        X87Bench x = new X87Bench().code("db e3  d9 " + mem(0, A) + "d9 " + mem(6, ENV) + "f4");
        x.bench.memory.writeU32(A, Float.floatToIntBits(2.5f));
        x.run();
        assertThat(x.bench.memory.readU16(ENV + 4) >>> 11 & 7).as("TOP").isEqualTo(7);
        assertThat(x.bench.memory.readU16(ENV + 8)).as("R7 valid, the rest empty").isEqualTo(0x3FFF);
        assertThat(x.bench.memory.readU32(ENV + 12)).as("FIP").isEqualTo(CpuBench.CODE + 2);
        assertThat(x.bench.memory.readU16(ENV + 16)).as("FCS").isEqualTo(CpuBench.CODE0);
        assertThat(x.bench.memory.readU16(ENV + 18)).as("FOP: D9 low bits and ModRM").isEqualTo(0x105);
        assertThat(x.bench.memory.readU32(ENV + 20)).as("FDP").isEqualTo(A);
        assertThat(x.bench.memory.readU16(ENV + 24)).as("FDS").isEqualTo(CpuBench.DATA0);
        assertThat(x.cpu.x87.control & 0x3F).as("FSTENV masks every exception").isEqualTo(0x3F);
    }

    @Test
    void fstenvRealMode16BitFormatStoresLinearPointersAndTheOpcode_sdmVol1_figure8_12() {
        RealModeBench bench = new RealModeBench();
        // fninit; fld1 at 1000:0002; fnstenv [0x0300] (16-bit operand size in real mode)
        bench.code("db e3  d9 e8  d9 36 00 03  f4");
        bench.run();
        int env = 0x0300;
        int ip = (RealModeBench.CODE_SEGMENT << 4) + 2;
        assertThat(bench.bench.memory.readU16(env)).isEqualTo(0x037F);
        assertThat(bench.bench.memory.readU16(env + 6)).isEqualTo(ip & 0xFFFF);
        assertThat(bench.bench.memory.readU16(env + 8)).isEqualTo((ip >>> 16) << 12 | 0x1E8);
    }

    @Test
    void fsaveAndFrstorRoundTripTheWholeState_sdmFsave_sdmFrstor() {
        // fld tword [A]; fld tword [B]; fld1; fnsave [IMAGE]; fld1 (changes things); frstor [IMAGE]; fnsave [ENV]
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "db " + mem(5, B) + "d9 e8  dd "
                + mem(6, IMAGE) + "d9 e8  d9 e8  dd " + mem(4, IMAGE) + "dd " + mem(6, ENV) + "f4");
        x.control(X87Bench.RC_UP, 2, 0x3F);
        x.extended(A, new BigDecimal("-1.25"));
        x.extended(B, 0x7FFF, 0xC000_0000_0000_1234L);
        x.run();
        for (int offset = 0; offset < 108; offset++) {
            assertThat(x.bench.memory.readU8(ENV + offset)).as("byte " + offset)
                    .isEqualTo(x.bench.memory.readU8(IMAGE + offset));
        }
        assertThat(x.bench.memory.readU16(IMAGE) & 0xFFF).isEqualTo(0x0A7F); // RC up, PC 53 bits
        assertThat(x.bench.memory.readU16(IMAGE + 8)).as("R0-R4 empty, R5 valid, R6 special, R7 valid").isEqualTo(0x23FF);
        assertThat(x.signExponent(IMAGE + 28)).isEqualTo(0x3FFF); // ST(0) = 1.0 first
        assertThat(x.signExponent(IMAGE + 38)).isEqualTo(0x7FFF);
        assertThat(X87Bench.value(x.signExponent(IMAGE + 48), x.significand(IMAGE + 48))).isEqualByComparingTo("-1.25");
        assertThat(x.cpu.x87.control).as("FNSAVE ends with FNINIT").isEqualTo(0x037F);
    }

    @Test
    void fxsaveWritesTheLegacyLayout_sdmFxsave_table3_43() {
        // fld1; fldz; fxsave [IMAGE]
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8  d9 ee  0f ae " + mem(0, IMAGE) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.cpu.cr4 |= Cpu.CR4_OSFXSR;
        x.run();
        var m = x.bench.memory;
        assertThat(m.readU16(IMAGE)).as("FCW").isEqualTo(0x037F);
        assertThat(m.readU16(IMAGE + 2) >>> 11 & 7).as("FSW.TOP").isEqualTo(6);
        assertThat(m.readU8(IMAGE + 4)).as("abridged FTW: R6 and R7").isEqualTo(0xC0);
        assertThat(m.readU16(IMAGE + 6)).as("FOP of FLDZ").isEqualTo(0x1EE);
        assertThat(m.readU32(IMAGE + 8)).as("FIP").isEqualTo(CpuBench.CODE + 10);
        assertThat(m.readU16(IMAGE + 12)).as("FCS").isEqualTo(CpuBench.CODE0);
        assertThat(m.readU32(IMAGE + 24)).as("MXCSR").isEqualTo(0x1F80);
        assertThat(m.readU32(IMAGE + 28)).as("MXCSR_MASK").isEqualTo(0xFFBF);
        assertThat(x.significand(IMAGE + 32)).as("ST0 = +0").isZero();
        assertThat(x.signExponent(IMAGE + 48)).as("ST1 = 1.0").isEqualTo(0x3FFF);
        assertThat(x.significand(IMAGE + 48)).isEqualTo(1L << 63);
        assertThat(x.cpu.x87.top).as("FXSAVE does not reinitialize").isEqualTo(6);
    }

    @Test
    void fxrstorRestoresWhatFxsaveSaved_sdmFxrstor() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 e8  0f ae " + mem(0, IMAGE)
                + "db e3  0f ae " + mem(1, IMAGE) + "0f ae " + mem(0, ENV) + "f4");
        x.control(X87Bench.RC_DOWN, 0, 0x3F);
        x.extended(A, new BigDecimal("3.75"));
        x.run();
        for (int offset = 0; offset < 160; offset++) {
            assertThat(x.bench.memory.readU8(ENV + offset)).as("byte " + offset)
                    .isEqualTo(x.bench.memory.readU8(IMAGE + offset));
        }
    }

    @Test
    void fxsaveToAMisalignedOperandRaisesGp_sdmFxsave() {
        X87Bench x = new X87Bench().code("0f ae " + mem(0, IMAGE + 8) + "f4");
        x.run();
        assertThat(x.endedIn(Exceptions.GP)).isTrue();
    }

    @Test
    void fxsaveWithCr0TsRaisesNm_sdmFxsave() {
        X87Bench x = new X87Bench().code("0f ae " + mem(0, IMAGE) + "f4");
        x.cpu.cr0 |= Cpu.CR0_TS;
        x.run();
        assertThat(x.endedIn(Exceptions.NM)).isTrue();
    }

    @Test
    void fxrstorOfReservedMxcsrBitsRaisesGp_sdmFxrstor() {
        X87Bench x = new X87Bench().code("0f ae " + mem(1, IMAGE) + "f4");
        x.cpu.cr4 |= Cpu.CR4_OSFXSR;
        x.bench.memory.writeU32(IMAGE + 24, 0x0001_0000);
        x.run();
        assertThat(x.endedIn(Exceptions.GP)).isTrue();
    }

    @Test
    void capturedFpuStateRestoresIntoAnotherCpu_cpuStateExchange() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 eb  d9 ee  de f9  f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, new BigDecimal("6.5"));
        x.run();
        CpuState state = x.cpu.captureState();
        X87Bench other = new X87Bench();
        other.cpu.restoreState(state);
        assertThat(other.cpu.captureState()).isEqualTo(state);
        assertThat(state.fpu().statusWord() & 4).as("ZE from pi / 0").isEqualTo(4);
        assertThat(state.fpu().registers().get(state.fpu().statusWord() >>> 11 & 7).signExponent()).isEqualTo(0x7FFF);
    }

    @Test
    void cpuidReportsTheFpuAndFxsrButNoSseOrMmx_sdmCpuid() {
        X87Bench x = new X87Bench().code("b8 01 00 00 00  0f a2  f4");
        x.run();
        int edx = x.cpu.register(Cpu.EDX);
        assertThat(edx & 1).as("FPU").isEqualTo(1);
        assertThat(edx & 1 << 24).as("FXSR").isNotZero();
        assertThat(edx & (1 << 4 | 1 << 8 | 1 << 15)).as("TSC, CX8, CMOV").isEqualTo(1 << 4 | 1 << 8 | 1 << 15);
        assertThat(edx & (1 << 23 | 1 << 25 | 1 << 26)).as("MMX, SSE, SSE2").isZero();
        assertThat(x.cpu.register(Cpu.EAX) >>> 8 & 0xF).as("family 6").isEqualTo(6);
    }

    @Test
    void cr0EtReadsAsOne_sdmVol3A_2_5() {
        X87Bench x = new X87Bench().code("0f 20 c0  83 e0 ef  0f 22 c0  0f 20 c3  f4"); // clear ET, read back
        x.run();
        assertThat(x.cpu.register(Cpu.EBX) & Cpu.CR0_ET).isEqualTo(Cpu.CR0_ET);
    }

    @Test
    void fnstswAxAndTheReservedEncodings_sdmFstsw() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8  df e0  f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F).run();
        assertThat(x.cpu.register(Cpu.EAX) & 0xFFFF).isEqualTo(7 << 11);
        X87Bench reserved = new X87Bench().code("d9 d1  f4"); // D9 D1 is reserved
        reserved.run();
        assertThat(reserved.endedIn(Exceptions.UD)).isTrue();
        X87Bench fisttp = new X87Bench().code("db " + mem(1, B) + "f4"); // FISTTP is SSE3
        fisttp.run();
        assertThat(fisttp.endedIn(Exceptions.UD)).isTrue();
    }

    @Test
    void fdecstpFincstpAndFfreeMoveTopAndTags_sdmFdecstp_sdmFfree() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 f6  d9 f6  d9 f7  d9 e8  dd c0  dd " + mem(7, SW)
                + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F).run();
        assertThat(x.status() >>> 11 & 7).isEqualTo(6); // 0 -1 -1 +1 = 7, push = 6
        assertThat(x.cpu.x87.empty).as("FFREE ST(0) emptied it").isEqualTo(0xFF);
    }
}

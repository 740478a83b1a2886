package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static hvlab.hw.cpu.X87Bench.A;
import static hvlab.hw.cpu.X87Bench.B;
import static hvlab.hw.cpu.X87Bench.R;
import static hvlab.hw.cpu.X87Bench.SW;
import static hvlab.hw.cpu.X87Bench.mem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * x87 exceptions (SDM Vol. 1, 8.5 and 4.9): every flag with its masked response and the unmasked one, the stack
 * fault, ES and B, #MF at the next waiting instruction (Vol. 3A, 6.15 vector 16, CR0.NE) and #NM (Vol. 3A, 2.5,
 * Table 2-2).
 */
class X87ExceptionTest {
    private static final int IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, SF = 64, ES = 128, C1 = 1 << 9,
            BUSY = 1 << 15, ALL_MASKED = 0x3F;
    private static final long INDEFINITE = 0xC000_0000_0000_0000L;

    /** fld tword [A]; fld tword [B]; (op); fnstsw [SW]; fstp tword [R]. */
    private static String binary(String op) {
        return X87Bench.init() + "db " + mem(5, A) + "db " + mem(5, B) + op + " dd " + mem(7, SW) + "db " + mem(7, R)
                + "f4";
    }

    private static X87Bench divide(int masks, BigDecimal a, BigDecimal b) {
        X87Bench x = new X87Bench().code(binary("de f9")); // fdivp: A / B
        x.control(X87Bench.RC_NEAREST, 3, masks);
        x.extended(A, a);
        x.extended(B, b);
        x.run();
        return x;
    }

    @Test
    void zeroOverZeroIsInvalidAndGivesTheRealIndefinite_sdmVol1_8_5_1_2() {
        X87Bench x = new X87Bench().code(binary("de f9"));
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED);
        x.extended(A, 0, 0);
        x.extended(B, 0x8000, 0);
        x.run();
        assertThat(x.status() & (IE | SF | ES)).isEqualTo(IE);
        assertThat(x.signExponent(R)).isEqualTo(0xFFFF);
        assertThat(x.significand(R)).isEqualTo(INDEFINITE);
    }

    @Test
    void divisionByZeroGivesSignedInfinityWithZe_sdmVol1_8_5_3() {
        X87Bench x = divide(ALL_MASKED, new BigDecimal(-3), BigDecimal.ZERO);
        assertThat(x.status() & (IE | ZE | PE)).isEqualTo(ZE);
        assertThat(x.signExponent(R)).isEqualTo(0xFFFF);
        assertThat(x.significand(R)).isEqualTo(1L << 63);
    }

    @Test
    void anUnmaskedPreComputationExceptionLeavesTheStackAndSetsEsAndB_sdmVol1_8_5() {
        X87Bench x = divide(ALL_MASKED & ~ZE, new BigDecimal(5), BigDecimal.ZERO);
        assertThat(x.status() & (ZE | ES | BUSY)).isEqualTo(ZE | ES | BUSY);
        assertThat(x.cpu.x87.top).as("FDIVP did not pop; FSTP did").isEqualTo(7);
        // ST(1) still holds 5: the destination was not written
        int st0 = (x.cpu.x87.top) & 7;
        assertThat(X87Bench.value(x.cpu.x87.exponent[st0], x.cpu.x87.significand[st0])).isEqualByComparingTo("5");
    }

    @Test
    void aPendingUnmaskedExceptionRaisesMfAtTheNextWaitingInstructionWithCr0Ne_sdmVol3A_6_15_vector16() {
        // fld1; fldz; fdivp (ZE unmasked: pending); fnstsw ax (no wait: runs); fwait -> #MF at the WAIT
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8  d9 ee  de f9  df e0  9b  f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED & ~ZE);
        x.cpu.cr0 |= Cpu.CR0_NE;
        x.run();
        assertThat(x.endedIn(Exceptions.MF)).isTrue();
        assertThat(x.bench.stackDword(0)).as("a fault: the WAIT's address").isEqualTo(CpuBench.CODE + 8 + 2 + 2 + 2 + 2);
        assertThat(x.cpu.register(Cpu.EAX) & (ZE | ES | BUSY)).isEqualTo(ZE | ES | BUSY);
    }

    @Test
    void withCr0NeClearNoMfIsRaised_sdmVol3A_2_5_ne() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8  d9 ee  de f9  9b  d9 e8  f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED & ~ZE);
        x.run();
        assertThat(x.cpu.isHalted()).isTrue();
        assertThat(x.cpu.eip()).isEqualTo(CpuBench.CODE + 8 + 2 + 2 + 2 + 1 + 2 + 1);
    }

    @Test
    void fnclexClearsThePendingExceptionSoFwaitPasses_sdmFclex() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8  d9 ee  de f9  db e2  9b  dd " + mem(7, SW) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED & ~ZE);
        x.cpu.cr0 |= Cpu.CR0_NE;
        x.run();
        assertThat(x.cpu.isHalted()).isTrue();
        assertThat(x.endedIn(Exceptions.MF)).isFalse();
        assertThat(x.status() & (ZE | ES | BUSY)).isZero();
    }

    @Test
    void fldcwUnmaskingASetFlagMakesItPending_sdmVol1_8_7() {
        // fld1; fldz; fdivp (masked: ZE set); fldcw [CW2] (ZE unmasked); fnstsw [SW]
        int cw2 = X87Bench.CW + 2;
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8  d9 ee  de f9  d9 " + mem(5, cw2) + "dd "
                + mem(7, SW) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED);
        x.bench.memory.writeU16(cw2, 0x037F & ~ZE);
        x.run();
        assertThat(x.status() & (ZE | ES | BUSY)).isEqualTo(ZE | ES | BUSY);
    }

    @Test
    void maskedOverflowRoundsToInfinityOrTheLargestFiniteByRc_sdmVol1_4_9_1_4() {
        X87Bench x = new X87Bench().code(binary("de c9")); // fmulp
        x.extended(A, 0x7FFE, 0xFFFF_FFFF_FFFF_FFFFL);
        x.extended(B, 0x4000, 1L << 63); // * 2
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED).run();
        assertThat(x.signExponent(R)).isEqualTo(0x7FFF);
        assertThat(x.significand(R)).isEqualTo(1L << 63);
        assertThat(x.status() & (OE | PE | C1)).isEqualTo(OE | PE | C1);
        x.control(X87Bench.RC_ZERO, 3, ALL_MASKED).run();
        assertThat(x.signExponent(R)).isEqualTo(0x7FFE);
        assertThat(x.significand(R)).isEqualTo(-1L);
        assertThat(x.status() & (OE | PE | C1)).isEqualTo(OE | PE);
        x.control(X87Bench.RC_ZERO, 0, ALL_MASKED).run(); // single precision: the largest 24-bit significand
        assertThat(x.significand(R)).isEqualTo(0xFFFF_FF00_0000_0000L);
    }

    @Test
    void unmaskedOverflowIntoARegisterWrapsTheExponentBy24576_sdmVol1_8_5_4() {
        X87Bench x = new X87Bench().code(binary("de c9"));
        x.extended(A, 0x7FFE, 0xC000_0000_0000_0000L);
        x.extended(B, 0x4001, 1L << 63); // * 4: exponent 16383 + 2 unbiased
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED & ~OE).run();
        assertThat(x.status() & (OE | ES)).isEqualTo(OE | ES);
        assertThat(x.signExponent(R)).isEqualTo(0x7FFE + 2 - 24576);
        assertThat(x.significand(R)).isEqualTo(0xC000_0000_0000_0000L);
    }

    @Test
    void maskedUnderflowIsFlaggedOnlyWhenTinyAndInexact_sdmVol1_4_9_1_5() {
        X87Bench x = new X87Bench().code(binary("de f9")); // A / B
        x.extended(A, 1, 0xC000_0000_0000_0001L); // 1.5000..01 * 2^-16382
        x.extended(B, 0x4000, 1L << 63); // / 2: the lowest bit falls off in the denormal
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED).run();
        assertThat(x.status() & (UE | PE)).isEqualTo(UE | PE);
        assertThat(x.signExponent(R)).isEqualTo(0);
        assertThat(x.significand(R)).isEqualTo(0x6000_0000_0000_0000L); // tie to even
        x.extended(A, 1, 0xC000_0000_0000_0000L); // exact halving: tiny but exact
        x.run();
        assertThat(x.status() & (UE | PE)).isZero();
        assertThat(x.significand(R)).isEqualTo(0x6000_0000_0000_0000L);
    }

    @Test
    void unmaskedUnderflowIntoARegisterWrapsTheExponentUp_sdmVol1_8_5_5() {
        X87Bench x = new X87Bench().code(binary("de f9"));
        x.extended(A, 1, 0xC000_0000_0000_0000L);
        x.extended(B, 0x4000, 1L << 63);
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED & ~UE).run();
        assertThat(x.status() & (UE | ES | PE)).isEqualTo(UE | ES); // tiny, exact: still reported when unmasked
        assertThat(x.signExponent(R)).isEqualTo(0 + 24576);
        assertThat(x.significand(R)).isEqualTo(0xC000_0000_0000_0000L);
    }

    @Test
    void precisionExceptionAndC1ReportTheRoundingDirection_sdmVol1_8_5_6() {
        // 1/7 = 1.001001...b * 2^-3: bit 63 of the significand is 1, the round bit 0: rounded down
        X87Bench x = divide(ALL_MASKED, BigDecimal.ONE, new BigDecimal(7));
        assertThat(x.status() & (PE | C1)).isEqualTo(PE);
        // 1/3 = 1.0101...b * 2^-2: bit 63 is 0, the round bit 1 and more ones below: rounded up
        x = divide(ALL_MASKED, BigDecimal.ONE, new BigDecimal(3));
        assertThat(x.status() & (PE | C1)).isEqualTo(PE | C1);
    }

    @Test
    void denormalOperandFromSinglePrecisionIsNormalizedWithDe_sdmVol1_8_5_2() {
        // fld dword [A] (the smallest single denormal, 2^-149); fstp tword [R]
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 " + mem(0, A) + "dd " + mem(7, SW) + "db " + mem(7, R)
                + "f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED);
        x.bench.memory.writeU32(A, 1);
        x.run();
        assertThat(x.status() & DE).isEqualTo(DE);
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo(X87Bench.pow2(-149));
        assertThat(x.significand(R)).isEqualTo(1L << 63);
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED & ~DE).run(); // unmasked: nothing is loaded
        assertThat(x.cpu.x87.status & ES).isEqualTo(ES);
    }

    @Test
    void loadingAnSnanRaisesIeAndLoadsItQuiet_sdmFld() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 " + mem(0, A) + "dd " + mem(7, SW) + "db " + mem(7, R)
                + "f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED);
        x.bench.memory.writeU32(A, 0x7F80_0001);
        x.run();
        assertThat(x.status() & IE).isEqualTo(IE);
        assertThat(x.signExponent(R)).isEqualTo(0x7FFF);
        assertThat(x.significand(R)).isEqualTo(0xC000_0100_0000_0000L); // the payload left-aligned, quiet bit set
    }

    @Test
    void theNinthPushIsAStackOverflow_sdmVol1_8_5_1_1() {
        // fld1 x 9; fnstsw [SW]; fstp tword [R]
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8 ".repeat(9) + "dd " + mem(7, SW) + "db "
                + mem(7, R) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED);
        x.run();
        assertThat(x.status() & (IE | SF | C1)).isEqualTo(IE | SF | C1);
        assertThat(x.signExponent(R)).isEqualTo(0xFFFF);
        assertThat(x.significand(R)).isEqualTo(INDEFINITE);
    }

    @Test
    void readingAnEmptyRegisterIsAStackUnderflowWithC1Clear_sdmVol1_8_5_1_1() {
        // fadd st0,st1 with an empty stack
        X87Bench x = new X87Bench().code(X87Bench.init() + "d8 c1  dd " + mem(7, SW) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED);
        x.run();
        assertThat(x.status() & (IE | SF | C1)).isEqualTo(IE | SF);
        assertThat(x.cpu.x87.tag(x.cpu.x87.top)).as("masked: ST(0) gets the indefinite").isEqualTo(X87.TAG_SPECIAL);
    }

    @Test
    void fstToSingleWithUnmaskedOverflowLeavesMemoryUnchanged_sdmFst() {
        // fld tword [A] (2^200); fst dword [R]
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 " + mem(2, R) + "dd " + mem(7, SW)
                + "f4");
        x.extended(A, 16383 + 200, 1L << 63);
        x.bench.memory.writeU32(R, 0x1234_5678);
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED & ~OE).run();
        assertThat(x.bench.memory.readU32(R)).isEqualTo(0x1234_5678);
        assertThat(x.status() & (OE | ES)).isEqualTo(OE | ES);
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED).run();
        assertThat(x.bench.memory.readU32(R)).isEqualTo(0x7F80_0000); // +infinity
    }

    @Test
    void fistOutOfRangeStoresTheIntegerIndefinite_sdmFist() {
        // fld tword [A]; fistp word [R]
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "df " + mem(3, R) + "dd " + mem(7, SW)
                + "f4");
        x.extended(A, new BigDecimal(40000));
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED).run();
        assertThat(x.bench.memory.readU16(R)).isEqualTo(0x8000);
        assertThat(x.status() & (IE | PE)).isEqualTo(IE);
        x.extended(A, new BigDecimal("-32768.4"));
        x.run();
        assertThat(x.bench.memory.readU16(R)).isEqualTo(0x8000);
        assertThat(x.status() & (IE | PE)).isEqualTo(PE);
    }

    @Test
    void escapeWithCr0TsRaisesNm_sdmVol3A_table2_2() {
        X87Bench x = new X87Bench().code("d9 e8  f4");
        x.cpu.cr0 |= Cpu.CR0_TS;
        x.run();
        assertThat(x.endedIn(Exceptions.NM)).isTrue();
    }

    @Test
    void waitRaisesNmOnlyWithBothMpAndTs_sdmVol3A_table2_2() {
        X87Bench x = new X87Bench().code("9b  f4");
        x.cpu.cr0 |= Cpu.CR0_TS;
        x.run();
        assertThat(x.cpu.eip()).isEqualTo(CpuBench.CODE + 2);
        x.cpu.cr0 |= Cpu.CR0_MP;
        x.run();
        assertThat(x.endedIn(Exceptions.NM)).isTrue();
    }

    @Test
    void nmTakesPrecedenceOverAPendingMf_sdmVol3A_table2_2() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8  d9 ee  de f9  d9 e8  f4");
        x.control(X87Bench.RC_NEAREST, 3, ALL_MASKED & ~ZE);
        x.cpu.cr0 |= Cpu.CR0_NE;
        x.run(); // ZE pending, then the last FLD1 faults with #MF
        assertThat(x.endedIn(Exceptions.MF)).isTrue();
        x.cpu.cr0 |= Cpu.CR0_TS;
        x.cpu.eip = CpuBench.CODE + 8 + 6; // that FLD1 again, now with TS set
        x.cpu.halted = false;
        x.cpu.run(10);
        assertThat(x.endedIn(Exceptions.NM)).isTrue();
    }
}

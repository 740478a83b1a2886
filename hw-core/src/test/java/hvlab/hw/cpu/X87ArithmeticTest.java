package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Random;

import static hvlab.hw.cpu.X87Bench.A;
import static hvlab.hw.cpu.X87Bench.B;
import static hvlab.hw.cpu.X87Bench.R;
import static hvlab.hw.cpu.X87Bench.SW;
import static hvlab.hw.cpu.X87Bench.mem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * x87 arithmetic against exact rational results rounded per SDM Vol. 1, 4.8.4 (rounding control) and 8.1.5.2
 * (precision control): FADD, FSUB, FMUL, FDIV, FSQRT, FPREM/FPREM1, FRNDINT, FSCALE, FXTRACT.
 */
class X87ArithmeticTest {
    private static final int IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, SF = 64, ES = 128, C0 = 1 << 8,
            C1 = 1 << 9, C2 = 1 << 10, C3 = 1 << 14;
    /** fld tword [A]; fld tword [B]; (op); fnstsw [SW]; fstp tword [R]; hlt (FSTP clears C1 itself). */
    private static String binary(String op) {
        return X87Bench.init() + "db " + mem(5, A) + "db " + mem(5, B) + op + " dd " + mem(7, SW) + "db " + mem(7, R)
                + "f4";
    }

    private static final String FADDP = "de c1", FSUBP = "de e9", FMULP = "de c9", FDIVP = "de f9";

    private static BigDecimal exact(String op, BigDecimal a, BigDecimal b) {
        return switch (op) {
            case FADDP -> a.add(b);
            case FSUBP -> a.subtract(b);
            case FMULP -> a.multiply(b);
            default -> a.divide(b, new MathContext(200)); // beyond 64 bits and the round bit: ties cannot hide
        };
    }

    @Test
    void basicOperationsRoundTheExactResultByRcAndPc_sdmVol1_4_8_4_and_8_1_5_2() {
        Random random = new Random(87);
        String[] ops = {FADDP, FSUBP, FMULP, FDIVP};
        int[] precisions = {24, 53, 64};
        int[] pcField = {0, 2, 3};
        int checked = 0;
        for (String op : ops) {
            X87Bench x = new X87Bench().code(binary(op));
            for (int k = 0; k < 40; k++) {
                int pc = k % 3, rc = (k / 3) % 4;
                long ma = random.nextLong() | Long.MIN_VALUE, mb = random.nextLong() | Long.MIN_VALUE;
                int ea = 16383 + random.nextInt(40) - 20, eb = 16383 + random.nextInt(40) - 20;
                if (op.equals(FADDP) || op.equals(FSUBP)) {
                    eb = ea - random.nextInt(70); // overlapping significands and far-apart ones
                }
                int sa = random.nextBoolean() ? 0x8000 : 0, sb = random.nextBoolean() ? 0x8000 : 0;
                x.extended(A, sa | ea, ma);
                x.extended(B, sb | eb, mb);
                x.control(rc, pcField[pc], 0x3F);
                x.run();
                BigDecimal exact = exact(op, X87Bench.value(sa | ea, ma), X87Bench.value(sb | eb, mb));
                long[] expected = X87Bench.round(exact, precisions[pc], rc);
                String what = op + " pc=" + precisions[pc] + " rc=" + rc + " " + exact;
                assertThat(x.signExponent(R)).as(what).isEqualTo((int) expected[0]);
                assertThat(x.significand(R)).as(what).isEqualTo(expected[1]);
                boolean inexact = X87Bench.inexact(exact, precisions[pc]);
                assertThat(x.status() & PE).as(what + " PE").isEqualTo(inexact ? PE : 0);
                boolean roundedUp = X87Bench.value((int) expected[0], expected[1]).abs().compareTo(exact.abs()) > 0;
                assertThat(x.status() & C1).as(what + " C1").isEqualTo(roundedUp ? C1 : 0);
                checked++;
            }
        }
        assertThat(checked).isEqualTo(160);
    }

    @Test
    void doublePrecisionControlAgreesWithJavaDoubleArithmetic_sdmVol1_8_1_5_2() {
        // With PC = 53 bits and RC nearest, FADD/FMUL/FDIV of doubles are IEEE binary64 operations.
        X87Bench x = new X87Bench().code(X87Bench.init() + "dd " + mem(0, A) + "dc " + mem(6, B) + "dd " + mem(3, R)
                + "f4"); // fld qword [A]; fdiv qword [B]; fstp qword [R]
        x.control(X87Bench.RC_NEAREST, 2, 0x3F);
        Random random = new Random(53);
        for (int k = 0; k < 50; k++) {
            double a = random.nextDouble() * 1e6 - 5e5, b = random.nextDouble() * 1e3 + 1;
            x.writeU64(A, Double.doubleToLongBits(a));
            x.writeU64(B, Double.doubleToLongBits(b));
            x.run();
            assertThat(Double.longBitsToDouble(x.readU64(R))).isEqualTo(a / b);
        }
    }

    @Test
    void anExactZeroDifferenceIsPositiveExceptWhenRoundingDown_sdmVol1_4_8_3_1() {
        X87Bench x = new X87Bench().code(binary(FSUBP));
        x.extended(A, 0x3FFF, 0xC000_0000_0000_0000L);
        x.extended(B, 0x3FFF, 0xC000_0000_0000_0000L);
        x.control(X87Bench.RC_NEAREST, 3, 0x3F).run();
        assertThat(x.signExponent(R)).isEqualTo(0);
        x.control(X87Bench.RC_DOWN, 3, 0x3F).run();
        assertThat(x.signExponent(R)).isEqualTo(0x8000);
    }

    @Test
    void fsqrtReturnsTheNearestValueToTheExactRoot_sdmFsqrt() {
        // fld tword [A]; fsqrt; fstp tword [R]; fnstsw [SW]
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 fa  db " + mem(7, R) + "dd "
                + mem(7, SW) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        Random random = new Random(2);
        for (int k = 0; k < 30; k++) {
            long m = random.nextLong() | Long.MIN_VALUE;
            int e = 16383 + random.nextInt(200) - 100;
            x.extended(A, e, m);
            x.run();
            BigDecimal operand = X87Bench.value(e, m), root = X87Bench.value(x.signExponent(R), x.significand(R));
            BigDecimal halfUlp = X87Bench.pow2((x.signExponent(R) & 0x7FFF) - 16383 - 64);
            // nearest: (r - ulp/2)^2 < x < (r + ulp/2)^2 (no exact tie is possible for a square root)
            assertThat(root.subtract(halfUlp).pow(2).compareTo(operand)).isNegative();
            assertThat(root.add(halfUlp).pow(2).compareTo(operand)).isPositive();
        }
        x.extended(A, 16383 + 3, 0x9000_0000_0000_0000L); // 9
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("3");
        assertThat(x.status() & PE).isZero();
    }

    @Test
    void fsqrtOfANegativeNumberIsInvalidAndOfMinusZeroIsMinusZero_sdmFsqrt() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 fa  db " + mem(7, R) + "dd "
                + mem(7, SW) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, 0xBFFF, 1L << 63);
        x.run();
        assertThat(x.signExponent(R)).isEqualTo(0xFFFF); // the real indefinite
        assertThat(x.significand(R)).isEqualTo(0xC000_0000_0000_0000L);
        assertThat(x.status() & IE).isEqualTo(IE);
        x.extended(A, 0x8000, 0);
        x.run();
        assertThat(x.signExponent(R)).isEqualTo(0x8000);
        assertThat(x.status() & IE).isZero();
    }

    /** fld tword [B]; fld tword [A]; (op); fnstsw [SW]; fstp tword [R]: ST(0) = A, ST(1) = B. */
    private static String remainder(String op) {
        return X87Bench.init() + "db " + mem(5, B) + "db " + mem(5, A) + op + " dd " + mem(7, SW) + "db " + mem(7, R)
                + "f4";
    }

    @Test
    void fpremTruncatesTheQuotientAndReportsItsLowBits_sdmFprem() {
        X87Bench x = new X87Bench().code(remainder("d9 f8"));
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, new BigDecimal(-23));
        x.extended(B, new BigDecimal(4));
        x.run();
        // -23 = -5 * 4 - 3: remainder -3 (sign of the dividend), quotient 5 = 101b: C0 = Q2, C3 = Q1, C1 = Q0
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("-3");
        assertThat(x.status() & (C0 | C1 | C2 | C3)).isEqualTo(C0 | C1);
    }

    @Test
    void fprem1RoundsTheQuotientToNearestEven_sdmFprem1() {
        X87Bench x = new X87Bench().code(remainder("d9 f5"));
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, new BigDecimal(10));
        x.extended(B, new BigDecimal(4));
        x.run(); // 10 / 4 = 2.5 -> 2: remainder 2, quotient 010b
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("2");
        assertThat(x.status() & (C0 | C1 | C2 | C3)).isEqualTo(C3);
        x.extended(A, new BigDecimal(11));
        x.run(); // 11 / 4 = 2.75 -> 3: remainder -1, quotient 011b
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("-1");
        assertThat(x.status() & (C0 | C1 | C2 | C3)).isEqualTo(C3 | C1);
    }

    @Test
    void fpremWithAnExponentDifferenceOf64OrMoreIsPartialAndSetsC2_sdmFprem() {
        X87Bench x = new X87Bench().code(remainder("d9 f8"));
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, 16383 + 100, 0xC000_0000_0000_0001L);
        x.extended(B, 16383, 0xB000_0000_0000_0000L);
        x.run();
        assertThat(x.status() & C2).isEqualTo(C2);
        BigDecimal a = X87Bench.value(16383 + 100, 0xC000_0000_0000_0001L), b = X87Bench.value(16383, 0xB000_0000_0000_0000L);
        BigDecimal partial = X87Bench.value(x.signExponent(R), x.significand(R));
        // A partial remainder is A minus an integer multiple of B: the same value modulo B, and smaller than A.
        assertThat(a.subtract(partial).remainder(b)).isEqualByComparingTo("0");
        assertThat(partial.compareTo(a)).isNegative();
        assertThat(partial.signum()).isPositive();
    }

    @Test
    void frndintRoundsByRc_sdmFrndint() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 fc  db " + mem(7, R) + "dd "
                + mem(7, SW) + "f4");
        String[][] cases = { // value, nearest, down, up, zero
                {"2.5", "2", "2", "3", "2"}, {"-2.5", "-2", "-3", "-2", "-2"}, {"3.5", "4", "3", "4", "3"},
                {"0.25", "0", "0", "1", "0"}, {"-0.75", "-1", "-1", "0", "0"}, {"7", "7", "7", "7", "7"}};
        for (String[] c : cases) {
            x.extended(A, new BigDecimal(c[0]));
            for (int rc = 0; rc < 4; rc++) {
                x.control(rc, 3, 0x3F).run();
                assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).as(c[0] + " rc " + rc)
                        .isEqualByComparingTo(c[1 + rc]);
                assertThat(x.status() & PE).isEqualTo(c[0].equals("7") ? 0 : PE);
            }
        }
    }

    @Test
    void fscaleAddsTheTruncatedExponent_sdmFscale() {
        // fld tword [B] (scale); fld tword [A]; fscale; fstp tword [R]
        X87Bench x = new X87Bench().code(remainder("d9 fd"));
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, new BigDecimal(3));
        x.extended(B, new BigDecimal("4.9"));
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("48");
        x.extended(B, new BigDecimal("-2.5"));
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("0.75");
    }

    @Test
    void fxtractSplitsExponentAndSignificand_sdmFxtract() {
        // fld tword [A]; fxtract; fstp tword [R] (significand); fstp tword [B] (exponent)
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 f4  db " + mem(7, R) + "db "
                + mem(7, B) + "dd " + mem(7, SW) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, new BigDecimal(-48));
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("-1.5");
        assertThat(X87Bench.value(x.signExponent(B), x.significand(B))).isEqualByComparingTo("5");
        x.extended(A, 0, 0); // +0: ZE, exponent -infinity
        x.run();
        assertThat(x.status() & ZE).isEqualTo(ZE);
        assertThat(x.signExponent(B)).isEqualTo(0xFFFF);
        assertThat(x.significand(B)).isEqualTo(1L << 63);
    }

    @Test
    void fabsAndFchsChangeOnlyTheSign_sdmFabs_sdmFchs() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 e1  d9 e0  db " + mem(7, R) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, 0x4005, 0x8123_4567_89AB_CDEFL);
        x.run(); // |x| then -|x|
        assertThat(x.signExponent(R)).isEqualTo(0xC005);
        assertThat(x.significand(R)).isEqualTo(0x8123_4567_89AB_CDEFL);
    }

    @Test
    void denormalResultsKeepTheExtendedExponentRangeUnderReducedPrecision_sdmVol1_4_8_3_2() {
        // 2^-16382 * 1.5 * 2^-2: tiny, exact in the denormal format: no UE with UE masked (4.9.1.5)
        X87Bench x = new X87Bench().code(binary(FMULP));
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, 1, 0xC000_0000_0000_0000L);
        x.extended(B, 16383 - 2, 1L << 63);
        x.run();
        assertThat(x.signExponent(R)).isEqualTo(0);
        assertThat(x.significand(R)).isEqualTo(0x3000_0000_0000_0000L);
        assertThat(x.status() & (UE | PE)).isZero();
        assertThat(X87Bench.value(0, x.significand(R))).isEqualByComparingTo(
                X87Bench.value(1, 0xC000_0000_0000_0000L).multiply(X87Bench.pow2(-2)));
    }

    @Test
    void faddOfTwoDenormalsRaisesDeAndIsExact_sdmVol1_8_5_2() {
        X87Bench x = new X87Bench().code(binary(FADDP));
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, 0, 0x4000_0000_0000_0000L);
        x.extended(B, 0, 0x4000_0000_0000_0000L);
        x.run(); // 2 * 2^-16383 = the smallest normal
        assertThat(x.signExponent(R)).isEqualTo(1);
        assertThat(x.significand(R)).isEqualTo(1L << 63);
        assertThat(x.status() & (DE | UE | PE | ES)).isEqualTo(DE);
        assertThat(x.status() & SF).isZero();
    }
}

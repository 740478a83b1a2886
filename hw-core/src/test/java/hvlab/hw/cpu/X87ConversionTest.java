package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

import static hvlab.hw.cpu.X87Bench.A;
import static hvlab.hw.cpu.X87Bench.B;
import static hvlab.hw.cpu.X87Bench.R;
import static hvlab.hw.cpu.X87Bench.SW;
import static hvlab.hw.cpu.X87Bench.mem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Loads, stores, integer and BCD conversions, constants (SDM Vol. 2A "FLD", "FST", "FILD", "FIST", "FBLD", "FBSTP",
 * "FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ"), and the exactly specified cases of the transcendentals.
 */
class X87ConversionTest {
    private static final int IE = 1, PE = 32, C1 = 1 << 9, C2 = 1 << 10;
    private static final MathContext WIDE = new MathContext(60);

    @Test
    void fstRoundsToSingleAndDoubleByRc_sdmFst() {
        // fld tword [A]; fst dword [R]; fstp qword [R+8]
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 " + mem(2, R) + "dd "
                + mem(3, R + 8) + "f4");
        BigDecimal third = BigDecimal.ONE.divide(new BigDecimal(3), WIDE);
        x.extended(A, third);
        for (int rc = 0; rc < 4; rc++) {
            x.control(rc, 3, 0x3F).run();
            long[] single = X87Bench.round(X87Bench.value(x.signExponent(A), x.significand(A)), 24, rc);
            long[] dbl = X87Bench.round(X87Bench.value(x.signExponent(A), x.significand(A)), 53, rc);
            assertThat(new BigDecimal(Float.intBitsToFloat(x.bench.memory.readU32(R))))
                    .isEqualByComparingTo(X87Bench.value((int) single[0], single[1]));
            assertThat(new BigDecimal(Double.longBitsToDouble(x.readU64(R + 8))))
                    .isEqualByComparingTo(X87Bench.value((int) dbl[0], dbl[1]));
        }
    }

    @Test
    void fstOfATinyValueToSingleGivesADenormal_sdmFst_sdmVol1_4_9_1_5() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 " + mem(3, R) + "dd " + mem(7, SW)
                + "f4");
        x.extended(A, X87Bench.pow2(-140).multiply(new BigDecimal(3))); // 3 * 2^-140 = 1536 * 2^-149
        x.control(X87Bench.RC_NEAREST, 3, 0x3F).run();
        assertThat(x.bench.memory.readU32(R)).isEqualTo(1536);
        assertThat(x.status() & (16 | PE)).isZero(); // exact: no underflow when masked
        x.extended(A, X87Bench.pow2(-151)); // a quarter of the smallest denormal: rounds to +0
        x.run();
        assertThat(x.bench.memory.readU32(R)).isZero();
        assertThat(x.status() & (16 | PE)).isEqualTo(16 | PE);
    }

    @Test
    void fildAndFistpRoundTripEveryIntegerSize_sdmFild_sdmFist() {
        // fild qword [A]; fistp qword [R]; fild dword [B]; fistp dword [R+8]; fild word [B+4]; fistp word [R+12]
        X87Bench x = new X87Bench().code(X87Bench.init() + "df " + mem(5, A) + "df " + mem(7, R) + "db " + mem(0, B)
                + "db " + mem(3, R + 8) + "df " + mem(0, B + 4) + "df " + mem(3, R + 12) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        long[] longs = {Long.MIN_VALUE, Long.MAX_VALUE, -1, 0, 123456789012345L};
        for (long v : longs) {
            x.writeU64(A, v);
            x.bench.memory.writeU32(B, (int) v);
            x.bench.memory.writeU16(B + 4, (int) v);
            x.run();
            assertThat(x.readU64(R)).isEqualTo(v);
            assertThat(x.bench.memory.readU32(R + 8)).isEqualTo((int) v);
            assertThat(x.bench.memory.readU16(R + 12)).isEqualTo((int) v & 0xFFFF);
        }
    }

    @Test
    void fistRoundsByRc_sdmFist() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "db " + mem(2, R) + "dd " + mem(7, SW)
                + "f4"); // fist dword [R]
        String[] values = {"2.5", "-2.5", "-0.5", "1.75"};
        for (String v : values) {
            x.extended(A, new BigDecimal(v));
            for (int rc = 0; rc < 4; rc++) {
                x.control(rc, 3, 0x3F).run();
                RoundingMode mode = switch (rc) {
                    case 0 -> RoundingMode.HALF_EVEN;
                    case 1 -> RoundingMode.FLOOR;
                    case 2 -> RoundingMode.CEILING;
                    default -> RoundingMode.DOWN;
                };
                int expected = new BigDecimal(v).setScale(0, mode).intValueExact();
                assertThat(x.bench.memory.readU32(R)).as(v + " rc " + rc).isEqualTo(expected);
                assertThat(x.status() & PE).isEqualTo(PE);
            }
        }
    }

    @Test
    void fbstpAndFbldRoundTripEighteenDigits_sdmFbld_sdmFbstp() {
        // fild qword [A]; fbstp tword [R]; fbld tword [R]; fistp qword [B]
        X87Bench x = new X87Bench().code(X87Bench.init() + "df " + mem(5, A) + "df " + mem(6, R) + "df " + mem(4, R)
                + "df " + mem(7, B) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.writeU64(A, -987654321098765432L);
        x.run();
        assertThat(x.readU64(R)).as("digits 0-15, two a byte").isEqualTo(0x7654_3210_9876_5432L);
        assertThat(x.bench.memory.readU16(R + 8)).as("digits 16-17, then the sign").isEqualTo(0x8098);
        assertThat(x.readU64(B)).isEqualTo(-987654321098765432L);
    }

    @Test
    void fbstpBeyondEighteenDigitsStoresTheBcdIndefinite_sdmFbstp() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "df " + mem(5, A) + "df " + mem(6, R) + "dd " + mem(7, SW)
                + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.writeU64(A, 1_000_000_000_000_000_000L);
        x.run();
        assertThat(x.status() & IE).isEqualTo(IE);
        assertThat(x.readU64(R)).isEqualTo(0xC000_0000_0000_0000L);
        assertThat(x.bench.memory.readU16(R + 8)).isEqualTo(0xFFFF);
    }

    @Test
    void fldAndFstpOfEightyBitsCopyEveryEncodingUnchanged_sdmFld() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "db " + mem(7, R) + "dd " + mem(7, SW)
                + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        long[][] encodings = {{0x7FFF, 0x8000_0000_0000_0001L}, {0x4000, 0x4000_0000_0000_0000L}, {0, 1}};
        for (long[] e : encodings) {
            x.extended(A, (int) e[0], e[1]);
            x.run();
            assertThat(x.signExponent(R)).isEqualTo((int) e[0]);
            assertThat(x.significand(R)).isEqualTo(e[1]);
            assertThat(x.status() & 0x3F).isZero();
        }
    }

    // ---- constants, against values computed here from series ----

    private static final MathContext PRECISE = new MathContext(80);

    /** atan(1/n) by its series. */
    private static BigDecimal arctanInverse(int n) {
        BigDecimal x = BigDecimal.ONE.divide(BigDecimal.valueOf(n), PRECISE), power = x, sum = x;
        BigDecimal x2 = x.multiply(x, PRECISE);
        for (int k = 1; k < 200; k++) {
            power = power.multiply(x2, PRECISE);
            BigDecimal term = power.divide(BigDecimal.valueOf(2L * k + 1), PRECISE);
            sum = k % 2 == 1 ? sum.subtract(term, PRECISE) : sum.add(term, PRECISE);
        }
        return sum;
    }

    /** ln((1 + x) / (1 - x)) = 2 atanh(x). */
    private static BigDecimal twiceAtanh(BigDecimal x) {
        BigDecimal power = x, sum = x, x2 = x.multiply(x, PRECISE);
        for (int k = 1; k < 400; k++) {
            power = power.multiply(x2, PRECISE);
            sum = sum.add(power.divide(BigDecimal.valueOf(2L * k + 1), PRECISE), PRECISE);
        }
        return sum.multiply(BigDecimal.valueOf(2));
    }

    @Test
    void theConstantsAreTheRoundedMathematicalValues_sdmFld1_sdmVol1_8_3_8() {
        BigDecimal pi = arctanInverse(5).multiply(BigDecimal.valueOf(16)).subtract(
                arctanInverse(239).multiply(BigDecimal.valueOf(4)), PRECISE); // Machin
        BigDecimal ln2 = twiceAtanh(BigDecimal.ONE.divide(BigDecimal.valueOf(3), PRECISE));
        BigDecimal ln10 = ln2.multiply(BigDecimal.valueOf(3)).add(
                twiceAtanh(BigDecimal.ONE.divide(BigDecimal.valueOf(9), PRECISE)), PRECISE); // ln 8 + ln(5/4)
        BigDecimal[] expected = {BigDecimal.ONE, ln10.divide(ln2, PRECISE), BigDecimal.ONE.divide(ln2, PRECISE), pi,
                ln2.divide(ln10, PRECISE), ln2, null};
        for (int k = 0; k < 7; k++) {
            // d9 e8+k; fstp tword [R]
            X87Bench x = new X87Bench().code(X87Bench.init() + String.format("d9 %02x ", 0xE8 + k) + "dd "
                    + mem(7, SW) + "db " + mem(7, R) + "f4");
            for (int rc = 0; rc < 4; rc++) {
                x.control(rc, 0, 0x3F).run(); // precision control does not apply to the constants
                if (expected[k] == null) {
                    assertThat(x.signExponent(R)).isZero();
                    assertThat(x.significand(R)).isZero();
                    continue;
                }
                long[] rounded = X87Bench.round(expected[k], 64, rc);
                assertThat(x.signExponent(R)).as("constant " + k + " rc " + rc).isEqualTo((int) rounded[0]);
                assertThat(x.significand(R)).as("constant " + k + " rc " + rc).isEqualTo(rounded[1]);
            }
        }
    }

    @Test
    void fldpiMatchesTheKnownEncodingRoundedToNearest_sdmFldpi() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 eb  db " + mem(7, R) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F).run();
        assertThat(x.signExponent(R)).isEqualTo(0x4000);
        assertThat(x.significand(R)).isEqualTo(0xC90F_DAA2_2168_C235L);
    }

    // ---- transcendentals: the exactly specified cases ----

    /** fld tword [A]; (op); fnstsw [SW]; fstp tword [R]. */
    private static X87Bench unary(String op) {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + op + " dd " + mem(7, SW) + "db "
                + mem(7, R) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        return x;
    }

    @Test
    void fsinAndFcosOfZeroAreExact_sdmFsin_sdmFcos() {
        X87Bench x = unary("d9 fe"); // fsin
        x.extended(A, 0x8000, 0);
        x.run();
        assertThat(x.signExponent(R)).isEqualTo(0x8000);
        assertThat(x.status() & (PE | IE)).isZero();
        x = unary("d9 ff"); // fcos
        x.extended(A, 0x8000, 0);
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("1");
        assertThat(x.status() & (PE | IE)).isZero();
    }

    @Test
    void fsinOfTwoToThe63IsOutOfRange_sdmFsin() {
        X87Bench x = unary("d9 fe");
        x.extended(A, 16383 + 63, 1L << 63);
        x.run();
        assertThat(x.status() & C2).isEqualTo(C2);
        assertThat(x.signExponent(R)).as("ST(0) unchanged").isEqualTo(16383 + 63);
        x.extended(A, 16383 + 62, -1L); // just below 2^63: in range
        x.run();
        assertThat(x.status() & C2).isZero();
    }

    @Test
    void fcosOfInfinityIsInvalid_sdmFcos() {
        X87Bench x = unary("d9 ff");
        x.extended(A, 0x7FFF, 1L << 63);
        x.run();
        assertThat(x.status() & IE).isEqualTo(IE);
        assertThat(x.signExponent(R)).isEqualTo(0xFFFF);
        assertThat(x.significand(R)).isEqualTo(0xC000_0000_0000_0000L);
    }

    @Test
    void fsinOfAQnanIsThatQnan_sdmFsin() {
        X87Bench x = unary("d9 fe");
        x.extended(A, 0x7FFF, 0xC000_0000_0000_0042L);
        x.run();
        assertThat(x.significand(R)).isEqualTo(0xC000_0000_0000_0042L);
        assertThat(x.status() & IE).isZero();
    }

    @Test
    void fptanPushesOne_sdmFptan() {
        // fld tword [A]; fptan; fstp tword [R] (the 1.0); fstp tword [B] (the tangent)
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, A) + "d9 f2  db " + mem(7, R) + "db "
                + mem(7, B) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, new BigDecimal("0.5"));
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("1");
        double tangent = X87Bench.value(x.signExponent(B), x.significand(B)).doubleValue();
        assertThat(tangent).isCloseTo(Math.tan(0.5), org.assertj.core.data.Offset.offset(1e-15));
    }

    @Test
    void fyl2xOfAPowerOfTwoIsExact_sdmFyl2x() {
        // fld tword [B] (y = 3); fld tword [A] (x = 8); fyl2x; fnstsw; fstp -> 3 * log2(8) = 9
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, B) + "db " + mem(5, A) + "d9 f1  dd "
                + mem(7, SW) + "db " + mem(7, R) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, new BigDecimal(8));
        x.extended(B, new BigDecimal(3));
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("9");
        assertThat(x.status() & (PE | IE)).isZero();
        assertThat(x.status() >>> 11 & 7).as("two pushes, one pop").isEqualTo(7);
        x.extended(A, 0xBFFF, 1L << 63); // log2(-1): invalid
        x.run();
        assertThat(x.status() & IE).isEqualTo(IE);
        x.extended(A, 0, 0); // log2(+0) with y = 3: divide by zero, -infinity
        x.run();
        assertThat(x.status() & 4).isEqualTo(4);
        assertThat(x.signExponent(R)).isEqualTo(0xFFFF);
    }

    @Test
    void fpatanOfZeroOverPositiveIsZero_sdmFpatan() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, B) + "db " + mem(5, A) + "d9 f3  dd "
                + mem(7, SW) + "db " + mem(7, R) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(B, 0x8000, 0); // y = -0
        x.extended(A, new BigDecimal(2)); // x = 2
        x.run();
        assertThat(x.signExponent(R)).isEqualTo(0x8000);
        assertThat(x.significand(R)).isZero();
        x.extended(B, new BigDecimal(1));
        x.extended(A, new BigDecimal(1)); // atan(1) = pi/4, approximately
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R)).doubleValue()).isEqualTo(Math.PI / 4);
        assertThat(x.status() & PE).isEqualTo(PE);
    }

    @Test
    void f2xm1OfMinusInfinityIsMinusOne_sdmF2xm1() {
        X87Bench x = unary("d9 f0");
        x.extended(A, 0xFFFF, 1L << 63);
        x.run();
        assertThat(X87Bench.value(x.signExponent(R), x.significand(R))).isEqualByComparingTo("-1");
        x.extended(A, new BigDecimal("0.5")); // sqrt(2) - 1, to double precision at least
        x.run();
        BigDecimal exact = new BigDecimal(2).sqrt(WIDE).subtract(BigDecimal.ONE);
        BigDecimal error = X87Bench.value(x.signExponent(R), x.significand(R)).subtract(exact).abs();
        assertThat(error.compareTo(exact.multiply(X87Bench.pow2(-52)))).isNegative();
        assertThat(x.status() & PE).isEqualTo(PE);
    }
}

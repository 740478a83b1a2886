package hvlab.hw.cpu.fpu;

import java.math.BigInteger;

/**
 * Double extended-precision arithmetic in software, as the x87 FPU does it (SDM Vol. 1, 4.2.2, 4.8 and 8.5): exact
 * results rounded once by the control word's rounding control (RC) to its precision control (PC) or to the
 * destination format, with denormals, infinities, NaNs and the masked and unmasked exception responses.
 *
 * <p>A value is a sign/exponent half-word ({@code se}: sign in bit 15, biased exponent in bits 0-14) and a 64-bit
 * significand with an explicit integer bit J in bit 63, exactly the 80-bit register format. One instance works for
 * one FPU and allocates nothing for additions, subtractions, multiplications, divisions and conversions; results land
 * in {@link #se} and {@link #m}, exception flags (status-word bit positions) accumulate in {@link #flags} until the
 * caller clears them. Square root and partial remainder use {@link BigInteger}: they are rare, and exact integer
 * arithmetic keeps them obviously right.
 */
public final class ExtendedPrecision {
    // Exception flags, at their status-word positions (SDM Vol. 1, 8.1.3.1), and C1 as the "rounded up" bit.
    public static final int IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, SF = 64, ROUNDED_UP = 1 << 9;
    /** Operand classes (SDM Vol. 1, 8.2, Table 8-3 and 8.2.2 for the unsupported encodings). */
    public static final int ZERO = 0, NORMAL = 1, DENORMAL = 2, INFINITY = 3, QNAN = 4, SNAN = 5, UNSUPPORTED = 6;
    /** The real indefinite (SDM Vol. 1, 4.8.3.7): a negative QNaN with fraction 1000...0. */
    public static final int INDEFINITE_SE = 0xFFFF;
    public static final long INDEFINITE_M = 0xC000_0000_0000_0000L;
    public static final int BIAS = 16383, MAX_EXPONENT = 0x7FFF;
    public static final long J = 1L << 63, QUIET = 1L << 62;
    /** Condition code bits at their status-word positions (SDM Vol. 1, 8.1.3.1). */
    public static final int C0 = 1 << 8, C1 = 1 << 9, C2 = 1 << 10, C3 = 1 << 14;
    /** Rounding control (SDM Vol. 1, Table 4-8). */
    public static final int RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;
    /** The exponent adjustment of an unmasked overflow or underflow into a register (SDM Vol. 1, 8.5.4, 8.5.5). */
    static final int WRAP = 24576;

    /** A destination format: significand bits (with the integer bit), exponent bias (SDM Vol. 1, Table 4-3). */
    public enum Format {
        SINGLE(24, 127), DOUBLE(53, 1023), EXTENDED(64, 16383);

        final int bits, bias, emin, emax;

        Format(int bits, int bias) {
            this.bits = bits;
            this.bias = bias;
            this.emin = 1 - bias;
            this.emax = bias;
        }
    }

    /** The x87 control word: masks (bits 0-5), PC (8-9), RC (10-11). */
    public int control = 0x037F;
    /** Exceptions raised (and C1 as {@link #ROUNDED_UP}) since the caller last cleared it. */
    public int flags;
    /** The result of the last operation. */
    public int se;
    public long m;
    /** The result of a conversion to a memory format: the encoding, or the integer. */
    public long bits;

    // Unpacked operands: value = sig * 2^(exp - 63) with bit 63 of sig set.
    private boolean aSign, bSign;
    private int aExp, bExp;
    private long aSig, bSig;
    // Rounding outcome of keep().
    private boolean inexact, roundedUp, carried;
    // Packed rounding result (exponent biased for the format, significand left-aligned as in the register format).
    private int rBiased;
    private long rSig;

    // =============================================================================================================
    // Classification
    // =============================================================================================================

    public static int classify(int se, long m) {
        int e = se & MAX_EXPONENT;
        if (e == 0) {
            return m == 0 ? ZERO : DENORMAL; // J = 1 here is a pseudo-denormal, read as a denormal (8.2.2)
        }
        if (m >= 0) {
            return UNSUPPORTED; // J = 0: unnormal, pseudo-infinity or pseudo-NaN
        }
        if (e == MAX_EXPONENT) {
            return (m << 1) == 0 ? INFINITY : (m & QUIET) != 0 ? QNAN : SNAN;
        }
        return NORMAL;
    }

    public static boolean isNaN(int cls) {
        return cls == QNAN || cls == SNAN;
    }

    public static boolean negative(int se) {
        return (se & 0x8000) != 0;
    }

    private int rc() {
        return (control >>> 10) & 3;
    }

    /** The precision control as significand bits; the reserved encoding 01 is read as 64 bits. */
    public int precision() {
        return switch ((control >>> 8) & 3) {
            case 0 -> 24;
            case 2 -> 53;
            default -> 64;
        };
    }

    private boolean masked(int flag) {
        return (control & flag) != 0;
    }

    private void result(int se, long m) {
        this.se = se;
        this.m = m;
    }

    private void indefinite() {
        flags |= IE;
        result(INDEFINITE_SE, INDEFINITE_M);
    }

    private void unpackA(int se, long m) {
        aSign = negative(se);
        int e = Math.max(se & MAX_EXPONENT, 1); // a denormal's exponent is that of the smallest normal
        int shift = Long.numberOfLeadingZeros(m);
        aSig = m << shift;
        aExp = e - BIAS - shift;
    }

    private void unpackB(int se, long m) {
        bSign = negative(se);
        int e = Math.max(se & MAX_EXPONENT, 1);
        int shift = Long.numberOfLeadingZeros(m);
        bSig = m << shift;
        bExp = e - BIAS - shift;
    }

    /**
     * The NaN an operation on NaN operands delivers (SDM Vol. 1, 4.8.3.5, Table 4-7, x87 column): an SNaN is made
     * quiet and raises IE; a QNaN beats an SNaN; of two NaNs of the same kind, the larger significand.
     */
    private void propagateNaN(int se1, long m1, int c1, int se2, long m2, int c2) {
        if (c1 == SNAN || c2 == SNAN) {
            flags |= IE;
        }
        boolean first;
        if (!isNaN(c2)) {
            first = true;
        } else if (!isNaN(c1)) {
            first = false;
        } else if (c1 != c2) {
            first = c1 == QNAN;
        } else {
            int cmp = Long.compareUnsigned(m1 | QUIET, m2 | QUIET);
            first = cmp > 0 || cmp == 0 && !negative(se1);
        }
        result(first ? se1 : se2, (first ? m1 : m2) | QUIET);
    }

    /** Invalid operands shared by every operation: unsupported encodings and NaNs. True when the result is set. */
    private boolean invalidOrNaN(int se1, long m1, int c1, int se2, long m2, int c2) {
        if (c1 == UNSUPPORTED || c2 == UNSUPPORTED) {
            indefinite();
            return true;
        }
        if (isNaN(c1) || isNaN(c2)) {
            propagateNaN(se1, m1, c1, se2, m2, c2);
            return true;
        }
        if (c1 == DENORMAL || c2 == DENORMAL) {
            flags |= DE;
        }
        return false;
    }

    // =============================================================================================================
    // Rounding (SDM Vol. 1, 4.8.4 rounding, 4.9.1.4 overflow, 4.9.1.5 underflow, 8.5.4-8.5.6)
    // =============================================================================================================

    /** The bits of hi:lo above bit {@code s} (s >= 64), rounded by RC; sets inexact, roundedUp and carried. */
    private long keep(long hi, long lo, int s, boolean sign) {
        long n;
        boolean round, sticky;
        if (s == 64) {
            n = hi;
            round = lo < 0;
            sticky = (lo << 1) != 0;
        } else if (s < 128) {
            int k = s - 64;
            n = hi >>> k;
            round = (hi >>> (k - 1) & 1) != 0;
            sticky = (hi & ((1L << (k - 1)) - 1)) != 0 || lo != 0;
        } else if (s == 128) {
            n = 0;
            round = hi < 0;
            sticky = (hi << 1) != 0 || lo != 0;
        } else {
            n = 0;
            round = false;
            sticky = hi != 0 || lo != 0;
        }
        inexact = round || sticky;
        roundedUp = switch (rc()) {
            case RC_NEAREST -> round && (sticky || (n & 1) != 0);
            case RC_DOWN -> inexact && sign;
            case RC_UP -> inexact && !sign;
            default -> false;
        };
        carried = false;
        if (roundedUp) {
            n++;
            carried = s == 64 && n == 0; // 2^64: the caller renormalizes
        }
        return n;
    }

    /**
     * Rounds the nonzero value sign * hi:lo * 2^(exp - 127) (bit 127 set) to {@code p} significand bits for format
     * {@code f}, into rBiased/rSig, with every exception response. Returns false when an unmasked overflow or
     * underflow leaves a memory destination unchanged.
     */
    private boolean round(boolean sign, int exp, long hi, long lo, int p, Format f, boolean toRegister) {
        boolean tiny = exp < f.emin;
        if (exp == f.emin - 1) { // tininess is judged after rounding with an unbounded exponent (4.9.1.5)
            long t = keep(hi, lo, 128 - p, sign);
            tiny = !(carried || p < 64 && t == 1L << p);
        }
        if (tiny && !masked(UE)) {
            flags |= UE;
            if (!toRegister) {
                return false;
            }
            return wrapped(sign, exp, hi, lo, p, f, WRAP);
        }
        int lsbExp = Math.max(exp - (p - 1), f.emin - (f.bits - 1));
        long n = keep(hi, lo, lsbExp - exp + 127, sign);
        if (carried) {
            n = J;
            lsbExp++;
        }
        if (inexact) {
            flags |= PE | (tiny ? UE : 0);
        }
        if (roundedUp) {
            flags |= ROUNDED_UP;
        }
        if (n == 0) {
            rBiased = 0;
            rSig = 0;
            return true;
        }
        int lz = Long.numberOfLeadingZeros(n);
        int e = lsbExp + 63 - lz;
        if (e > f.emax) {
            flags &= ~ROUNDED_UP;
            if (!masked(OE)) {
                flags |= OE;
                if (!toRegister) {
                    flags &= ~PE;
                    return false;
                }
                return wrapped(sign, exp, hi, lo, p, f, -WRAP);
            }
            flags |= OE | PE;
            int rc = rc();
            if (rc == RC_NEAREST || rc == RC_UP && !sign || rc == RC_DOWN && sign) {
                rBiased = 2 * f.bias + 1;
                rSig = J;
                flags |= ROUNDED_UP;
            } else {
                rBiased = f.emax + f.bias;
                rSig = -1L << (64 - p);
            }
            return true;
        }
        if (e >= f.emin) {
            rBiased = e + f.bias;
            rSig = n << lz;
        } else {
            rBiased = 0;
            rSig = n << (lsbExp - f.emin + 63);
        }
        return true;
    }

    /** The unmasked response into a register: rounded with an unbounded exponent, the exponent moved by {@code wrap}. */
    private boolean wrapped(boolean sign, int exp, long hi, long lo, int p, Format f, int wrap) {
        int lsbExp = exp - (p - 1);
        long n = keep(hi, lo, 128 - p, sign);
        if (carried) {
            n = J;
            lsbExp++;
        }
        int lz = Long.numberOfLeadingZeros(n);
        rBiased = (lsbExp + 63 - lz + f.bias + wrap) & MAX_EXPONENT;
        rSig = n << lz;
        flags |= (inexact ? PE : 0) | (roundedUp ? ROUNDED_UP : 0);
        return true;
    }

    /** Rounds into the register format at precision p and sets the result. */
    private void roundToRegister(boolean sign, int exp, long hi, long lo, int p) {
        round(sign, exp, hi, lo, p, Format.EXTENDED, true);
        result((sign ? 0x8000 : 0) | rBiased, rSig);
    }

    /** Rounds a register value to precision p (an operation whose exact result is an operand, e.g. x + 0). */
    private void roundOperand(int se, long m, int p) {
        unpackA(se, m);
        roundToRegister(aSign, aExp, aSig, 0, p);
    }

    private void zero(boolean sign) {
        result(sign ? 0x8000 : 0, 0);
    }

    private void infinity(boolean sign) {
        result((sign ? 0x8000 : 0) | MAX_EXPONENT, J);
    }

    // =============================================================================================================
    // Arithmetic
    // =============================================================================================================

    /** x + y, or x - y with {@code subtract}, rounded to p bits (FADD, FSUB and their forms). */
    public void add(int xse, long xm, int yse, long ym, boolean subtract, int p) {
        if (subtract) {
            yse ^= 0x8000;
        }
        int cx = classify(xse, xm), cy = classify(yse, ym);
        if (invalidOrNaN(xse, xm, cx, yse, ym, cy)) {
            return;
        }
        boolean xs = negative(xse), ys = negative(yse);
        if (cx == INFINITY || cy == INFINITY) {
            if (cx == INFINITY && cy == INFINITY && xs != ys) {
                indefinite();
            } else {
                infinity(cx == INFINITY ? xs : ys);
            }
            return;
        }
        if (cx == ZERO || cy == ZERO) {
            if (cx == ZERO && cy == ZERO) {
                zero(xs == ys ? xs : rc() == RC_DOWN);
            } else if (cx == ZERO) {
                roundOperand(yse, ym, p);
            } else {
                roundOperand(xse, xm, p);
            }
            return;
        }
        unpackA(xse, xm);
        unpackB(yse, ym);
        if (aExp < bExp || aExp == bExp && Long.compareUnsigned(aSig, bSig) < 0) { // a is the larger magnitude
            boolean s = aSign;
            aSign = bSign;
            bSign = s;
            int e = aExp;
            aExp = bExp;
            bExp = e;
            long g = aSig;
            aSig = bSig;
            bSig = g;
        }
        int d = aExp - bExp;
        long bHi, bLo;
        if (d == 0) {
            bHi = bSig;
            bLo = 0;
        } else if (d < 64) {
            bHi = bSig >>> d;
            bLo = bSig << (64 - d);
        } else if (d == 64) {
            bHi = 0;
            bLo = bSig;
        } else if (d < 128) {
            bHi = 0;
            bLo = bSig >>> (d - 64) | ((bSig << (128 - d)) != 0 ? 1 : 0);
        } else {
            bHi = 0;
            bLo = 1; // sticky: far below the rounding position
        }
        long hi, lo;
        int exp = aExp;
        if (aSign == bSign) {
            lo = bLo;
            hi = aSig + bHi;
            if (Long.compareUnsigned(hi, aSig) < 0) { // carry out of bit 127
                lo = lo >>> 1 | hi << 63 | (lo & 1);
                hi = hi >>> 1 | J;
                exp++;
            }
        } else {
            lo = -bLo;
            hi = aSig - bHi - (bLo != 0 ? 1 : 0);
            if (hi == 0 && lo == 0) {
                zero(rc() == RC_DOWN); // an exact zero difference is +0 except rounding down (4.8.3.1)
                return;
            }
            int shift = hi != 0 ? Long.numberOfLeadingZeros(hi) : 64 + Long.numberOfLeadingZeros(lo);
            if (shift >= 64) {
                hi = lo << (shift - 64);
                lo = 0;
            } else if (shift > 0) {
                hi = hi << shift | lo >>> (64 - shift);
                lo <<= shift;
            }
            exp -= shift;
        }
        roundToRegister(aSign, exp, hi, lo, p);
    }

    /** x * y rounded to p bits (FMUL). */
    public void multiply(int xse, long xm, int yse, long ym, int p) {
        int cx = classify(xse, xm), cy = classify(yse, ym);
        if (invalidOrNaN(xse, xm, cx, yse, ym, cy)) {
            return;
        }
        boolean sign = negative(xse) != negative(yse);
        if (cx == INFINITY || cy == INFINITY) {
            if (cx == ZERO || cy == ZERO) {
                indefinite();
            } else {
                infinity(sign);
            }
            return;
        }
        if (cx == ZERO || cy == ZERO) {
            zero(sign);
            return;
        }
        unpackA(xse, xm);
        unpackB(yse, ym);
        long hi = Math.unsignedMultiplyHigh(aSig, bSig), lo = aSig * bSig;
        int exp = aExp + bExp + 1;
        if (hi >= 0) {
            hi = hi << 1 | lo >>> 63;
            lo <<= 1;
            exp--;
        }
        roundToRegister(sign, exp, hi, lo, p);
    }

    /** x / y rounded to p bits (FDIV); ZE for a finite nonzero x over zero. */
    public void divide(int xse, long xm, int yse, long ym, int p) {
        int cx = classify(xse, xm), cy = classify(yse, ym);
        if (invalidOrNaN(xse, xm, cx, yse, ym, cy)) {
            return;
        }
        boolean sign = negative(xse) != negative(yse);
        if (cx == INFINITY) {
            if (cy == INFINITY) {
                indefinite();
            } else {
                infinity(sign);
            }
            return;
        }
        if (cy == INFINITY) {
            zero(sign);
            return;
        }
        if (cy == ZERO) {
            if (cx == ZERO) {
                indefinite();
            } else {
                flags |= ZE;
                infinity(sign);
            }
            return;
        }
        if (cx == ZERO) {
            zero(sign);
            return;
        }
        unpackA(xse, xm);
        unpackB(yse, ym);
        // Restoring division, one quotient bit per step: 66 bits leave a round bit and room for the sticky bit.
        long r = aSig;
        boolean rTop = false;
        int exp = aExp - bExp;
        if (Long.compareUnsigned(aSig, bSig) < 0) {
            rTop = r < 0;
            r <<= 1;
            exp--;
        }
        long qHi = 0, qLo = 0;
        for (int i = 0; i < 66; i++) {
            boolean bit = rTop || Long.compareUnsigned(r, bSig) >= 0;
            if (bit) {
                r -= bSig;
            }
            qHi = qHi << 1 | qLo >>> 63;
            qLo = qLo << 1 | (bit ? 1 : 0);
            rTop = r < 0;
            r <<= 1;
        }
        long hi = qHi << 62 | qLo >>> 2;
        long lo = qLo << 62 | (r != 0 || rTop ? 1 : 0);
        roundToRegister(sign, exp, hi, lo, p);
    }

    /** The square root rounded to p bits (FSQRT). */
    public void squareRoot(int xse, long xm, int p) {
        int cx = classify(xse, xm);
        if (invalidOrNaN(xse, xm, cx, 0, 0, ZERO)) {
            return;
        }
        boolean sign = negative(xse);
        if (cx == ZERO) {
            result(xse, xm); // sqrt(-0) = -0
            return;
        }
        if (sign) {
            indefinite();
            return;
        }
        if (cx == INFINITY) {
            result(xse, xm);
            return;
        }
        unpackA(xse, xm);
        // value = sig * 2^(exp - 63) = (sig << k) * 2^(exp - 63 - k) with an even exponent and >= 132 bits
        int e2 = aExp - 63;
        int k = (e2 & 1) == 0 ? 128 : 129;
        BigInteger[] rootAndRemainder = unsigned(aSig).shiftLeft(k).sqrtAndRemainder();
        BigInteger root = rootAndRemainder[0];
        int length = root.bitLength(); // 96 or 97 bits
        long hi = root.shiftRight(length - 64).longValue();
        long lo = root.shiftLeft(128 - length).longValue();
        if (rootAndRemainder[1].signum() != 0) {
            lo |= 1;
        }
        int exp = (e2 - k) / 2 + length - 1;
        roundToRegister(false, exp, hi, lo, p);
    }

    private static BigInteger unsigned(long v) {
        BigInteger b = BigInteger.valueOf(v & Long.MAX_VALUE);
        return v < 0 ? b.setBit(63) : b;
    }

    /**
     * FPREM (truncated quotient) or FPREM1 (nearest quotient) of x by y (SDM Vol. 2A "FPREM", "FPREM1"). Returns
     * the condition bits C0, C1, C2, C3 (at status-word positions) to set; -1 when the result is an invalid or NaN
     * response (condition bits unchanged).
     */
    public int remainder(int xse, long xm, int yse, long ym, boolean nearest) {
        int cx = classify(xse, xm), cy = classify(yse, ym);
        if (invalidOrNaN(xse, xm, cx, yse, ym, cy)) {
            return -1;
        }
        if (cx == INFINITY || cy == ZERO) {
            indefinite();
            return -1;
        }
        if (cx == ZERO || cy == INFINITY) {
            result(xse, xm);
            return 0;
        }
        unpackA(xse, xm);
        unpackB(yse, ym);
        boolean sign = aSign;
        int d = aExp - bExp;
        if (d >= 64) { // a partial remainder: reduce the exponent difference to N = 32 (an implementation choice)
            final int n = 32;
            BigInteger a = unsigned(aSig).shiftLeft(n), b = unsigned(bSig);
            BigInteger r = a.subtract(a.divide(b).multiply(b));
            setInteger(sign, r, aExp - 63 - n);
            return C2;
        }
        if (d < -1) {
            roundOperand(xse, xm, 64); // |x| < |y| / 2: quotient 0 either way
            return 0;
        }
        int ea = aExp - 63, eb = bExp - 63;
        BigInteger num = unsigned(aSig), den = unsigned(bSig);
        int unit = Math.min(ea, eb);
        if (ea >= eb) {
            num = num.shiftLeft(ea - eb);
        } else {
            den = den.shiftLeft(eb - ea);
        }
        BigInteger[] qr = num.divideAndRemainder(den);
        BigInteger q = qr[0], r = qr[1];
        if (nearest) {
            int cmp = r.shiftLeft(1).compareTo(den);
            if (cmp > 0 || cmp == 0 && q.testBit(0)) {
                q = q.add(BigInteger.ONE);
                r = den.subtract(r);
                sign = !sign;
            }
        }
        setInteger(sign, r, unit); // a zero remainder keeps the sign of the dividend
        int low = q.intValue() & 7;
        return ((low & 4) != 0 ? C0 : 0) | ((low & 2) != 0 ? C3 : 0) | ((low & 1) != 0 ? C1 : 0);
    }

    /** sign * v * 2^unit, exact or rounded at 64 bits; v < 2^128. */
    private void setInteger(boolean sign, BigInteger v, int unit) {
        if (v.signum() == 0) {
            zero(sign);
            return;
        }
        int length = v.bitLength();
        BigInteger aligned = length <= 128 ? v.shiftLeft(128 - length) : v.shiftRight(length - 128);
        long hi = aligned.shiftRight(64).longValue(), lo = aligned.longValue();
        roundToRegister(sign, unit + length - 1, hi, lo, 64);
    }

    /** Rounds to an integral value by RC (FRNDINT); values of 2^63 and more are integral already. */
    public void roundToIntegral(int xse, long xm) {
        int cx = classify(xse, xm);
        if (invalidOrNaN(xse, xm, cx, 0, 0, ZERO)) {
            return;
        }
        if (cx == ZERO || cx == INFINITY) {
            result(xse, xm);
            return;
        }
        unpackA(xse, xm);
        if (aExp >= 63) {
            result(xse, xm);
            return;
        }
        long n = keep(aSig, 0, 127 - aExp, aSign);
        flags |= (inexact ? PE : 0) | (roundedUp ? ROUNDED_UP : 0);
        if (n == 0) {
            zero(aSign);
            return;
        }
        int lz = Long.numberOfLeadingZeros(n);
        result((aSign ? 0x8000 : 0) | (63 - lz + BIAS), n << lz);
    }

    /** sign * v as an extended value, exact for any 64-bit magnitude (FILD, FBLD, the integer operands). */
    public void fromInteger(boolean sign, long magnitude) {
        if (magnitude == 0) {
            zero(sign);
            return;
        }
        int lz = Long.numberOfLeadingZeros(magnitude);
        result((sign ? 0x8000 : 0) | (63 - lz + BIAS), magnitude << lz);
    }

    public void fromLong(long v) {
        fromInteger(v < 0, Math.abs(v)); // Long.MIN_VALUE's magnitude reads right as an unsigned 2^63
    }

    /**
     * Converts to a signed integer in [-limit-1, limit] by RC (FIST, FISTP): the value in {@link #bits}; out of
     * range, NaN or infinity give IE and the integer indefinite, -limit-1 (SDM Vol. 1, 4.8.3.7).
     */
    public void toInteger(int xse, long xm, long limit) {
        int cx = classify(xse, xm);
        if (cx == UNSUPPORTED || isNaN(cx) || cx == INFINITY) {
            flags |= IE;
            bits = -limit - 1;
            return;
        }
        if (cx == DENORMAL) {
            flags |= DE;
        }
        roundToIntegral(xse, xm);
        if (classify(se, m) == ZERO) {
            bits = 0;
            return;
        }
        unpackA(se, m);
        long magnitude = aExp > 63 ? -1 : aSig >>> (63 - aExp);
        boolean fits = aExp <= 63 && (Long.compareUnsigned(magnitude, limit) <= 0
                || aSign && magnitude == limit + 1);
        if (!fits) {
            flags = (flags & ~(PE | ROUNDED_UP)) | IE;
            bits = -limit - 1;
            return;
        }
        bits = aSign ? -magnitude : magnitude;
    }

    // =============================================================================================================
    // Memory formats (SDM Vol. 1, 4.2.2)
    // =============================================================================================================

    /** binary32 or binary64 bits to extended, exactly; DE for a denormal (the result is normalized). */
    public void fromBinary(long encoding, Format f) {
        int fraction = f.bits - 1;
        int exponentBits = f == Format.SINGLE ? 8 : 11;
        boolean sign = (encoding >>> (fraction + exponentBits) & 1) != 0;
        int e = (int) (encoding >>> fraction) & ((1 << exponentBits) - 1);
        long frac = encoding & ((1L << fraction) - 1);
        int s = sign ? 0x8000 : 0;
        if (e == (1 << exponentBits) - 1) {
            result(s | MAX_EXPONENT, J | frac << (63 - fraction)); // infinity or NaN, payload left-aligned
        } else if (e == 0) {
            if (frac == 0) {
                zero(sign);
            } else {
                flags |= DE;
                int lz = Long.numberOfLeadingZeros(frac);
                result(s | (f.emin - (fraction - (63 - lz)) + BIAS), frac << lz);
            }
        } else {
            result(s | (e - f.bias + BIAS), J | frac << (63 - fraction));
        }
    }

    /**
     * Extended to binary32 or binary64 by RC (FST, FSTP): the encoding in {@link #bits}. Returns false when an
     * unmasked exception leaves the destination unchanged.
     */
    public boolean toBinary(int xse, long xm, Format f) {
        int fraction = f.bits - 1;
        int exponentBits = f == Format.SINGLE ? 8 : 11;
        int cls = classify(xse, xm);
        long sign = negative(xse) ? 1L << (fraction + exponentBits) : 0;
        long maxExponent = (1L << exponentBits) - 1;
        switch (cls) {
            case ZERO -> {
                bits = sign;
                return true;
            }
            case INFINITY -> {
                bits = sign | maxExponent << fraction;
                return true;
            }
            case SNAN, QNAN -> {
                if (cls == SNAN) {
                    flags |= IE;
                    if (!masked(IE)) {
                        return false;
                    }
                }
                bits = sign | maxExponent << fraction | (xm | QUIET) << 1 >>> (64 - fraction);
                return true;
            }
            case UNSUPPORTED -> {
                flags |= IE;
                bits = indefinite(f);
                return masked(IE);
            }
            default -> {
                unpackA(xse, xm);
                if (!round(aSign, aExp, aSig, 0, f.bits, f, false)) {
                    return false;
                }
                bits = sign | (long) rBiased << fraction | (rSig << 1 >>> (64 - fraction));
                return true;
            }
        }
    }

    /** The real indefinite in binary32 or binary64: sign, all-ones exponent, the top fraction bit. */
    public static long indefinite(Format f) {
        int fraction = f.bits - 1, exponentBits = f == Format.SINGLE ? 8 : 11;
        return ((1L << (exponentBits + 2)) - 1) << (fraction - 1);
    }

    // =============================================================================================================
    // Comparison, scaling, constants
    // =============================================================================================================

    /** Compare results. */
    public static final int LESS = -1, EQUAL = 0, GREATER = 1, UNORDERED = 2;

    /**
     * Compares x with y (FCOM, FUCOM, FCOMI, FTST...): IE for an SNaN or unsupported operand, and for a QNaN unless
     * {@code unordered} (the FUCOM forms); DE for a denormal.
     */
    public int compare(int xse, long xm, int yse, long ym, boolean unordered) {
        int cx = classify(xse, xm), cy = classify(yse, ym);
        if (cx == UNSUPPORTED || cy == UNSUPPORTED || cx == SNAN || cy == SNAN) {
            flags |= IE;
            return UNORDERED;
        }
        if (isNaN(cx) || isNaN(cy)) {
            if (!unordered) {
                flags |= IE;
            }
            return UNORDERED;
        }
        if (cx == DENORMAL || cy == DENORMAL) {
            flags |= DE;
        }
        if (cx == ZERO && cy == ZERO) {
            return EQUAL;
        }
        boolean xs = negative(xse), ys = negative(yse);
        if (cx == ZERO) {
            return ys ? GREATER : LESS;
        }
        if (cy == ZERO || xs != ys) {
            return xs ? LESS : GREATER;
        }
        int magnitude = compareMagnitude(xse, xm, cx, yse, ym, cy);
        return xs ? -magnitude : magnitude;
    }

    private int compareMagnitude(int xse, long xm, int cx, int yse, long ym, int cy) {
        if (cx == INFINITY || cy == INFINITY) {
            return cx == cy ? EQUAL : cx == INFINITY ? GREATER : LESS;
        }
        unpackA(xse, xm);
        unpackB(yse, ym);
        if (aExp != bExp) {
            return aExp > bExp ? GREATER : LESS;
        }
        return Integer.signum(Long.compareUnsigned(aSig, bSig));
    }

    /** x * 2^n for an integer n (FSCALE after its special cases), rounded to 64 bits. */
    public void scale(int xse, long xm, long n) {
        int cx = classify(xse, xm);
        if (cx == DENORMAL) {
            flags |= DE;
        }
        if (cx == ZERO || cx == INFINITY) {
            result(xse, xm);
            return;
        }
        unpackA(xse, xm);
        long exp = Math.max(Math.min(aExp + n, 1 << 20), -(1 << 20)); // far beyond either end: overflows or flushes
        roundToRegister(aSign, (int) exp, aSig, 0, 64);
    }

    /** A constant held to 128 bits, rounded by RC to 64 (FLDPI and friends: SDM Vol. 1, 8.3.8). */
    public void constant(int exp, long hi, long lo) {
        roundToRegister(false, exp, hi, lo, 64);
        flags &= ~(PE | ROUNDED_UP); // the constants raise no precision exception
    }

    /** Unbiased exponent and significand of a finite nonzero value, normalized (FXTRACT): exponent in {@link #bits}. */
    public void extract(int xse, long xm) {
        unpackA(xse, xm);
        bits = aExp;
        result((aSign ? 0x8000 : 0) | BIAS, aSig);
    }

    // =============================================================================================================
    // Doubles, for the transcendental instructions
    // =============================================================================================================

    /** The nearest double to a finite or infinite value (NaNs are handled before). */
    public static double toDouble(int se, long m) {
        int cls = classify(se, m);
        double sign = negative(se) ? -1 : 1;
        if (cls == ZERO) {
            return sign * 0.0;
        }
        if (cls == INFINITY) {
            return sign * Double.POSITIVE_INFINITY;
        }
        int e = Math.max(se & MAX_EXPONENT, 1) - BIAS;
        // m to double rounds once (to 53 bits); scaling by a power of two is exact unless the result is a denormal
        double significand = m < 0 ? (double) (m >>> 1 | (m & 1)) * 2 : (double) m;
        return sign * Math.scalb(Math.scalb(significand, -63), e);
    }

    /** A double, exactly, as an extended result. */
    public void fromDouble(double d) {
        long encoding = Double.doubleToRawLongBits(d);
        int saved = flags;
        fromBinary(encoding, Format.DOUBLE);
        flags = saved; // a denormal double is no denormal operand of the instruction
    }

    /** Rounds the result of a transcendental (a double) into the register and records PE, as it is not exact. */
    public void approximate(double d) {
        fromDouble(d);
        flags |= PE;
    }
}

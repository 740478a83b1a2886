package hvlab.hw.cpu;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * A flat protected-mode {@link CpuBench} for x87 tests: operands in memory at {@link #DATA}, encoded x87 code at
 * {@link CpuBench#CODE}, and an oracle that rounds exact decimal values the way the SDM defines (Vol. 1, 4.8.4),
 * independent of the model's own arithmetic.
 */
final class X87Bench {
    static final int DATA = 0x20000, A = DATA, B = DATA + 0x10, R = DATA + 0x20, SW = DATA + 0x30, CW = DATA + 0x34,
            ENV = DATA + 0x100, IMAGE = DATA + 0x400;
    static final int RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

    final CpuBench bench = new CpuBench().flatProtectedMode();
    final Cpu cpu = bench.cpu;

    /** ModRM with mod 00, rm 101 (disp32) and the reg field, then the address: "05 00 00 02 00" for [0x20000]. */
    static String mem(int reg, int address) {
        return String.format("%02x %02x %02x %02x %02x ", reg << 3 | 5, address & 0xFF, address >>> 8 & 0xFF,
                address >>> 16 & 0xFF, address >>> 24);
    }

    /** fninit; fldcw [CW]: a known control word first. */
    static String init() {
        return "db e3  d9 " + mem(5, CW);
    }

    X87Bench control(int rc, int pc, int masks) {
        bench.memory.writeU16(CW, rc << 10 | pc << 8 | masks | 0x40);
        return this;
    }

    X87Bench code(String hex) {
        bench.code(hex);
        return this;
    }

    /** Runs from the start of the code to the HLT; the bench can run again with new data. */
    Cpu run() {
        cpu.eip = CpuBench.CODE;
        cpu.halted = false;
        cpu.reg[Cpu.ESP] = CpuBench.STACK_TOP;
        cpu.run(10_000);
        return cpu;
    }

    boolean endedIn(int vector) {
        return cpu.eip() == bench.afterStub(vector);
    }

    void extended(int address, int se, long m) {
        bench.memory.writeU32(address, (int) m);
        bench.memory.writeU32(address + 4, (int) (m >>> 32));
        bench.memory.writeU16(address + 8, se);
    }

    void extended(int address, BigDecimal value) {
        if (value.signum() == 0) {
            extended(address, 0, 0);
            return;
        }
        long[] v = round(value, 64, RC_NEAREST);
        extended(address, (int) v[0], v[1]);
    }

    long significand(int address) {
        return readU64(address);
    }

    int signExponent(int address) {
        return bench.memory.readU16(address + 8);
    }

    long readU64(int address) {
        return bench.memory.readU32(address) & 0xFFFFFFFFL | (long) bench.memory.readU32(address + 4) << 32;
    }

    void writeU64(int address, long value) {
        bench.memory.writeU32(address, (int) value);
        bench.memory.writeU32(address + 4, (int) (value >>> 32));
    }

    int status() {
        return bench.memory.readU16(SW);
    }

    // ---- the oracle: exact values and SDM rounding ----

    static BigDecimal pow2(int e) {
        return e >= 0 ? new BigDecimal(BigInteger.ONE.shiftLeft(e)) : BigDecimal.ONE.divide(new BigDecimal(
                BigInteger.ONE.shiftLeft(-e)));
    }

    /** The exact value of a finite 80-bit encoding (SDM Vol. 1, 4.2.2: denormals have exponent 1 - bias). */
    static BigDecimal value(int se, long m) {
        int e = Math.max(se & 0x7FFF, 1) - 16383 - 63;
        BigDecimal v = new BigDecimal(new BigInteger(Long.toUnsignedString(m))).multiply(pow2(e));
        return (se & 0x8000) != 0 ? v.negate() : v;
    }

    /**
     * Rounds a nonzero exact value to p significand bits by RC, in the normal range of the register format: returns
     * {sign/exponent, significand}.
     */
    static long[] round(BigDecimal x, int p, int rc) {
        boolean negative = x.signum() < 0;
        BigDecimal a = x.abs();
        int e = a.toBigInteger().bitLength() - 1;
        if (a.compareTo(BigDecimal.ONE) < 0) {
            e = -1;
            while (a.compareTo(pow2(e)) < 0) {
                e--;
            }
        }
        BigDecimal scaled = a.multiply(pow2(p - 1 - e)); // in [2^(p-1), 2^p)
        RoundingMode mode = switch (rc) {
            case RC_NEAREST -> RoundingMode.HALF_EVEN;
            case RC_DOWN -> negative ? RoundingMode.UP : RoundingMode.DOWN;
            case RC_UP -> negative ? RoundingMode.DOWN : RoundingMode.UP;
            default -> RoundingMode.DOWN;
        };
        BigInteger n = scaled.setScale(0, mode).toBigIntegerExact();
        if (n.bitLength() > p) {
            n = n.shiftRight(1);
            e++;
        }
        long m = n.shiftLeft(64 - p).longValue();
        return new long[] {(negative ? 0x8000 : 0) | (e + 16383), m};
    }

    /** True when the exact value is not representable with p bits (the precision exception). */
    static boolean inexact(BigDecimal x, int p) {
        long[] r = round(x, p, RC_ZERO);
        return value((int) r[0], r[1]).compareTo(x) != 0;
    }
}

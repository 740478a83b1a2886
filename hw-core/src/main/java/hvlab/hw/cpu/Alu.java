package hvlab.hw.cpu;

/**
 * Integer arithmetic with lazy flags. ADD, ADC, SUB, SBB, logic ops, INC, DEC and NEG record their operands and
 * result; a flag is computed only when something reads it (Bochs and QEMU do the same: most results are never
 * tested). Everything else sets EFLAGS at once. Flag definitions: SDM Vol. 1, 3.4.3.1 and each instruction's page.
 */
final class Alu {
    static final int CC_NONE = 0;
    // Lazy operation kinds; ccOp = kind << 2 | size (0 = byte, 1 = word, 2 = dword).
    static final int ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7, NEG = 8;
    /**
     * SHL/SAL, SHR, SAR with a non-zero count, and the multiplies: CF and OF are known at once and kept in ccCarry,
     * AF reads 0.
     */
    static final int SHIFT_OR_MULTIPLY = 9;
    private static final int SHIFT_CF = 1, SHIFT_OF = 2;

    // Group-1 operation numbers, as encoded in opcodes 00-3F and the ModRM reg field of 80-83.
    static final int OP_ADD = 0, OP_OR = 1, OP_ADC = 2, OP_SBB = 3, OP_AND = 4, OP_SUB = 5, OP_XOR = 6, OP_CMP = 7;

    static final int BYTE = 0, WORD = 1, DWORD = 2;

    private static final int[] MASK = {0xFF, 0xFFFF, 0xFFFFFFFF};
    private static final int[] SIGN = {0x80, 0x8000, 0x80000000};
    private static final int[] BITS = {8, 16, 32};

    private Alu() {
    }

    static int mask(int size) {
        return MASK[size];
    }

    static int sign(int size) {
        return SIGN[size];
    }

    static int bits(int size) {
        return BITS[size];
    }

    /** Sign-extends a value of the given operand size to 32 bits. */
    static int signExtend(int value, int size) {
        return size == BYTE ? (byte) value : size == WORD ? (short) value : value;
    }

    // ---- lazy flag evaluation ----

    private static void record(Cpu c, int kind, int size, int a, int b, int res) {
        c.ccOp = kind << 2 | size;
        c.ccA = a;
        c.ccB = b;
        c.ccRes = res;
    }

    static boolean cf(Cpu c) {
        int op = c.ccOp;
        if (op == CC_NONE) {
            return (c.flags & Cpu.CF) != 0;
        }
        int size = op & 3, m = MASK[size];
        int a = c.ccA & m, b = c.ccB & m, res = c.ccRes & m;
        return switch (op >>> 2) {
            case ADD -> Integer.compareUnsigned(res, a) < 0;
            case ADC -> c.ccCarry != 0 ? Integer.compareUnsigned(res, a) <= 0 : Integer.compareUnsigned(res, a) < 0;
            case SUB -> Integer.compareUnsigned(a, b) < 0;
            case SBB -> c.ccCarry != 0 ? Integer.compareUnsigned(a, b) <= 0 : Integer.compareUnsigned(a, b) < 0;
            case NEG -> b != 0;
            case INC, DEC -> c.ccCarry != 0;
            case SHIFT_OR_MULTIPLY -> (c.ccCarry & SHIFT_CF) != 0;
            default -> false;
        };
    }

    static boolean zf(Cpu c) {
        int op = c.ccOp;
        if (op == CC_NONE) {
            return (c.flags & Cpu.ZF) != 0;
        }
        return (c.ccRes & MASK[op & 3]) == 0;
    }

    static boolean sf(Cpu c) {
        int op = c.ccOp;
        if (op == CC_NONE) {
            return (c.flags & Cpu.SF) != 0;
        }
        return (c.ccRes & SIGN[op & 3]) != 0;
    }

    static boolean of(Cpu c) {
        int op = c.ccOp;
        if (op == CC_NONE) {
            return (c.flags & Cpu.OF) != 0;
        }
        int size = op & 3, s = SIGN[size];
        int a = c.ccA, b = c.ccB, res = c.ccRes;
        return switch (op >>> 2) {
            case ADD, ADC -> ((a ^ res) & (b ^ res) & s) != 0;
            case SUB, SBB -> ((a ^ b) & (a ^ res) & s) != 0;
            case NEG -> (res & MASK[size]) == s;
            case INC -> (res & MASK[size]) == s;
            case DEC -> (res & MASK[size]) == s - 1;
            case SHIFT_OR_MULTIPLY -> (c.ccCarry & SHIFT_OF) != 0;
            default -> false;
        };
    }

    static boolean pf(Cpu c) {
        if (c.ccOp == CC_NONE) {
            return (c.flags & Cpu.PF) != 0;
        }
        return parity(c.ccRes);
    }

    static boolean af(Cpu c) {
        int op = c.ccOp;
        if (op == CC_NONE) {
            return (c.flags & Cpu.AF) != 0;
        }
        if (op >>> 2 == LOGIC || op >>> 2 == SHIFT_OR_MULTIPLY) {
            return false;
        }
        return ((c.ccA ^ c.ccB ^ c.ccRes) & 0x10) != 0;
    }

    static boolean parity(int value) {
        return (Integer.bitCount(value & 0xFF) & 1) == 0;
    }

    /** Folds the lazy state into EFLAGS and returns it. */
    static int materialize(Cpu c) {
        if (c.ccOp != CC_NONE) {
            int f = c.flags & ~Cpu.ARITH_FLAGS;
            if (cf(c)) {
                f |= Cpu.CF;
            }
            if (pf(c)) {
                f |= Cpu.PF;
            }
            if (af(c)) {
                f |= Cpu.AF;
            }
            if (zf(c)) {
                f |= Cpu.ZF;
            }
            if (sf(c)) {
                f |= Cpu.SF;
            }
            if (of(c)) {
                f |= Cpu.OF;
            }
            c.flags = f;
            c.ccOp = CC_NONE;
        }
        return c.flags;
    }

    /** Sets the arithmetic flags eagerly (operations whose flags are not kept lazily). */
    static void setArith(Cpu c, boolean carry, boolean overflow, int res, int size, boolean aux) {
        int f = materialize(c) & ~Cpu.ARITH_FLAGS;
        if (carry) {
            f |= Cpu.CF;
        }
        if (overflow) {
            f |= Cpu.OF;
        }
        if (aux) {
            f |= Cpu.AF;
        }
        if ((res & MASK[size]) == 0) {
            f |= Cpu.ZF;
        }
        if ((res & SIGN[size]) != 0) {
            f |= Cpu.SF;
        }
        if (parity(res)) {
            f |= Cpu.PF;
        }
        c.flags = f;
    }

    static void setFlag(Cpu c, int flag, boolean on) {
        int f = materialize(c);
        c.flags = on ? f | flag : f & ~flag;
    }

    /**
     * Evaluates condition code cc (the low nibble of Jcc/SETcc/CMOVcc; SDM Vol. 1, Appendix B): an odd cc is the
     * negation of the even one below it. Each pair has a small method of its own so that HotSpot inlines the one a
     * compiled block names; this dispatcher folds away where cc is a constant.
     */
    static boolean condition(Cpu c, int cc) {
        boolean r = switch (cc >>> 1) {
            case 0 -> overflow(c);
            case 1 -> below(c);
            case 2 -> equal(c);
            case 3 -> belowOrEqual(c);
            case 4 -> sign(c);
            case 5 -> parityEven(c);
            case 6 -> less(c);
            default -> lessOrEqual(c);
        };
        return r ^ ((cc & 1) != 0);
    }

    /** The method evaluating the even condition code {@code cc & ~1}, for code generators. */
    static String conditionMethod(int cc) {
        return switch (cc >>> 1) {
            case 0 -> "overflow";
            case 1 -> "below";
            case 2 -> "equal";
            case 3 -> "belowOrEqual";
            case 4 -> "sign";
            case 5 -> "parityEven";
            case 6 -> "less";
            default -> "lessOrEqual";
        };
    }

    // After CMP and SUB the operands are compared directly; after TEST, AND, OR and XOR (CF = OF = 0) the result
    // alone decides; otherwise the flags are read.

    static boolean overflow(Cpu c) {
        return c.ccOp >>> 2 != LOGIC && of(c);
    }

    static boolean below(Cpu c) {
        int op = c.ccOp;
        int kind = op >>> 2;
        if (kind == SUB) {
            int m = MASK[op & 3];
            return Integer.compareUnsigned(c.ccA & m, c.ccB & m) < 0;
        }
        return kind != LOGIC && cf(c);
    }

    static boolean equal(Cpu c) {
        int op = c.ccOp;
        int kind = op >>> 2;
        if (kind == SUB) {
            return ((c.ccA ^ c.ccB) & MASK[op & 3]) == 0;
        }
        return zf(c);
    }

    static boolean belowOrEqual(Cpu c) {
        int op = c.ccOp;
        int kind = op >>> 2;
        if (kind == SUB) {
            int m = MASK[op & 3];
            return Integer.compareUnsigned(c.ccA & m, c.ccB & m) <= 0;
        }
        if (kind == LOGIC) {
            return (c.ccRes & MASK[op & 3]) == 0;
        }
        return cf(c) || zf(c);
    }

    static boolean sign(Cpu c) {
        return sf(c);
    }

    static boolean parityEven(Cpu c) {
        return pf(c);
    }

    static boolean less(Cpu c) {
        int op = c.ccOp;
        int kind = op >>> 2;
        if (kind == SUB) {
            int size = op & 3;
            return signExtend(c.ccA, size) < signExtend(c.ccB, size);
        }
        if (kind == LOGIC) {
            return (c.ccRes & SIGN[op & 3]) != 0;
        }
        return sf(c) != of(c);
    }

    static boolean lessOrEqual(Cpu c) {
        int op = c.ccOp;
        int kind = op >>> 2;
        if (kind == SUB) {
            int size = op & 3;
            return signExtend(c.ccA, size) <= signExtend(c.ccB, size);
        }
        if (kind == LOGIC) {
            int res = c.ccRes & MASK[op & 3];
            return res == 0 || (res & SIGN[op & 3]) != 0;
        }
        return zf(c) || sf(c) != of(c);
    }

    // ---- the eight group-1 operations ----

    /** ADD, OR, ADC, SBB, AND, SUB, XOR, CMP: returns the result (for CMP, the unchanged destination). */
    static int arith(Cpu c, int op, int a, int b, int size) {
        int res;
        switch (op) {
            case OP_ADD -> {
                res = a + b;
                record(c, ADD, size, a, b, res);
            }
            case OP_OR -> {
                res = a | b;
                record(c, LOGIC, size, a, b, res);
            }
            case OP_ADC -> {
                int carry = cf(c) ? 1 : 0;
                res = a + b + carry;
                record(c, ADC, size, a, b, res);
                c.ccCarry = carry;
            }
            case OP_SBB -> {
                int carry = cf(c) ? 1 : 0;
                res = a - b - carry;
                record(c, SBB, size, a, b, res);
                c.ccCarry = carry;
            }
            case OP_AND -> {
                res = a & b;
                record(c, LOGIC, size, a, b, res);
            }
            case OP_SUB -> {
                res = a - b;
                record(c, SUB, size, a, b, res);
            }
            case OP_XOR -> {
                res = a ^ b;
                record(c, LOGIC, size, a, b, res);
            }
            default -> {
                record(c, SUB, size, a, b, a - b);
                return a;
            }
        }
        return res & MASK[size];
    }

    static void test(Cpu c, int a, int b, int size) {
        record(c, LOGIC, size, a, b, a & b);
    }

    static int inc(Cpu c, int a, int size) {
        int carry = cf(c) ? 1 : 0;
        int res = a + 1;
        record(c, INC, size, a, 1, res);
        c.ccCarry = carry;
        return res & MASK[size];
    }

    static int dec(Cpu c, int a, int size) {
        int carry = cf(c) ? 1 : 0;
        int res = a - 1;
        record(c, DEC, size, a, 1, res);
        c.ccCarry = carry;
        return res & MASK[size];
    }

    static int neg(Cpu c, int a, int size) {
        int res = -a;
        record(c, NEG, size, 0, a, res);
        return res & MASK[size];
    }

    // ---- shifts and rotates (SDM Vol. 2B, "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR") ----

    /**
     * ModRM reg field of C0/C1/D0-D3: ROL, ROR, RCL, RCR, SHL, SHR, SAL (= SHL), SAR. One small method per operation,
     * so a compiled block whose operation is a constant inlines only its own.
     */
    static int shift(Cpu c, int op, int value, int count, int size) {
        count &= 0x1F;
        if (count == 0) {
            return value & MASK[size];
        }
        return switch (op) {
            case 0 -> rol(c, value & MASK[size], count, size);
            case 1 -> ror(c, value & MASK[size], count, size);
            case 2 -> rcl(c, value & MASK[size], count, size);
            case 3 -> rcr(c, value & MASK[size], count, size);
            case 4, 6 -> shl(c, value & MASK[size], count, size);
            case 5 -> shr(c, value & MASK[size], count, size);
            default -> sar(c, value & MASK[size], count, size);
        };
    }

    // The operations below take the operand masked to its size and a count of 1 to 31.

    private static int rol(Cpu c, int v, int count, int size) {
        int bits = BITS[size], m = MASK[size];
        int n = count & (bits - 1);
        int res = n == 0 ? v : ((v << n) | (v >>> (bits - n))) & m;
        boolean carry = (res & 1) != 0;
        setCarryOverflow(c, carry, carry ^ ((res & SIGN[size]) != 0));
        return res;
    }

    private static int ror(Cpu c, int v, int count, int size) {
        int bits = BITS[size], m = MASK[size], s = SIGN[size];
        int n = count & (bits - 1);
        int res = n == 0 ? v : ((v >>> n) | (v << (bits - n))) & m;
        boolean msb = (res & s) != 0, next = (res & (s >>> 1)) != 0;
        setCarryOverflow(c, msb, msb ^ next);
        return res;
    }

    private static int rcl(Cpu c, int v, int count, int size) {
        int bits = BITS[size], m = MASK[size];
        int n = size == DWORD ? count : count % (bits + 1);
        if (n == 0) {
            return v;
        }
        long wide = (v & 0xFFFFFFFFL) | (cf(c) ? 1L << bits : 0);
        long rotated = ((wide << n) | (wide >>> (bits + 1 - n))) & ((1L << (bits + 1)) - 1);
        int res = (int) rotated & m;
        boolean carry = (rotated >>> bits & 1) != 0;
        setCarryOverflow(c, carry, carry ^ ((res & SIGN[size]) != 0));
        return res;
    }

    private static int rcr(Cpu c, int v, int count, int size) {
        int bits = BITS[size], m = MASK[size], s = SIGN[size];
        int n = size == DWORD ? count : count % (bits + 1);
        if (n == 0) {
            return v;
        }
        boolean oldCarry = cf(c);
        long wide = (v & 0xFFFFFFFFL) | (oldCarry ? 1L << bits : 0);
        long rotated = ((wide >>> n) | (wide << (bits + 1 - n))) & ((1L << (bits + 1)) - 1);
        int res = (int) rotated & m;
        boolean carry = (rotated >>> bits & 1) != 0;
        boolean msb = (res & s) != 0, next = (res & (s >>> 1)) != 0;
        setCarryOverflow(c, carry, msb ^ next);
        return res;
    }

    private static int shl(Cpu c, int v, int count, int size) {
        int bits = BITS[size];
        int res = count >= bits ? 0 : (v << count) & MASK[size];
        boolean carry = count <= bits && ((v >>> (bits - count)) & 1) != 0;
        recordCarryOverflow(c, size, res, carry, carry ^ ((res & SIGN[size]) != 0));
        return res;
    }

    private static int shr(Cpu c, int v, int count, int size) {
        int bits = BITS[size];
        int res = count >= bits ? 0 : v >>> count;
        boolean carry = count <= bits && ((v >>> (count - 1)) & 1) != 0;
        recordCarryOverflow(c, size, res, carry, (v & SIGN[size]) != 0);
        return res;
    }

    private static int sar(Cpu c, int v, int count, int size) {
        int bits = BITS[size];
        int sv = signExtend(v, size);
        int n = Math.min(count, bits - 1);
        int res = (sv >> n) & MASK[size];
        boolean carry = count >= bits ? sv < 0 : ((sv >> (count - 1)) & 1) != 0;
        recordCarryOverflow(c, size, res, carry, false);
        return res;
    }

    /** SHL, SHR, SAR, multiplies: flags as {@link #setArith} would set them (AF 0), kept lazily: most are never read. */
    private static void recordCarryOverflow(Cpu c, int size, int res, boolean carry, boolean overflow) {
        c.ccOp = SHIFT_OR_MULTIPLY << 2 | size;
        c.ccRes = res;
        c.ccCarry = (carry ? SHIFT_CF : 0) | (overflow ? SHIFT_OF : 0);
    }

    private static void setCarryOverflow(Cpu c, boolean carry, boolean overflow) {
        int f = materialize(c) & ~(Cpu.CF | Cpu.OF);
        c.flags = f | (carry ? Cpu.CF : 0) | (overflow ? Cpu.OF : 0);
    }

    /** SHLD/SHRD (SDM Vol. 2B): dst shifted with bits from src; count masked to 5 bits. */
    static int doubleShift(Cpu c, boolean left, int dst, int src, int count, int size) {
        count &= 0x1F;
        if (count == 0) {
            return dst;
        }
        int m = MASK[size], s = SIGN[size];
        long res;
        boolean carry;
        if (size == WORD) {
            // Counts over 16 are undefined for the 16-bit forms; the model shifts the 48-bit string dst:src:dst.
            long ext = (dst & 0xFFFFL) << 32 | (src & 0xFFFFL) << 16 | (dst & 0xFFFFL);
            if (left) {
                res = (ext << count) >>> 32 & 0xFFFF;
                carry = ((ext >>> (48 - count)) & 1) != 0;
            } else {
                res = (ext >>> count) & 0xFFFF;
                carry = ((ext >>> (count - 1)) & 1) != 0;
            }
        } else if (left) {
            long pair = (dst & 0xFFFFFFFFL) << 32 | (src & 0xFFFFFFFFL);
            res = (pair << count) >>> 32 & 0xFFFFFFFFL;
            carry = ((dst >>> (32 - count)) & 1) != 0;
        } else {
            long pair = (src & 0xFFFFFFFFL) << 32 | (dst & 0xFFFFFFFFL);
            res = (pair >>> count) & 0xFFFFFFFFL;
            carry = ((dst >>> (count - 1)) & 1) != 0;
        }
        int r = (int) res & m;
        setArith(c, carry, ((r ^ dst) & s) != 0, r, size, false);
        return r;
    }

    // ---- multiply and divide (SDM Vol. 2A/2B "MUL", "IMUL", "DIV", "IDIV") ----

    /** Sets CF and OF for a multiply whose full result did not fit (the other flags: from the low half). */
    static void setMultiplyFlags(Cpu c, boolean overflow, int low, int size) {
        recordCarryOverflow(c, size, low, overflow, overflow);
    }

    // ---- decimal arithmetic (SDM Vol. 2A "DAA", "DAS", "AAA", "AAS", "AAM", "AAD") ----

    static void daa(Cpu c) {
        int al = c.reg[Cpu.EAX] & 0xFF;
        boolean oldCf = cf(c), oldAf = af(c);
        int res = al;
        boolean carry = false, aux = false;
        if ((al & 0xF) > 9 || oldAf) {
            res += 6;
            aux = true;
        }
        if (al > 0x99 || oldCf) {
            res += 0x60;
            carry = true;
        }
        res &= 0xFF;
        c.reg[Cpu.EAX] = (c.reg[Cpu.EAX] & ~0xFF) | res;
        setArith(c, carry, false, res, BYTE, aux);
    }

    static void das(Cpu c) {
        int al = c.reg[Cpu.EAX] & 0xFF;
        boolean oldCf = cf(c), oldAf = af(c);
        int res = al;
        boolean carry = false, aux = false;
        if ((al & 0xF) > 9 || oldAf) {
            res -= 6;
            carry = oldCf || al < 6; // CF <- old_CF or the borrow of AL - 6
            aux = true;
        }
        if (al > 0x99 || oldCf) {
            res -= 0x60;
            carry = true;
        }
        res &= 0xFF;
        c.reg[Cpu.EAX] = (c.reg[Cpu.EAX] & ~0xFF) | res;
        setArith(c, carry, false, res, BYTE, aux);
    }

    static void aaa(Cpu c, boolean subtract) {
        int ax = c.reg[Cpu.EAX] & 0xFFFF;
        boolean adjust = (ax & 0xF) > 9 || af(c);
        if (adjust) {
            if (subtract) {
                ax = (ax - 0x106) & 0xFFFF; // AX <- AX - 6, then AH <- AH - 1: the borrow of AL reaches AH
            } else {
                ax = ((ax + 0x106) & 0xFF00) | ((ax + 6) & 0xFF);
            }
        }
        ax = ax & 0xFF0F;
        c.reg[Cpu.EAX] = (c.reg[Cpu.EAX] & 0xFFFF0000) | ax;
        setArith(c, adjust, false, ax, BYTE, adjust);
    }

    /** AAM with base imm8; a zero base raises #DE (handled by the caller). */
    static void aam(Cpu c, int base) {
        int al = c.reg[Cpu.EAX] & 0xFF;
        int ah = al / base, res = al % base;
        c.reg[Cpu.EAX] = (c.reg[Cpu.EAX] & 0xFFFF0000) | ah << 8 | res;
        setArith(c, false, false, res, BYTE, false);
    }

    static void aad(Cpu c, int base) {
        int ax = c.reg[Cpu.EAX];
        int res = ((ax & 0xFF) + ((ax >>> 8) & 0xFF) * base) & 0xFF;
        c.reg[Cpu.EAX] = (ax & 0xFFFF0000) | res;
        setArith(c, false, false, res, BYTE, false);
    }
}

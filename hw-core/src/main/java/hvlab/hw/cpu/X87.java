package hvlab.hw.cpu;

import hvlab.hw.cpu.fpu.ExtendedPrecision;
import hvlab.hw.cpu.fpu.ExtendedPrecision.Format;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

import static hvlab.hw.cpu.fpu.ExtendedPrecision.C0;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.C1;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.C2;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.C3;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.DE;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.IE;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.INDEFINITE_M;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.INDEFINITE_SE;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.J;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.SF;
import static hvlab.hw.cpu.fpu.ExtendedPrecision.ZE;

/**
 * The x87 FPU (SDM Vol. 1, chapter 8): eight 80-bit registers used as a stack, the control, status and tag words,
 * the last-instruction pointers, and every x87 instruction of a P6 (ESC opcodes D8-DF, WAIT, FXSAVE/FXRSTOR).
 * Arithmetic is {@link ExtendedPrecision}'s. The tag word is kept abridged (empty or not): the full tag is derived
 * from the register contents when stored, as the processor itself does since the 387 (Vol. 3A, 22.18.4).
 *
 * <p>Every memory operand is read, and every store written, before any FPU state changes, so a fault in the middle
 * of an instruction leaves the FPU as it was and the restarted instruction does the same again.
 */
final class X87 {
    /** Status word bits beyond the exception flags and condition codes (SDM Vol. 1, 8.1.3). */
    static final int ES = 1 << 7, BUSY = 1 << 15, TOP_FIELD = 7 << 11, EXCEPTIONS = 0x3F;
    /** Control word after FNINIT, and after RESET (SDM Vol. 3A, 9.2, Table 9-1). */
    static final int INIT_CONTROL = 0x037F, RESET_CONTROL = 0x0040;
    static final int MXCSR_DEFAULT = 0x1F80, MXCSR_MASK = 0xFFBF;
    /** The tag values (SDM Vol. 1, 8.1.7). */
    static final int TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;

    private final Cpu c;
    private final Interpreter in;
    final ExtendedPrecision fp = new ExtendedPrecision();
    /** Physical registers R0-R7: sign and biased exponent, and the 64-bit significand. */
    final int[] exponent = new int[8];
    final long[] significand = new long[8];
    /** Bit i set: Ri is empty. */
    int empty;
    int top;
    int control;
    /** The status word without TOP. */
    int status;
    int fip, fcs, fop, fdp, fds;
    int mxcsr;
    private final int[] loadedExponent = new int[8];
    private final long[] loadedSignificand = new long[8];

    X87(Cpu cpu, Interpreter interpreter) {
        this.c = cpu;
        this.in = interpreter;
    }

    /** RESET (SDM Vol. 3A, Table 9-1): control 0040H, status 0, every register +0.0 tagged zero (tag word 5555H). */
    void reset() {
        control = RESET_CONTROL;
        status = 0;
        top = 0;
        empty = 0;
        java.util.Arrays.fill(exponent, 0);
        java.util.Arrays.fill(significand, 0);
        fip = fcs = fop = fdp = fds = 0;
        mxcsr = MXCSR_DEFAULT;
    }

    /** FNINIT (SDM Vol. 2A "FINIT/FNINIT"): the registers keep their contents but are all tagged empty. */
    void initialize() {
        control = INIT_CONTROL;
        status = 0;
        top = 0;
        empty = 0xFF;
        fip = fcs = fop = fdp = fds = 0;
    }

    int statusWord() {
        return status & ~TOP_FIELD | top << 11;
    }

    int tag(int physical) {
        if ((empty >>> physical & 1) != 0) {
            return TAG_EMPTY;
        }
        return switch (ExtendedPrecision.classify(exponent[physical], significand[physical])) {
            case ExtendedPrecision.NORMAL -> TAG_VALID;
            case ExtendedPrecision.ZERO -> TAG_ZERO;
            default -> TAG_SPECIAL;
        };
    }

    int tagWord() {
        int word = 0;
        for (int i = 0; i < 8; i++) {
            word |= tag(i) << (2 * i);
        }
        return word;
    }

    // =============================================================================================================
    // Stack
    // =============================================================================================================

    private int physical(int st) {
        return (top + st) & 7;
    }

    private boolean isEmpty(int st) {
        return (empty >>> physical(st) & 1) != 0;
    }

    private void set(int physical, int se, long m) {
        exponent[physical] = se & 0xFFFF;
        significand[physical] = m;
        empty &= ~(1 << physical);
    }

    private void setIndefinite(int st) {
        set(physical(st), INDEFINITE_SE, INDEFINITE_M);
    }

    private void pop() {
        empty |= 1 << top;
        top = (top + 1) & 7;
    }

    private void push(int se, long m) {
        top = (top - 1) & 7;
        set(top, se, m);
    }

    /** Sets exception flags; ES and B follow whenever a set flag is unmasked (SDM Vol. 1, 8.1.3.1). */
    private void raise(int flags) {
        status |= flags & (EXCEPTIONS | SF);
        updateSummary();
    }

    private void updateSummary() {
        if ((status & ~control & EXCEPTIONS) != 0) {
            status |= ES | BUSY;
        } else {
            status &= ~(ES | BUSY);
        }
    }

    private boolean masked(int flag) {
        return (control & flag) != 0;
    }

    /** Stack underflow (SDM Vol. 1, 8.5.1.1): IE and SF with C1 = 0; true when masked, so the default result follows. */
    private boolean underflow() {
        status &= ~C1;
        raise(IE | SF);
        return masked(IE);
    }

    /** Pushes a value, or answers stack overflow (IE, SF, C1 = 1; masked: the real indefinite is pushed). */
    private void pushChecked(int se, long m) {
        if (!isEmpty(7)) {
            status |= C1;
            raise(IE | SF);
            if (masked(IE)) {
                push(INDEFINITE_SE, INDEFINITE_M);
            }
            return;
        }
        push(se, m);
    }

    /**
     * Stores the arithmetic result into a register unless an unmasked pre-computation exception (IE, DE, ZE) stops
     * the instruction (SDM Vol. 1, 8.5: destination and TOP unchanged); C1 is the round-up bit. True when stored.
     */
    private boolean commit(int physical) {
        int raised = fp.flags;
        if ((raised & ~control & (IE | DE | ZE)) != 0) {
            raise(raised & (IE | DE | ZE));
            return false;
        }
        set(physical, fp.se, fp.m);
        status |= raised & C1;
        raise(raised);
        return true;
    }

    /** True when an unmasked pre-computation exception was raised: it is recorded and the instruction ends. */
    private boolean stopped() {
        int raised = fp.flags & ~control & (IE | DE | ZE);
        if (raised != 0) {
            raise(fp.flags & (IE | DE | ZE));
            return true;
        }
        return false;
    }

    // =============================================================================================================
    // Dispatch
    // =============================================================================================================

    /** WAIT/FWAIT and every waiting x87 instruction: a pending unmasked exception is reported first (SDM 8.6). */
    void checkPendingException() {
        if ((status & ES) != 0 && (c.cr0 & Cpu.CR0_NE) != 0) {
            throw c.fault(Exceptions.MF, Exceptions.NO_ERROR_CODE);
        }
        // TODO: with CR0.NE = 0 a PC reports the error through FERR# and IRQ 13 (SDM Vol. 3A, 22.17.4, "MS-DOS
        // compatibility mode"); the model lets the instruction run as if IGNNE# were asserted.
    }

    /** One ESC instruction, D8-DF, after the #NM checks of CR0.EM and CR0.TS. */
    void execute(int op) {
        in.modrm();
        int modrm = c.modrmMod << 6 | c.modrmReg << 3 | c.modrmRm;
        if (OpcodeTable.x87(op, modrm) == null) {
            throw c.ud();
        }
        boolean memory = c.modrmMod != 3;
        int group = op & 7, reg = c.modrmReg;
        if (!noWait(group, memory, modrm)) {
            checkPendingException();
        }
        fp.control = control;
        fp.flags = 0;
        if (!controlInstruction(group, memory, modrm)) {
            status &= ~C1;
            fop = group << 8 | modrm;
            fip = c.startEip;
            fcs = c.segSel[Cpu.CS];
            if (memory) {
                fdp = c.eaOff;
                fds = c.segSel[c.eaSeg];
            }
        }
        if (memory) {
            switch (group) {
                case 0 -> arithmeticMemory(reg, readBinary(Format.SINGLE));
                case 1 -> memoryD9(reg);
                case 2 -> arithmeticMemory(reg, readInteger(4));
                case 3 -> memoryDB(reg);
                case 4 -> arithmeticMemory(reg, readBinary(Format.DOUBLE));
                case 5 -> memoryDD(reg);
                case 6 -> arithmeticMemory(reg, readInteger(2));
                default -> memoryDF(reg);
            }
        } else {
            int i = c.modrmRm;
            switch (group) {
                case 0 -> arithmeticRegisters(reg, 0, i, false);
                case 1 -> registerD9(reg, i, modrm);
                case 2 -> registerDA(reg, i);
                case 3 -> registerDB(reg, i, modrm);
                case 4 -> arithmeticRegisters(reg, i, 0, false);
                case 5 -> registerDD(reg, i);
                case 6 -> arithmeticRegisters(reg, i, 0, true);
                default -> registerDF(reg, i);
            }
        }
    }

    /** FNSTENV, FNSTCW, FNSAVE, FNSTSW, FNCLEX, FNINIT and the 8087/287 no-ops do not wait (SDM Vol. 1, 8.3.11). */
    private static boolean noWait(int group, boolean memory, int modrm) {
        if (memory) {
            int reg = modrm >>> 3 & 7;
            return (group == 1 || group == 5) && reg >= 6;
        }
        return group == 3 && modrm >= 0xE0 && modrm <= 0xE4 || group == 7 && modrm == 0xE0;
    }

    /** The control instructions leave the last-instruction pointers alone (SDM Vol. 1, 8.1.8). */
    private static boolean controlInstruction(int group, boolean memory, int modrm) {
        if (memory) {
            int reg = modrm >>> 3 & 7;
            return group == 1 && reg >= 4 || group == 5 && reg >= 4;
        }
        return noWait(group, false, modrm);
    }

    // =============================================================================================================
    // Memory operands
    // =============================================================================================================

    private int at(int delta) {
        return in.eaPlus(delta);
    }

    private long read64(int delta) {
        long lo = c.read32(c.eaSeg, at(delta)) & 0xFFFFFFFFL;
        return lo | (long) c.read32(c.eaSeg, at(delta + 4)) << 32;
    }

    private void write64(int delta, long value) {
        c.linearForWrite(c.eaSeg, at(delta), 8);
        c.write32(c.eaSeg, at(delta), (int) value);
        c.write32(c.eaSeg, at(delta + 4), (int) (value >>> 32));
    }

    private void write80(int delta, int se, long m) {
        c.linearForWrite(c.eaSeg, at(delta), 10);
        write64(delta, m);
        c.write16(c.eaSeg, at(delta + 8), se);
    }

    /** Reads a binary32/64 operand and converts it to extended in fp.se/fp.m (DE for a denormal). */
    private int readBinary(Format f) {
        long encoding = f == Format.SINGLE ? c.read32(c.eaSeg, c.eaOff) & 0xFFFFFFFFL : read64(0);
        fp.fromBinary(encoding, f);
        return fp.se;
    }

    /** Reads an m16/m32/m64 integer operand and converts it to extended in fp.se/fp.m (always exact). */
    private int readInteger(int bytes) {
        long v = switch (bytes) {
            case 2 -> (short) c.read16(c.eaSeg, c.eaOff);
            case 4 -> c.read32(c.eaSeg, c.eaOff);
            default -> read64(0);
        };
        fp.fromLong(v);
        return fp.se;
    }

    // =============================================================================================================
    // Arithmetic and comparison
    // =============================================================================================================

    /**
     * ST(dest) op value for ModRM.reg {@code r}: 0 add, 1 multiply, 4 dest - src, 5 src - dest, 6 dest / src,
     * 7 src / dest (SDM Vol. 2A, "FADD", "FMUL", "FSUB", "FSUBR", "FDIV", "FDIVR").
     */
    private void compute(int r, int dse, long dm, int sse, long sm) {
        int p = fp.precision();
        switch (r) {
            case 0 -> fp.add(dse, dm, sse, sm, false, p);
            case 1 -> fp.multiply(dse, dm, sse, sm, p);
            case 4 -> fp.add(dse, dm, sse, sm, true, p);
            case 5 -> fp.add(sse, sm, dse, dm, true, p);
            case 6 -> fp.divide(dse, dm, sse, sm, p);
            default -> fp.divide(sse, sm, dse, dm, p);
        }
    }

    /** D8, DA, DC, DE with a memory operand, already converted: its sign/exponent, and fp.m. */
    private void arithmeticMemory(int r, int sse) {
        long sm = fp.m;
        if (r == 2 || r == 3) {
            compareTop(sse, sm, false, r == 3 ? 1 : 0);
            return;
        }
        if (isEmpty(0)) {
            if (underflow()) {
                setIndefinite(0);
            }
            return;
        }
        int d = physical(0);
        compute(r, exponent[d], significand[d], sse, sm);
        commit(d);
    }

    /**
     * The register forms: D8 (dest ST(0), src ST(i)), DC and DE (dest ST(i), src ST(0); DE pops). In DC and DE the
     * reversed forms swap places (DC E8+i is FSUB ST(i),ST(0)), so ModRM.reg 4-7 flip their low bit there.
     */
    private void arithmeticRegisters(int r, int dest, int src, boolean pop) {
        if (r == 2 || r == 3) { // FCOM/FCOMP ST(i), the aliases FCOM2, FCOMP3, FCOMP5, and DE D9 FCOMPP
            int other = dest == 0 ? src : dest;
            compareRegisters(other, false, r == 3 && pop ? 2 : r == 3 || pop ? 1 : 0);
            return;
        }
        if (dest != 0 && r >= 4) {
            r ^= 1;
        }
        if (isEmpty(dest) || isEmpty(src)) {
            if (underflow()) {
                setIndefinite(dest);
                if (pop) {
                    pop();
                }
            }
            return;
        }
        int d = physical(dest), s = physical(src);
        compute(r, exponent[d], significand[d], exponent[s], significand[s]);
        if (commit(d) && pop) {
            pop();
        }
    }

    private void compareRegisters(int st, boolean unordered, int pops) {
        if (isEmpty(st)) {
            underflowCompare(pops);
            return;
        }
        int s = physical(st);
        compareTop(exponent[s], significand[s], unordered, pops);
    }

    /** A masked stack underflow in a compare: unordered, then the pops (SDM Vol. 2A "FCOM"). */
    private void underflowCompare(int pops) {
        if (underflow()) {
            setConditions(ExtendedPrecision.UNORDERED);
            popTimes(pops);
        }
    }

    private void popTimes(int pops) {
        for (int i = 0; i < pops; i++) {
            pop();
        }
    }

    /** ST(0) against a value: C3, C2, C0 (SDM Vol. 2A "FCOM" table), not set when an unmasked IE or DE stops it. */
    private void compareTop(int sse, long sm, boolean unordered, int pops) {
        if (isEmpty(0)) {
            underflowCompare(pops);
            return;
        }
        int t = physical(0);
        int result = fp.compare(exponent[t], significand[t], sse, sm, unordered);
        if (stopped()) {
            return;
        }
        setConditions(result);
        raise(fp.flags);
        popTimes(pops);
    }

    private void setConditions(int result) {
        int codes = switch (result) {
            case ExtendedPrecision.LESS -> C0;
            case ExtendedPrecision.EQUAL -> C3;
            case ExtendedPrecision.GREATER -> 0;
            default -> C3 | C2 | C0;
        };
        status = status & ~(C3 | C2 | C1 | C0) | codes;
    }

    /** FCOMI, FCOMIP, FUCOMI, FUCOMIP: the result in ZF, PF, CF; OF, SF, AF cleared (SDM Vol. 2A "FCOMI"). */
    private void compareIntoEflags(int st, boolean unordered, boolean pop) {
        int result;
        if (isEmpty(0) || isEmpty(st)) {
            if (!underflow()) {
                return;
            }
            result = ExtendedPrecision.UNORDERED;
        } else {
            int t = physical(0), s = physical(st);
            result = fp.compare(exponent[t], significand[t], exponent[s], significand[s], unordered);
            if (stopped()) {
                return;
            }
            raise(fp.flags);
        }
        int flags = switch (result) {
            case ExtendedPrecision.LESS -> Cpu.CF;
            case ExtendedPrecision.EQUAL -> Cpu.ZF;
            case ExtendedPrecision.GREATER -> 0;
            default -> Cpu.ZF | Cpu.PF | Cpu.CF;
        };
        c.setEflags(flags, Cpu.ZF | Cpu.PF | Cpu.CF | Cpu.OF | Cpu.SF | Cpu.AF);
        if (pop) {
            pop();
        }
    }

    // =============================================================================================================
    // D9, DB, DD, DF with a memory operand
    // =============================================================================================================

    private void memoryD9(int reg) {
        switch (reg) {
            case 0 -> load(readBinary(Format.SINGLE));
            case 2 -> storeBinary(Format.SINGLE, false);
            case 3 -> storeBinary(Format.SINGLE, true);
            case 4 -> loadEnvironment();
            case 5 -> {
                control = c.read16(c.eaSeg, c.eaOff) & 0x1F3F | 0x40; // bit 6 reads as one; 13-15 are reserved
                updateSummary();
            }
            case 6 -> {
                storeEnvironment();
                control |= EXCEPTIONS; // FSTENV masks every exception after the store (SDM Vol. 2A "FSTENV")
                updateSummary();
            }
            default -> c.write16(c.eaSeg, c.eaOff, control);
        }
    }

    private void memoryDB(int reg) {
        switch (reg) {
            case 0 -> load(readInteger(4));
            case 2 -> storeInteger(4, false);
            case 3 -> storeInteger(4, true);
            case 5 -> {
                long m = read64(0);
                int se = c.read16(c.eaSeg, at(8));
                pushChecked(se, m); // no exception for any 80-bit encoding (SDM Vol. 2A "FLD")
            }
            default -> { // 7: FSTP m80fp
                if (isEmpty(0)) {
                    if (underflow()) {
                        write80(0, INDEFINITE_SE, INDEFINITE_M);
                        pop();
                    }
                    return;
                }
                int t = physical(0);
                write80(0, exponent[t], significand[t]);
                pop();
            }
        }
    }

    private void memoryDD(int reg) {
        switch (reg) {
            case 0 -> load(readBinary(Format.DOUBLE));
            case 2 -> storeBinary(Format.DOUBLE, false);
            case 3 -> storeBinary(Format.DOUBLE, true);
            case 4 -> restoreState();
            case 6 -> saveState();
            default -> c.write16(c.eaSeg, c.eaOff, statusWord());
        }
    }

    private void memoryDF(int reg) {
        switch (reg) {
            case 0 -> load(readInteger(2));
            case 2 -> storeInteger(2, false);
            case 3 -> storeInteger(2, true);
            case 4 -> loadBcd();
            case 5 -> load(readInteger(8));
            case 6 -> storeBcd();
            default -> storeInteger(8, true);
        }
    }

    /** FLD m32fp/m64fp and FILD: push the converted value; an SNaN raises IE and is pushed quiet (SDM "FLD"). */
    private void load(int se) {
        long m = fp.m;
        if (ExtendedPrecision.classify(se, m) == ExtendedPrecision.SNAN) {
            fp.flags |= IE;
            m |= ExtendedPrecision.QUIET;
        }
        if (stopped()) {
            return;
        }
        raise(fp.flags);
        pushChecked(se, m);
    }

    /** FST/FSTP m32fp/m64fp (SDM Vol. 2A "FST/FSTP"): unmasked IE, OE or UE leave memory and the stack unchanged. */
    private void storeBinary(Format f, boolean pop) {
        if (isEmpty(0)) {
            if (underflow()) {
                writeBinary(f, ExtendedPrecision.indefinite(f));
                popIf(pop);
            }
            return;
        }
        int t = physical(0);
        if (!fp.toBinary(exponent[t], significand[t], f)) {
            raise(fp.flags);
            return;
        }
        writeBinary(f, fp.bits);
        status |= fp.flags & C1;
        raise(fp.flags);
        popIf(pop);
    }

    private void writeBinary(Format f, long encoding) {
        if (f == Format.SINGLE) {
            c.write32(c.eaSeg, c.eaOff, (int) encoding);
        } else {
            write64(0, encoding);
        }
    }

    private void popIf(boolean pop) {
        if (pop) {
            pop();
        }
    }

    /** FIST/FISTP m16/m32/m64int (SDM Vol. 2A "FIST/FISTP"): out of range gives IE and the integer indefinite. */
    private void storeInteger(int bytes, boolean pop) {
        long limit = bytes == 2 ? Short.MAX_VALUE : bytes == 4 ? Integer.MAX_VALUE : Long.MAX_VALUE;
        long value;
        if (isEmpty(0)) {
            if (!underflow()) {
                return;
            }
            value = -limit - 1;
        } else {
            int t = physical(0);
            fp.toInteger(exponent[t], significand[t], limit);
            if (stopped()) {
                return;
            }
            value = fp.bits;
        }
        switch (bytes) {
            case 2 -> c.write16(c.eaSeg, c.eaOff, (int) value);
            case 4 -> c.write32(c.eaSeg, c.eaOff, (int) value);
            default -> write64(0, value);
        }
        status |= fp.flags & C1;
        raise(fp.flags);
        popIf(pop);
    }

    private static final BigInteger TEN = BigInteger.TEN;
    private static final long BCD_LIMIT = 999_999_999_999_999_999L;

    /** FBLD (SDM Vol. 2A "FBLD"): 18 packed BCD digits and a sign byte, converted exactly. */
    private void loadBcd() {
        long low = read64(0);
        int high = c.read16(c.eaSeg, at(8));
        long value = 0;
        for (int digit = 17; digit >= 0; digit--) {
            int nibble = digit >= 16 ? high >>> (4 * (digit - 16)) & 0xF : (int) (low >>> (4 * digit)) & 0xF;
            value = value * 10 + nibble; // invalid digits give an undefined result: any will do
        }
        fp.fromInteger((high & 0x8000) != 0, value);
        pushChecked(fp.se, fp.m);
    }

    /** FBSTP (SDM Vol. 2A "FBSTP"): rounded by RC; beyond 18 digits, NaN or infinity: IE and the BCD indefinite. */
    private void storeBcd() {
        long low;
        int high;
        boolean valid;
        if (isEmpty(0)) {
            if (!underflow()) {
                return;
            }
            valid = false;
        } else {
            int t = physical(0);
            fp.toInteger(exponent[t], significand[t], Long.MAX_VALUE);
            valid = (fp.flags & IE) == 0 && Math.abs(fp.bits) <= BCD_LIMIT && fp.bits != Long.MIN_VALUE;
            if (!valid) {
                fp.flags = fp.flags & ~(ExtendedPrecision.PE | C1) | IE;
                if (stopped()) {
                    return;
                }
            }
        }
        if (valid) {
            long magnitude = Math.abs(fp.bits);
            low = 0;
            for (int digit = 0; digit < 16; digit++) {
                low |= (magnitude % 10) << (4 * digit);
                magnitude /= 10;
            }
            high = (int) (magnitude % 10 | (magnitude / 10) << 4) | (ExtendedPrecision.negative(exponent[physical(0)]) ? 0x8000 : 0);
        } else {
            low = 0xC000_0000_0000_0000L; // the packed BCD integer indefinite (SDM Vol. 1, Table 4-4)
            high = 0xFFFF;
        }
        write64(0, low);
        c.write16(c.eaSeg, at(8), high);
        status |= fp.flags & C1;
        raise(fp.flags);
        pop();
    }

    // =============================================================================================================
    // Register forms of D9, DA, DB, DD, DF
    // =============================================================================================================

    private void registerD9(int reg, int i, int modrm) {
        switch (reg) {
            case 0 -> { // FLD ST(i)
                if (isEmpty(i)) {
                    if (underflow()) {
                        pushChecked(INDEFINITE_SE, INDEFINITE_M);
                    }
                    return;
                }
                int s = physical(i);
                pushChecked(exponent[s], significand[s]);
            }
            case 1 -> exchange(i);
            case 2 -> { } // FNOP
            case 3 -> storeRegister(i, true); // FSTP1, an alias of FSTP ST(i)
            case 4 -> signOrTest(modrm);
            case 5 -> loadConstant(modrm & 7);
            case 6 -> miscellaneousF0(modrm & 7);
            default -> miscellaneousF8(modrm & 7);
        }
    }

    /** FXCH (SDM Vol. 2A "FXCH"): an empty operand underflows; masked, it reads as the real indefinite. */
    private void exchange(int i) {
        if (isEmpty(0) || isEmpty(i)) {
            if (!underflow()) {
                return;
            }
            if (isEmpty(0)) {
                setIndefinite(0);
            }
            if (isEmpty(i)) {
                setIndefinite(i);
            }
        }
        int a = physical(0), b = physical(i);
        int se = exponent[a];
        long m = significand[a];
        set(a, exponent[b], significand[b]);
        set(b, se, m);
    }

    /** FST/FSTP ST(i) and their aliases: a plain copy, no exception beyond underflow. */
    private void storeRegister(int i, boolean pop) {
        if (isEmpty(0)) {
            if (underflow()) {
                setIndefinite(i);
                popIf(pop);
            }
            return;
        }
        int t = physical(0);
        set(physical(i), exponent[t], significand[t]);
        popIf(pop);
    }

    /** D9 E0 FCHS, E1 FABS, E4 FTST, E5 FXAM. */
    private void signOrTest(int modrm) {
        int op = modrm & 7;
        if (op == 5) {
            examine();
            return;
        }
        if (op == 4) {
            compareTop(0, 0, false, 0);
            return;
        }
        if (isEmpty(0)) {
            if (underflow()) {
                setIndefinite(0);
            }
            return;
        }
        int t = physical(0);
        exponent[t] = op == 0 ? exponent[t] ^ 0x8000 : exponent[t] & 0x7FFF;
    }

    /** FXAM (SDM Vol. 2A "FXAM"): C1 the sign, C3 C2 C0 the class. */
    private void examine() {
        int t = physical(0);
        int codes;
        if (isEmpty(0)) {
            codes = C3 | C0;
        } else {
            codes = switch (ExtendedPrecision.classify(exponent[t], significand[t])) {
                case ExtendedPrecision.UNSUPPORTED -> 0;
                case ExtendedPrecision.QNAN, ExtendedPrecision.SNAN -> C0;
                case ExtendedPrecision.NORMAL -> C2;
                case ExtendedPrecision.INFINITY -> C2 | C0;
                case ExtendedPrecision.ZERO -> C3;
                default -> C3 | C2; // denormal
            };
        }
        if (ExtendedPrecision.negative(exponent[t])) {
            codes |= C1;
        }
        status = status & ~(C3 | C2 | C1 | C0) | codes;
    }

    // The constants to 128 bits (SDM Vol. 1, 8.3.8), rounded by RC when loaded: exponent, high and low significand.
    private static final long[] PI = constant("3.243F6A8885A308D313198A2E03707344A4093822299F31D008");
    private static final long[] LOG2_E = constant("1.71547652B82FE1777D0FFDA0D23A7D11D6AEF551BAD2B4B1164A");
    private static final long[] LOG2_10 = constant("3.5269E12F346E2BF924AFDBFD36BF6D3349B8A0E1CD7F4F0D");
    private static final long[] LOG10_2 = constant("0.4D104D427DE7FBCC47C4ACD605BE48BC13356C8F9D8F4D7E");
    private static final long[] LN_2 = constant("0.B17217F7D1CF79ABC9E3B39803F2F6AF40F343267298B62D8A0D");

    /** A hexadecimal fraction as {exponent, 64 high bits, 64 low bits} of a significand with bit 127 set. */
    static long[] constant(String hex) {
        int point = hex.indexOf('.');
        String digits = hex.substring(0, point) + hex.substring(point + 1);
        BigInteger v = new BigInteger(digits, 16);
        int fractionBits = 4 * (digits.length() - point);
        int length = v.bitLength();
        BigInteger aligned = length >= 128 ? v.shiftRight(length - 128) : v.shiftLeft(128 - length);
        return new long[] {length - 1 - fractionBits, aligned.shiftRight(64).longValue(), aligned.longValue()};
    }

    /** D9 E8-EE: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ. */
    private void loadConstant(int which) {
        long[] k = switch (which) {
            case 1 -> LOG2_10;
            case 2 -> LOG2_E;
            case 3 -> PI;
            case 4 -> LOG10_2;
            case 5 -> LN_2;
            default -> null;
        };
        if (which == 0) {
            pushChecked(ExtendedPrecision.BIAS, J);
        } else if (which == 6) {
            pushChecked(0, 0);
        } else {
            fp.constant((int) k[0], k[1], k[2]);
            pushChecked(fp.se, fp.m);
        }
    }

    private void registerDA(int reg, int i) {
        if (reg == 5) { // DA E9: FUCOMPP
            compareRegisters(1, true, 2);
            return;
        }
        conditionalMove(i, switch (reg) {
            case 0 -> Alu.cf(c);
            case 1 -> Alu.zf(c);
            case 2 -> Alu.cf(c) || Alu.zf(c);
            default -> (c.eflags() & Cpu.PF) != 0;
        });
    }

    /** FCMOVcc (SDM Vol. 2A "FCMOVcc"). */
    private void conditionalMove(int i, boolean condition) {
        if (isEmpty(0) || isEmpty(i)) {
            if (underflow()) {
                setIndefinite(0);
            }
            return;
        }
        if (condition) {
            int s = physical(i);
            set(physical(0), exponent[s], significand[s]);
        }
    }

    private void registerDB(int reg, int i, int modrm) {
        switch (reg) {
            case 0 -> conditionalMove(i, !Alu.cf(c));
            case 1 -> conditionalMove(i, !Alu.zf(c));
            case 2 -> conditionalMove(i, !(Alu.cf(c) || Alu.zf(c)));
            case 3 -> conditionalMove(i, (c.eflags() & Cpu.PF) == 0);
            case 4 -> {
                if (modrm == 0xE2) { // FNCLEX
                    status &= ~(EXCEPTIONS | SF | ES | BUSY);
                } else if (modrm == 0xE3) {
                    initialize();
                } // E0 FNENI, E1 FNDISI, E4 FNSETPM: no operation on a 387 and later
            }
            case 5 -> compareIntoEflags(i, true, false);
            default -> compareIntoEflags(i, false, false);
        }
    }

    private void registerDD(int reg, int i) {
        switch (reg) {
            case 0 -> empty |= 1 << physical(i); // FFREE
            case 1 -> exchange(i); // FXCH4 alias
            case 2 -> storeRegister(i, false);
            case 3 -> storeRegister(i, true);
            case 4 -> compareRegisters(i, true, 0);
            default -> compareRegisters(i, true, 1);
        }
    }

    private void registerDF(int reg, int i) {
        switch (reg) {
            case 0 -> { // FFREEP
                empty |= 1 << physical(i);
                pop();
            }
            case 1 -> exchange(i); // FXCH7 alias
            case 2, 3 -> storeRegister(i, true); // FSTP8, FSTP9 aliases
            case 4 -> Cpu.writeRegister(c.reg, Cpu.EAX, Alu.WORD, statusWord()); // FNSTSW AX
            case 5 -> compareIntoEflags(i, true, true);
            default -> compareIntoEflags(i, false, true);
        }
    }

    // =============================================================================================================
    // D9 F0-FF
    // =============================================================================================================

    private void miscellaneousF0(int op) {
        switch (op) {
            case 0 -> unaryTranscendental(0); // F2XM1
            case 1 -> logarithm(false); // FYL2X
            case 2 -> tangent();
            case 3 -> arctangent();
            case 4 -> extract();
            case 5 -> partialRemainder(true);
            case 6 -> top = (top - 1) & 7; // FDECSTP
            default -> top = (top + 1) & 7; // FINCSTP
        }
    }

    private void miscellaneousF8(int op) {
        switch (op) {
            case 0 -> partialRemainder(false);
            case 1 -> logarithm(true); // FYL2XP1
            case 2 -> unaryTop(0);
            case 3 -> sineAndCosine();
            case 4 -> unaryTop(1);
            case 5 -> scale();
            case 6 -> unaryTranscendental(1); // FSIN
            default -> unaryTranscendental(2); // FCOS
        }
    }

    /** FSQRT (0) or FRNDINT (1) on ST(0). */
    private void unaryTop(int which) {
        if (isEmpty(0)) {
            if (underflow()) {
                setIndefinite(0);
            }
            return;
        }
        int t = physical(0);
        if (which == 0) {
            fp.squareRoot(exponent[t], significand[t], fp.precision());
        } else {
            fp.roundToIntegral(exponent[t], significand[t]);
        }
        commit(t);
    }

    /** Both ST(0) and ST(1) for the two-operand instructions; false (after the underflow response) if empty. */
    private boolean twoOperands(boolean popOnUnderflow, int destination) {
        if (!isEmpty(0) && !isEmpty(1)) {
            return true;
        }
        if (underflow()) {
            setIndefinite(destination);
            popIf(popOnUnderflow);
        }
        return false;
    }

    /** FPREM (truncating) and FPREM1 (nearest): ST(0) rem ST(1), the quotient's low bits in C0, C3, C1. */
    private void partialRemainder(boolean nearest) {
        if (!twoOperands(false, 0)) {
            return;
        }
        int t = physical(0), s = physical(1);
        int codes = fp.remainder(exponent[t], significand[t], exponent[s], significand[s], nearest);
        fp.flags &= ~C1; // the remainder is exact: C1 is the quotient's bit 0 here
        if (commit(t)) {
            status = status & ~(C3 | C2 | C1 | C0) | Math.max(codes, 0);
        }
    }

    /** FSCALE (SDM Vol. 2A "FSCALE"): ST(0) * 2^trunc(ST(1)). */
    private void scale() {
        if (!twoOperands(false, 0)) {
            return;
        }
        int t = physical(0), s = physical(1);
        int tse = exponent[t], sse = exponent[s];
        long tm = significand[t], sm = significand[s];
        int ct = ExtendedPrecision.classify(tse, tm), cs = ExtendedPrecision.classify(sse, sm);
        if (ct == ExtendedPrecision.UNSUPPORTED || cs == ExtendedPrecision.UNSUPPORTED
                || ExtendedPrecision.isNaN(ct) || ExtendedPrecision.isNaN(cs)) {
            fp.add(tse, tm, sse, sm, false, 64); // the invalid-operand and NaN responses of any operation
        } else if (cs == ExtendedPrecision.INFINITY) {
            boolean down = ExtendedPrecision.negative(sse);
            if (down ? ct == ExtendedPrecision.INFINITY : ct == ExtendedPrecision.ZERO) {
                fp.flags |= IE;
                fp.se = INDEFINITE_SE;
                fp.m = INDEFINITE_M;
            } else {
                fp.flags |= ct == ExtendedPrecision.DENORMAL ? DE : 0;
                fp.se = tse & 0x8000 | (down || ct == ExtendedPrecision.ZERO ? 0 : ExtendedPrecision.MAX_EXPONENT);
                fp.m = down || ct == ExtendedPrecision.ZERO ? 0 : J;
            }
        } else {
            if (cs == ExtendedPrecision.DENORMAL) {
                fp.flags |= DE;
            }
            fp.scale(tse, tm, truncate(sse, sm));
        }
        commit(t);
    }

    /** An extended value truncated toward zero, as a long clamped far beyond any exponent range. */
    private static long truncate(int se, long m) {
        int e = (se & 0x7FFF) - ExtendedPrecision.BIAS;
        if (e < 0 || m == 0) {
            return 0;
        }
        long magnitude = e >= 30 ? 1L << 30 : m >>> (63 - e);
        return ExtendedPrecision.negative(se) ? -magnitude : magnitude;
    }

    /** FXTRACT (SDM Vol. 2A "FXTRACT"): ST(0) becomes the exponent, then the significand is pushed. */
    private void extract() {
        if (!readyToReplaceAndPush(false)) {
            return;
        }
        int t = physical(0);
        int se = exponent[t];
        long m = significand[t];
        int cls = ExtendedPrecision.classify(se, m);
        int exponentSe, significandSe;
        long exponentM, significandM;
        if (cls == ExtendedPrecision.ZERO) {
            fp.flags |= ZE;
            exponentSe = 0x8000 | ExtendedPrecision.MAX_EXPONENT; // -infinity
            exponentM = J;
            significandSe = se;
            significandM = m;
        } else if (cls == ExtendedPrecision.INFINITY) {
            exponentSe = ExtendedPrecision.MAX_EXPONENT;
            exponentM = J;
            significandSe = se;
            significandM = m;
        } else if (cls == ExtendedPrecision.NORMAL || cls == ExtendedPrecision.DENORMAL) {
            if (cls == ExtendedPrecision.DENORMAL) {
                fp.flags |= DE;
            }
            fp.extract(se, m);
            significandSe = fp.se;
            significandM = fp.m;
            fp.fromLong(fp.bits);
            exponentSe = fp.se;
            exponentM = fp.m;
        } else {
            fp.add(se, m, 0, 0, false, 64); // IE for an unsupported value or SNaN; the NaN
            exponentSe = significandSe = fp.se;
            exponentM = significandM = fp.m;
        }
        replaceAndPush(t, exponentSe, exponentM, significandSe, significandM);
    }

    // =============================================================================================================
    // Transcendentals: StrictMath on doubles, so the lowest bits of a result may differ from silicon's (which are
    // themselves approximations within 1 ulp); zeros, infinities, NaNs and the operand range checks are exact.
    // =============================================================================================================

    private static final double LN2 = 0.6931471805599453;
    /** |x| >= 2^63 is out of range for FSIN, FCOS, FSINCOS and FPTAN: C2 = 1 and ST(0) unchanged. */
    private static final int RANGE_EXPONENT = ExtendedPrecision.BIAS + 63;

    private boolean outOfRange(int se) {
        if ((se & 0x7FFF) >= RANGE_EXPONENT && (se & 0x7FFF) != ExtendedPrecision.MAX_EXPONENT) {
            status |= C2;
            return true;
        }
        status &= ~C2;
        return false;
    }

    /**
     * The NaN, unsupported and infinity responses of a one-operand function (IE for infinities when
     * {@code infinityInvalid}); true when fp holds the result.
     */
    private boolean special(int se, long m, boolean infinityInvalid) {
        int cls = ExtendedPrecision.classify(se, m);
        if (cls == ExtendedPrecision.UNSUPPORTED || ExtendedPrecision.isNaN(cls)) {
            fp.add(se, m, 0, 0, false, 64);
            return true;
        }
        if (cls == ExtendedPrecision.INFINITY && infinityInvalid) {
            fp.flags |= IE;
            fp.se = INDEFINITE_SE;
            fp.m = INDEFINITE_M;
            return true;
        }
        if (cls == ExtendedPrecision.ZERO) {
            fp.se = se;
            fp.m = m;
            return true;
        }
        if (cls == ExtendedPrecision.DENORMAL) {
            fp.flags |= DE;
        }
        return false;
    }

    /** F2XM1 (0), FSIN (1), FCOS (2) on ST(0). */
    private void unaryTranscendental(int which) {
        if (isEmpty(0)) {
            if (underflow()) {
                setIndefinite(0);
            }
            return;
        }
        int t = physical(0);
        int se = exponent[t];
        long m = significand[t];
        if (which != 0 && outOfRange(se)) {
            return;
        }
        int cls = ExtendedPrecision.classify(se, m);
        if (which == 2 && cls == ExtendedPrecision.ZERO) {
            fp.se = ExtendedPrecision.BIAS;
            fp.m = J; // cos(+-0) = 1
        } else if (which == 0 && cls == ExtendedPrecision.INFINITY) {
            boolean negative = ExtendedPrecision.negative(se);
            fp.se = negative ? 0x8000 | ExtendedPrecision.BIAS : se; // 2^-inf - 1 = -1, 2^+inf - 1 = +inf
            fp.m = J;
        } else if (!special(se, m, true)) {
            double x = ExtendedPrecision.toDouble(se, m);
            double r = switch (which) {
                case 0 -> StrictMath.expm1(x * LN2);
                case 1 -> StrictMath.sin(x);
                default -> StrictMath.cos(x);
            };
            if (which != 2 && Math.abs(x) < 0x1p-60) { // tiny: 2^x - 1 = x ln 2, sin x = x, beyond double's reach
                fp.multiply(se, m, which == 0 ? lnTwoSe() : ExtendedPrecision.BIAS, which == 0 ? lnTwoM() : J, 64);
                fp.flags |= ExtendedPrecision.PE;
            } else {
                fp.approximate(r);
            }
        }
        commit(t);
    }

    private static int lnTwoSe() {
        return (int) LN_2[0] + ExtendedPrecision.BIAS;
    }

    private static long lnTwoM() {
        return LN_2[1];
    }

    /** FSINCOS: ST(0) <- sin, then cos pushed. */
    private void sineAndCosine() {
        if (!readyToReplaceAndPush(true)) {
            return;
        }
        int t = physical(0);
        int se = exponent[t];
        long m = significand[t];
        int sinSe, cosSe;
        long sinM, cosM;
        if (special(se, m, true)) {
            sinSe = fp.se;
            sinM = fp.m;
            if (ExtendedPrecision.classify(se, m) == ExtendedPrecision.ZERO) {
                cosSe = ExtendedPrecision.BIAS;
                cosM = J;
            } else {
                cosSe = fp.se;
                cosM = fp.m;
            }
        } else {
            double x = ExtendedPrecision.toDouble(se, m);
            fp.approximate(StrictMath.sin(x));
            sinSe = fp.se;
            sinM = fp.m;
            fp.approximate(StrictMath.cos(x));
            cosSe = fp.se;
            cosM = fp.m;
        }
        replaceAndPush(t, sinSe, sinM, cosSe, cosM);
    }

    /**
     * The checks of the instructions that replace ST(0) and push a second result (FSINCOS, FPTAN, FXTRACT): stack
     * underflow (masked: the indefinite twice), the operand range of the trigonometric ones, and stack overflow.
     * False when the instruction is over.
     */
    private boolean readyToReplaceAndPush(boolean rangeChecked) {
        if (isEmpty(0)) {
            if (underflow()) {
                setIndefinite(0);
                pushChecked(INDEFINITE_SE, INDEFINITE_M);
            }
            return false;
        }
        if (rangeChecked && outOfRange(exponent[physical(0)])) {
            return false;
        }
        if (!isEmpty(7)) {
            pushChecked(0, 0); // the stack overflow response
            return false;
        }
        return true;
    }

    private void replaceAndPush(int t, int firstSe, long firstM, int pushedSe, long pushedM) {
        if (stopped()) {
            return;
        }
        set(t, firstSe, firstM);
        push(pushedSe, pushedM);
        raise(fp.flags);
    }

    /** FPTAN: ST(0) <- tan, then 1.0 pushed (SDM Vol. 2A "FPTAN"). */
    private void tangent() {
        if (!readyToReplaceAndPush(true)) {
            return;
        }
        int t = physical(0);
        int se = exponent[t];
        long m = significand[t];
        if (!special(se, m, true)) {
            fp.approximate(StrictMath.tan(ExtendedPrecision.toDouble(se, m)));
        }
        boolean invalid = ExtendedPrecision.isNaN(ExtendedPrecision.classify(fp.se, fp.m));
        replaceAndPush(t, fp.se, fp.m, invalid ? fp.se : ExtendedPrecision.BIAS, invalid ? fp.m : J);
    }

    /** FPATAN: ST(1) <- atan2(ST(1), ST(0)), pop. */
    private void arctangent() {
        if (!twoOperands(true, 1)) {
            return;
        }
        int t = physical(0), s = physical(1);
        int xse = exponent[t], yse = exponent[s];
        long xm = significand[t], ym = significand[s];
        int cx = ExtendedPrecision.classify(xse, xm), cy = ExtendedPrecision.classify(yse, ym);
        if (cx == ExtendedPrecision.UNSUPPORTED || cy == ExtendedPrecision.UNSUPPORTED
                || ExtendedPrecision.isNaN(cx) || ExtendedPrecision.isNaN(cy)) {
            fp.add(yse, ym, xse, xm, false, 64);
        } else {
            if (cx == ExtendedPrecision.DENORMAL || cy == ExtendedPrecision.DENORMAL) {
                fp.flags |= DE;
            }
            double r = StrictMath.atan2(ExtendedPrecision.toDouble(yse, ym), ExtendedPrecision.toDouble(xse, xm));
            if (r == 0) {
                fp.fromDouble(r); // atan2(+-0, +x) and atan2(+-y, +inf) are exact zeros
            } else {
                fp.approximate(r);
            }
        }
        if (commit(s)) {
            pop();
        }
    }

    /** FYL2X: ST(1) <- ST(1) * log2(ST(0)); FYL2XP1: ST(1) * log2(ST(0) + 1); then pop. */
    private void logarithm(boolean plusOne) {
        if (!twoOperands(true, 1)) {
            return;
        }
        int t = physical(0), s = physical(1);
        int xse = exponent[t], yse = exponent[s];
        long xm = significand[t], ym = significand[s];
        int cx = ExtendedPrecision.classify(xse, xm), cy = ExtendedPrecision.classify(yse, ym);
        boolean xNegative = ExtendedPrecision.negative(xse);
        if (cx == ExtendedPrecision.UNSUPPORTED || cy == ExtendedPrecision.UNSUPPORTED
                || ExtendedPrecision.isNaN(cx) || ExtendedPrecision.isNaN(cy)) {
            fp.add(yse, ym, xse, xm, false, 64);
        } else if (!plusOne && xNegative && cx != ExtendedPrecision.ZERO) {
            fp.flags |= IE; // the logarithm of a negative number
            fp.se = INDEFINITE_SE;
            fp.m = INDEFINITE_M;
        } else {
            if (cx == ExtendedPrecision.DENORMAL) {
                fp.flags |= DE;
            }
            int lse;
            long lm;
            if (cx == ExtendedPrecision.ZERO) {
                if (plusOne) { // log2(1 +- 0) = +-0
                    lse = xse;
                    lm = 0;
                } else { // log2(0) = -infinity: dividing by zero unless y is zero or infinite
                    lse = 0x8000 | ExtendedPrecision.MAX_EXPONENT;
                    lm = J;
                    if (cy != ExtendedPrecision.ZERO && cy != ExtendedPrecision.INFINITY) {
                        fp.flags |= ZE;
                    }
                }
            } else if (cx == ExtendedPrecision.INFINITY) {
                if (plusOne && xNegative) {
                    lse = INDEFINITE_SE;
                    lm = INDEFINITE_M;
                    fp.flags |= IE;
                } else {
                    lse = ExtendedPrecision.MAX_EXPONENT;
                    lm = J;
                }
            } else {
                double x = ExtendedPrecision.toDouble(xse, xm);
                if (plusOne && Math.abs(x) < 0x1p-60) { // log2(1 + x) = x / ln 2 = x log2(e)
                    fp.multiply(xse, xm, (int) LOG2_E[0] + ExtendedPrecision.BIAS, LOG2_E[1], 64);
                } else {
                    double l = plusOne ? StrictMath.log1p(x) / LN2 : log2(xse, xm);
                    if (plusOne && x <= -1) {
                        fp.flags |= IE;
                    }
                    fp.fromDouble(l);
                }
                lse = fp.se;
                lm = fp.m;
                if (!(l2IsExact(xse, xm) && !plusOne)) {
                    fp.flags |= ExtendedPrecision.PE;
                }
            }
            if ((fp.flags & IE) != 0) {
                fp.se = INDEFINITE_SE;
                fp.m = INDEFINITE_M;
            } else {
                fp.multiply(yse, ym, lse, lm, 64);
            }
        }
        if (commit(s)) {
            pop();
        }
    }

    /** log2 of a finite positive value: the exponent plus the logarithm of the significand in [1, 2). */
    private static double log2(int se, long m) {
        int shift = Long.numberOfLeadingZeros(m);
        int e = Math.max(se & 0x7FFF, 1) - ExtendedPrecision.BIAS - shift;
        double significand = ExtendedPrecision.toDouble(ExtendedPrecision.BIAS, m << shift);
        return e + StrictMath.log(significand) / LN2;
    }

    /** Powers of two have exact logarithms. */
    private static boolean l2IsExact(int se, long m) {
        return m << Long.numberOfLeadingZeros(m) == J && (se & 0x8000) == 0;
    }

    // =============================================================================================================
    // Environment and state images (SDM Vol. 1, 8.1.10, Figures 8-9 to 8-12)
    // =============================================================================================================

    private boolean realFormat() {
        return !c.protectedMode() || c.v86Mode();
    }

    private int environmentSize() {
        return c.opSize32 ? 28 : 14;
    }

    private void write(int delta, int bytes, int value) {
        if (bytes == 4) {
            c.write32(c.eaSeg, at(delta), value);
        } else {
            c.write16(c.eaSeg, at(delta), value);
        }
    }

    private int read(int delta, int bytes) {
        return bytes == 4 ? c.read32(c.eaSeg, at(delta)) : c.read16(c.eaSeg, at(delta));
    }

    /** FNSTENV, and the first part of FNSAVE: the 14- or 28-byte environment in the current mode's format. */
    private void storeEnvironment() {
        int w = c.opSize32 ? 4 : 2;
        c.linearForWrite(c.eaSeg, c.eaOff, environmentSize());
        write(0, w, control);
        write(w, w, statusWord());
        write(2 * w, w, tagWord());
        if (realFormat()) { // linear pointers, the opcode beside the high bits of the instruction pointer
            int ip = (fcs << 4) + fip, dp = (fds << 4) + fdp;
            int high = w == 4 ? 0xFFFF : 0xF;
            write(3 * w, w, ip & 0xFFFF);
            write(4 * w, w, (ip >>> 16 & high) << 12 | fop & 0x7FF);
            write(5 * w, w, dp & 0xFFFF);
            write(6 * w, w, (dp >>> 16 & high) << 12);
        } else if (w == 4) {
            write(12, 4, fip);
            write(16, 4, fcs & 0xFFFF | (fop & 0x7FF) << 16);
            write(20, 4, fdp);
            write(24, 4, fds & 0xFFFF);
        } else {
            write(6, 2, fip);
            write(8, 2, fcs);
            write(10, 2, fdp);
            write(12, 2, fds);
        }
    }

    /** FLDENV, and the first part of FRSTOR: every field is read before any is loaded. */
    private void loadEnvironment() {
        int w = c.opSize32 ? 4 : 2;
        int cw = read(0, w), sw = read(w, w), tw = read(2 * w, w);
        int ip, cs, op, dp, ds;
        if (realFormat()) {
            int ipHigh = read(4 * w, w), dpHigh = read(6 * w, w);
            ip = read(3 * w, w) & 0xFFFF | (ipHigh >>> 12) << 16;
            op = ipHigh & 0x7FF;
            dp = read(5 * w, w) & 0xFFFF | (dpHigh >>> 12) << 16;
            cs = ds = 0;
        } else if (w == 4) {
            ip = read(12, 4);
            int selectorAndOpcode = read(16, 4);
            cs = selectorAndOpcode & 0xFFFF;
            op = selectorAndOpcode >>> 16 & 0x7FF;
            dp = read(20, 4);
            ds = read(24, 4) & 0xFFFF;
        } else {
            ip = read(6, 2);
            cs = read(8, 2);
            dp = read(10, 2);
            ds = read(12, 2);
            op = 0;
        }
        loadEnvironment(cw, sw, tw, ip, cs, op, dp, ds);
    }

    private void loadEnvironment(int cw, int sw, int tw, int ip, int cs, int op, int dp, int ds) {
        control = cw & 0x1F3F | 0x40;
        top = sw >>> 11 & 7;
        status = sw & 0xFFFF & ~TOP_FIELD;
        empty = 0;
        for (int i = 0; i < 8; i++) {
            if ((tw >>> (2 * i) & 3) == TAG_EMPTY) { // only empty or not counts (SDM Vol. 3A, 22.18.4)
                empty |= 1 << i;
            }
        }
        fip = ip;
        fcs = cs;
        fop = op;
        fdp = dp;
        fds = ds;
        updateSummary();
    }

    /** FNSAVE: the environment, ST(0)-ST(7), then FNINIT (SDM Vol. 2A "FSAVE/FNSAVE"). */
    private void saveState() {
        int base = environmentSize();
        c.linearForWrite(c.eaSeg, c.eaOff, base + 80);
        storeEnvironment();
        for (int i = 0; i < 8; i++) {
            int p = physical(i);
            write80(base + 10 * i, exponent[p], significand[p]);
        }
        initialize();
    }

    /** FRSTOR: the registers follow the environment in stack order, ST(0) first. */
    private void restoreState() {
        int base = environmentSize();
        for (int i = 0; i < 8; i++) {
            loadedSignificand[i] = read64(base + 10 * i);
            loadedExponent[i] = c.read16(c.eaSeg, at(base + 10 * i + 8));
        }
        loadEnvironment();
        for (int i = 0; i < 8; i++) {
            int p = physical(i);
            exponent[p] = loadedExponent[i];
            significand[p] = loadedSignificand[i];
        }
    }

    // =============================================================================================================
    // FXSAVE and FXRSTOR (SDM Vol. 2A "FXSAVE", "FXRSTOR"; Vol. 1, 10.5.1, Table 10-2)
    // =============================================================================================================

    /** 0F AE /0 and /1; the other forms of the group are SSE and SSE2 instructions, which the model lacks. */
    void fxsaveGroup() {
        in.modrm();
        int reg = c.modrmReg;
        if (c.modrmMod == 3 || reg > 1) {
            throw c.ud();
        }
        if ((c.cr0 & (Cpu.CR0_EM | Cpu.CR0_TS)) != 0) {
            throw c.fault(Exceptions.NM, Exceptions.NO_ERROR_CODE);
        }
        if (((c.segBase[c.eaSeg] + c.eaOff) & 15) != 0) {
            throw c.gp(0);
        }
        if (reg == 0) {
            fxsave();
        } else {
            fxrstor();
        }
    }

    /** With CR4.OSFXSR clear the SSE part (MXCSR and XMM registers) is neither saved nor restored. */
    private boolean sseState() {
        return (c.cr4 & Cpu.CR4_OSFXSR) != 0;
    }

    private void fxsave() {
        c.linearForWrite(c.eaSeg, c.eaOff, 288);
        int abridged = ~empty & 0xFF;
        write(0, 4, control | statusWord() << 16);
        write(4, 4, abridged | (fop & 0x7FF) << 16);
        write(8, 4, fip);
        write(12, 4, fcs & 0xFFFF);
        write(16, 4, fdp);
        write(20, 4, fds & 0xFFFF);
        if (sseState()) {
            write(24, 4, mxcsr);
            write(28, 4, MXCSR_MASK);
        }
        for (int i = 0; i < 8; i++) {
            int p = physical(i);
            write80(32 + 16 * i, exponent[p], significand[p]);
            write(42 + 16 * i, 2, 0);
            write(44 + 16 * i, 4, 0);
        }
        if (sseState()) {
            for (int offset = 160; offset < 288; offset += 4) {
                write(offset, 4, 0); // XMM0-XMM7: no SSE registers are modelled
            }
        }
    }

    private void fxrstor() {
        int controlAndStatus = read(0, 4), tagAndOpcode = read(4, 4);
        int ip = read(8, 4), cs = read(12, 4) & 0xFFFF, dp = read(16, 4), ds = read(20, 4) & 0xFFFF;
        int newMxcsr = mxcsr;
        if (sseState()) {
            newMxcsr = read(24, 4);
            if ((newMxcsr & ~MXCSR_MASK) != 0) {
                throw c.gp(0);
            }
        }
        for (int i = 0; i < 8; i++) {
            loadedSignificand[i] = read64(32 + 16 * i);
            loadedExponent[i] = read(40 + 16 * i, 2);
        }
        int sw = controlAndStatus >>> 16;
        int newTop = sw >>> 11 & 7;
        int tw = 0;
        for (int p = 0; p < 8; p++) { // the abridged tag names physical registers
            if ((tagAndOpcode >>> p & 1) == 0) {
                tw |= TAG_EMPTY << (2 * p);
            }
        }
        loadEnvironment(controlAndStatus & 0xFFFF, sw, tw, ip, cs, tagAndOpcode >>> 16 & 0x7FF, dp, ds);
        mxcsr = newMxcsr;
        for (int i = 0; i < 8; i++) {
            int p = (newTop + i) & 7;
            exponent[p] = loadedExponent[i] & 0xFFFF;
            significand[p] = loadedSignificand[i];
        }
    }

    // =============================================================================================================
    // State exchange
    // =============================================================================================================

    CpuState.FpuState capture() {
        List<CpuState.FloatRegister> registers = new ArrayList<>(8);
        for (int i = 0; i < 8; i++) {
            registers.add(new CpuState.FloatRegister(exponent[i], significand[i]));
        }
        return new CpuState.FpuState(control, statusWord(), tagWord(), fip, fcs, fop, fdp, fds, List.copyOf(registers),
                mxcsr);
    }

    void restore(CpuState.FpuState state) {
        for (int i = 0; i < 8; i++) {
            CpuState.FloatRegister r = state.registers().get(i);
            exponent[i] = r.signExponent() & 0xFFFF;
            significand[i] = r.significand();
        }
        loadEnvironment(state.controlWord(), state.statusWord(), state.tagWord(), state.instructionPointer(),
                state.instructionSelector(), state.opcode(), state.operandPointer(), state.operandSelector());
        mxcsr = state.mxcsr();
    }
}

package hvlab.hw.cpu;

import static hvlab.hw.cpu.Alu.BYTE;
import static hvlab.hw.cpu.Alu.DWORD;
import static hvlab.hw.cpu.Alu.WORD;
import static hvlab.hw.cpu.Cpu.CS;
import static hvlab.hw.cpu.Cpu.DS;
import static hvlab.hw.cpu.Cpu.EAX;
import static hvlab.hw.cpu.Cpu.ECX;
import static hvlab.hw.cpu.Cpu.EDX;
import static hvlab.hw.cpu.Cpu.ES;
import static hvlab.hw.cpu.Cpu.ESP;
import static hvlab.hw.cpu.Cpu.FS;
import static hvlab.hw.cpu.Cpu.GS;
import static hvlab.hw.cpu.Cpu.SS;

/**
 * Decodes and executes one instruction: prefixes, ModRM/SIB, and the one-byte opcode map (SDM Vol. 2D, Appendix
 * A). The map is split by opcode quarter so that each method stays small enough for HotSpot to compile; the
 * two-byte map is in {@link TwoByteOps}, string instructions in {@link StringOps}, privileged and protected-mode
 * control transfers in {@link SystemOps}.
 */
final class Interpreter {
    private static final int MAX_INSTRUCTION_LENGTH = 15;

    final Cpu c;
    final int[] reg;
    private final TwoByteOps twoByte;
    private final int[] popScratch = new int[8];

    Interpreter(Cpu cpu) {
        this.c = cpu;
        this.reg = cpu.reg;
        this.twoByte = new TwoByteOps(this);
    }

    void step() {
        final Cpu c = this.c;
        boolean operand32 = c.code32, address32 = c.code32;
        c.segOverride = -1;
        c.repPrefix = 0;
        c.lockPrefix = false;
        int op = c.fetch8();
        int prefixes = 0;
        while (true) {
            switch (op) {
                case 0x66 -> operand32 = !c.code32;
                case 0x67 -> address32 = !c.code32;
                case 0x26 -> c.segOverride = ES;
                case 0x2E -> c.segOverride = CS;
                case 0x36 -> c.segOverride = SS;
                case 0x3E -> c.segOverride = DS;
                case 0x64 -> c.segOverride = FS;
                case 0x65 -> c.segOverride = GS;
                case 0xF0 -> c.lockPrefix = true;
                case 0xF2, 0xF3 -> c.repPrefix = op;
                default -> {
                    c.opSize32 = operand32;
                    c.addrSize32 = address32;
                    if (c.lockPrefix) {
                        checkLockable(op);
                    }
                    dispatch(op);
                    return;
                }
            }
            if (++prefixes >= MAX_INSTRUCTION_LENGTH) {
                throw c.gp(0); // SDM 2.3.11: an instruction longer than 15 bytes raises #GP(0)
            }
            op = c.fetch8();
        }
    }

    private void dispatch(int op) {
        switch (op >>> 6) {
            case 0 -> ops00(op);
            case 1 -> ops40(op);
            case 2 -> ops80(op);
            default -> opsC0(op);
        }
    }

    // =====================================================================================================
    // ModRM and operands
    // =====================================================================================================

    void modrm() {
        final Cpu c = this.c;
        int m = c.fetch8();
        int mod = m >>> 6, rm = m & 7;
        c.modrmMod = mod;
        c.modrmReg = (m >>> 3) & 7;
        c.modrmRm = rm;
        if (mod == 3) {
            return;
        }
        if (c.addrSize32) {
            effectiveAddress32(mod, rm);
        } else {
            effectiveAddress16(mod, rm);
        }
    }

    private void effectiveAddress32(int mod, int rm) {
        final Cpu c = this.c;
        int seg = DS;
        int ea;
        if (rm == 4) {
            int sib = c.fetch8();
            int base = sib & 7, index = (sib >>> 3) & 7, scale = sib >>> 6;
            if (base == 5 && mod == 0) {
                ea = c.fetch32();
            } else {
                ea = reg[base];
                if (base == 4 || base == 5) {
                    seg = SS;
                }
            }
            if (index != 4) {
                ea += reg[index] << scale;
            }
        } else if (rm == 5 && mod == 0) {
            ea = c.fetch32();
        } else {
            ea = reg[rm];
            if (rm == 5) {
                seg = SS;
            }
        }
        if (mod == 1) {
            ea += (byte) c.fetch8();
        } else if (mod == 2) {
            ea += c.fetch32();
        }
        c.eaOff = ea;
        c.eaSeg = c.segOverride >= 0 ? c.segOverride : seg;
    }

    private void effectiveAddress16(int mod, int rm) {
        final Cpu c = this.c;
        int seg = DS;
        int ea;
        switch (rm) {
            case 0 -> ea = reg[Cpu.EBX] + reg[Cpu.ESI];
            case 1 -> ea = reg[Cpu.EBX] + reg[Cpu.EDI];
            case 2 -> {
                ea = reg[Cpu.EBP] + reg[Cpu.ESI];
                seg = SS;
            }
            case 3 -> {
                ea = reg[Cpu.EBP] + reg[Cpu.EDI];
                seg = SS;
            }
            case 4 -> ea = reg[Cpu.ESI];
            case 5 -> ea = reg[Cpu.EDI];
            case 6 -> {
                if (mod == 0) {
                    ea = c.fetch16();
                } else {
                    ea = reg[Cpu.EBP];
                    seg = SS;
                }
            }
            default -> ea = reg[Cpu.EBX];
        }
        if (mod == 1) {
            ea += (byte) c.fetch8();
        } else if (mod == 2) {
            ea += c.fetch16();
        }
        c.eaOff = ea & 0xFFFF;
        c.eaSeg = c.segOverride >= 0 ? c.segOverride : seg;
    }

    /** The operand size of the current instruction for non-byte forms. */
    int size() {
        return c.opSize32 ? DWORD : WORD;
    }

    int readReg(int n, int size) {
        return Cpu.readRegister(reg, n, size);
    }

    void writeReg(int n, int size, int value) {
        Cpu.writeRegister(reg, n, size, value);
    }

    int readMem(int size, int seg, int off) {
        return c.readMemory(size, seg, off);
    }

    void writeMem(int size, int seg, int off, int value) {
        c.writeMemory(size, seg, off, value);
    }

    int readRm(int size) {
        return c.modrmMod == 3 ? readReg(c.modrmRm, size) : readMem(size, c.eaSeg, c.eaOff);
    }

    void writeRm(int size, int value) {
        if (c.modrmMod == 3) {
            writeReg(c.modrmRm, size, value);
        } else {
            writeMem(size, c.eaSeg, c.eaOff, value);
        }
    }

    int fetchImm(int size) {
        return switch (size) {
            case BYTE -> c.fetch8();
            case WORD -> c.fetch16();
            default -> c.fetch32();
        };
    }

    /** The offset part of a memory operand at eaOff + delta, wrapped to the address size. */
    int eaPlus(int delta) {
        return c.addrSize32 ? c.eaOff + delta : (c.eaOff + delta) & 0xFFFF;
    }

    void requireMemoryOperand() {
        if (c.modrmMod == 3) {
            throw c.ud();
        }
    }

    // =====================================================================================================
    // Control flow helpers
    // =====================================================================================================

    /** A near jump: the target is checked against the CS limit before it is taken (SDM Vol. 2A "JMP"). */
    void jumpNear(int target) {
        if (!c.opSize32) {
            target &= 0xFFFF;
        }
        long t = target & 0xFFFFFFFFL;
        if (t > c.segHigh[CS] && c.protectedMode()) {
            throw c.gp(0);
        }
        c.eip = target;
    }

    private void jumpRelative(int displacement) {
        jumpNear(c.eip + displacement);
    }

    // =====================================================================================================
    // 00-3F: ALU, segment push/pop, BCD
    // =====================================================================================================

    private void ops00(int op) {
        int form = op & 7;
        if (form < 6) {
            aluForm(op >>> 3, form);
            return;
        }
        switch (op) {
            case 0x06, 0x0E, 0x16, 0x1E -> c.push(c.segSel[op >>> 3]);
            case 0x07, 0x17, 0x1F -> {
                int value = c.pop();
                c.loadSegment(op >>> 3, value);
            }
            case 0x0F -> twoByte.execute(c.fetch8());
            case 0x27 -> Alu.daa(c);
            case 0x2F -> Alu.das(c);
            case 0x37 -> Alu.aaa(c, false);
            case 0x3F -> Alu.aaa(c, true);
            default -> throw c.ud();
        }
    }

    private void aluForm(int aluOp, int form) {
        switch (form) {
            case 0, 1 -> { // op r/m, reg
                int size = form == 0 ? BYTE : size();
                modrm();
                int src = readReg(c.modrmReg, size);
                if (c.modrmMod == 3) {
                    int res = Alu.arith(c, aluOp, readReg(c.modrmRm, size), src, size);
                    if (aluOp != Alu.OP_CMP) {
                        writeReg(c.modrmRm, size, res);
                    }
                } else {
                    int res = Alu.arith(c, aluOp, readMem(size, c.eaSeg, c.eaOff), src, size);
                    if (aluOp != Alu.OP_CMP) {
                        writeMem(size, c.eaSeg, c.eaOff, res);
                    }
                }
            }
            case 2, 3 -> { // op reg, r/m
                int size = form == 2 ? BYTE : size();
                modrm();
                int res = Alu.arith(c, aluOp, readReg(c.modrmReg, size), readRm(size), size);
                if (aluOp != Alu.OP_CMP) {
                    writeReg(c.modrmReg, size, res);
                }
            }
            case 4 -> {
                int res = Alu.arith(c, aluOp, reg[EAX] & 0xFF, c.fetch8(), BYTE);
                if (aluOp != Alu.OP_CMP) {
                    writeReg(EAX, BYTE, res);
                }
            }
            default -> {
                int size = size();
                int res = Alu.arith(c, aluOp, readReg(EAX, size), fetchImm(size), size);
                if (aluOp != Alu.OP_CMP) {
                    writeReg(EAX, size, res);
                }
            }
        }
    }

    // =====================================================================================================
    // 40-7F: INC/DEC/PUSH/POP register, PUSHA/POPA, BOUND, ARPL, PUSH imm, IMUL imm, INS/OUTS, Jcc rel8
    // =====================================================================================================

    private void ops40(int op) {
        switch (op >>> 3) {
            case 8 -> { // 40-47 INC r
                int size = size(), n = op & 7;
                writeReg(n, size, Alu.inc(c, readReg(n, size), size));
                return;
            }
            case 9 -> { // 48-4F DEC r
                int size = size(), n = op & 7;
                writeReg(n, size, Alu.dec(c, readReg(n, size), size));
                return;
            }
            case 10 -> { // 50-57 PUSH r
                c.push(c.opSize32 ? reg[op & 7] : reg[op & 7] & 0xFFFF);
                return;
            }
            case 11 -> { // 58-5F POP r
                int value = c.pop();
                writeReg(op & 7, size(), value);
                return;
            }
            case 14, 15 -> { // 70-7F Jcc rel8
                int displacement = (byte) c.fetch8();
                if (Alu.condition(c, op & 0xF)) {
                    jumpRelative(displacement);
                }
                return;
            }
            default -> { }
        }
        switch (op) {
            case 0x60 -> pushAll();
            case 0x61 -> popAll();
            case 0x62 -> bound();
            case 0x63 -> SystemOps.arpl(this);
            case 0x68 -> c.push(fetchImm(size()));
            case 0x6A -> c.push((byte) c.fetch8());
            case 0x69, 0x6B -> {
                int size = size();
                modrm();
                int a = readRm(size);
                int b = op == 0x69 ? fetchImm(size) : (byte) c.fetch8();
                writeReg(c.modrmReg, size, imul2(a, b, size));
            }
            case 0x6C, 0x6D, 0x6E, 0x6F -> StringOps.io(this, op);
            default -> throw c.ud();
        }
    }

    private void pushAll() {
        int sp = c.sp();
        if (c.opSize32) {
            for (int n = 0; n < 8; n++) {
                c.push32(n == ESP ? startSp(sp) : reg[n]);
            }
        } else {
            for (int n = 0; n < 8; n++) {
                c.push16(n == ESP ? startSp(sp) : reg[n]);
            }
        }
    }

    private int startSp(int sp) {
        return c.stack32 ? sp : (reg[ESP] & 0xFFFF0000) | sp;
    }

    /** POPA: all eight values are read before any register changes, so a fault leaves the state untouched. */
    private void popAll() {
        int size = size();
        int width = c.opSize32 ? 4 : 2;
        int sp = c.sp();
        for (int n = 7; n >= 0; n--) {
            popScratch[n] = c.opSize32 ? c.read32(SS, sp) : c.read16(SS, sp);
            sp = c.stackAdd(sp, width);
        }
        for (int n = 0; n < 8; n++) {
            if (n != ESP) {
                writeReg(n, size, popScratch[n]);
            }
        }
        c.setSp(sp);
    }

    private void bound() {
        int size = size();
        modrm();
        requireMemoryOperand();
        int index = Alu.signExtend(readReg(c.modrmReg, size), size);
        int lower = Alu.signExtend(readMem(size, c.eaSeg, c.eaOff), size);
        int upper = Alu.signExtend(readMem(size, c.eaSeg, eaPlus(size == DWORD ? 4 : 2)), size);
        if (index < lower || index > upper) {
            throw c.fault(Exceptions.BR, Exceptions.NO_ERROR_CODE);
        }
    }

    int imul2(int a, int b, int size) {
        long product = (long) Alu.signExtend(a, size) * Alu.signExtend(b, size);
        int low = (int) product & Alu.mask(size);
        boolean overflow = product != Alu.signExtend(low, size);
        Alu.setMultiplyFlags(c, overflow, low, size);
        return low;
    }

    // =====================================================================================================
    // 80-BF: group 1, TEST, XCHG, MOV, LEA, POP r/m, CBW/CWD, far call, flags, string ops, MOV imm
    // =====================================================================================================

    private void ops80(int op) {
        if (op >= 0xB0) { // MOV reg, imm
            if (op < 0xB8) {
                writeReg(op & 7, BYTE, c.fetch8());
            } else {
                int size = size();
                writeReg(op & 7, size, fetchImm(size));
            }
            return;
        }
        switch (op) {
            case 0x80, 0x81, 0x82, 0x83 -> group1(op);
            case 0x84, 0x85 -> {
                int size = op == 0x84 ? BYTE : size();
                modrm();
                Alu.test(c, readRm(size), readReg(c.modrmReg, size), size);
            }
            case 0x86, 0x87 -> {
                int size = op == 0x86 ? BYTE : size();
                modrm();
                int a = readRm(size);
                writeRm(size, readReg(c.modrmReg, size));
                writeReg(c.modrmReg, size, a);
            }
            case 0x88, 0x89 -> {
                int size = op == 0x88 ? BYTE : size();
                modrm();
                writeRm(size, readReg(c.modrmReg, size));
            }
            case 0x8A, 0x8B -> {
                int size = op == 0x8A ? BYTE : size();
                modrm();
                writeReg(c.modrmReg, size, readRm(size));
            }
            case 0x8C -> {
                modrm();
                if (c.modrmReg > 5) {
                    throw c.ud();
                }
                int selector = c.segSel[c.modrmReg];
                if (c.modrmMod == 3) {
                    writeReg(c.modrmRm, size(), selector); // P6 and later zero-extend into a 32-bit register
                } else {
                    c.write16(c.eaSeg, c.eaOff, selector);
                }
            }
            case 0x8D -> {
                modrm();
                requireMemoryOperand();
                writeReg(c.modrmReg, size(), c.eaOff);
            }
            case 0x8E -> {
                modrm();
                if (c.modrmReg == CS || c.modrmReg > 5) {
                    throw c.ud();
                }
                c.loadSegment(c.modrmReg, readRm(WORD));
            }
            case 0x8F -> {
                int value = c.pop(); // the address is computed with ESP already incremented (SDM "POP")
                modrm();
                if (c.modrmReg != 0) {
                    throw c.ud();
                }
                writeRm(size(), value);
            }
            case 0x90 -> { } // NOP, and PAUSE with F3
            case 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 -> {
                int size = size(), n = op & 7;
                int a = readReg(EAX, size);
                writeReg(EAX, size, readReg(n, size));
                writeReg(n, size, a);
            }
            case 0x98 -> {
                if (c.opSize32) {
                    reg[EAX] = (short) reg[EAX];
                } else {
                    writeReg(EAX, WORD, (byte) reg[EAX]);
                }
            }
            case 0x99 -> {
                if (c.opSize32) {
                    reg[EDX] = reg[EAX] >> 31;
                } else {
                    writeReg(EDX, WORD, (short) reg[EAX] >> 15);
                }
            }
            case 0x9A -> {
                int offset = fetchImm(size());
                int selector = c.fetch16();
                SystemOps.farCall(this, selector, offset);
            }
            case 0x9B -> { // WAIT/FWAIT (SDM Vol. 3A, 2.5, Table 2-2; Vol. 1, 8.6)
                if ((c.cr0 & (Cpu.CR0_MP | Cpu.CR0_TS)) == (Cpu.CR0_MP | Cpu.CR0_TS)) {
                    throw c.fault(Exceptions.NM, Exceptions.NO_ERROR_CODE);
                }
                c.x87.checkPendingException();
            }
            case 0x9C -> SystemOps.pushFlags(this);
            case 0x9D -> SystemOps.popFlags(this);
            case 0x9E -> c.setEflags(reg[EAX] >>> 8, Cpu.SF | Cpu.ZF | Cpu.AF | Cpu.PF | Cpu.CF);
            case 0x9F -> writeReg(4, BYTE, c.eflags() & 0xFF); // AH
            case 0xA0, 0xA1, 0xA2, 0xA3 -> moveOffset(op);
            case 0xA8 -> Alu.test(c, reg[EAX] & 0xFF, c.fetch8(), BYTE);
            case 0xA9 -> {
                int size = size();
                Alu.test(c, readReg(EAX, size), fetchImm(size), size);
            }
            default -> StringOps.execute(this, op); // A4-A7, AA-AF
        }
    }

    private void group1(int op) {
        int size = op == 0x80 || op == 0x82 ? BYTE : size();
        modrm();
        int aluOp = c.modrmReg;
        if (c.modrmMod == 3) {
            int a = readReg(c.modrmRm, size);
            int b = op == 0x83 ? (byte) c.fetch8() & Alu.mask(size) : fetchImm(size);
            int res = Alu.arith(c, aluOp, a, b, size);
            if (aluOp != Alu.OP_CMP) {
                writeReg(c.modrmRm, size, res);
            }
        } else {
            int b = op == 0x83 ? (byte) c.fetch8() & Alu.mask(size) : fetchImm(size);
            int res = Alu.arith(c, aluOp, readMem(size, c.eaSeg, c.eaOff), b, size);
            if (aluOp != Alu.OP_CMP) {
                writeMem(size, c.eaSeg, c.eaOff, res);
            }
        }
    }

    private void moveOffset(int op) {
        int offset = c.addrSize32 ? c.fetch32() : c.fetch16();
        int seg = c.segOverride >= 0 ? c.segOverride : DS;
        int size = (op & 1) == 0 ? BYTE : size();
        if (op < 0xA2) {
            writeReg(EAX, size, readMem(size, seg, offset));
        } else {
            writeMem(size, seg, offset, readReg(EAX, size));
        }
    }

    // =====================================================================================================
    // C0-FF: shifts, returns, LES/LDS, MOV imm, ENTER/LEAVE, INT, IRET, BCD, LOOP, I/O, CALL/JMP, groups 3-5
    // =====================================================================================================

    private void opsC0(int op) {
        switch (op) {
            case 0xC0, 0xC1 -> {
                int size = op == 0xC0 ? BYTE : size();
                modrm();
                int value = readRm(size);
                int count = c.fetch8();
                writeRm(size, Alu.shift(c, c.modrmReg, value, count, size));
            }
            case 0xD0, 0xD1, 0xD2, 0xD3 -> {
                int size = (op & 1) == 0 ? BYTE : size();
                modrm();
                int count = op < 0xD2 ? 1 : reg[ECX] & 0xFF;
                writeRm(size, Alu.shift(c, c.modrmReg, readRm(size), count, size));
            }
            case 0xC2 -> {
                int release = c.fetch16();
                int target = c.pop();
                c.setSp(c.stackAdd(c.sp(), release));
                jumpNear(target);
            }
            case 0xC3 -> jumpNear(c.pop());
            case 0xC4 -> loadFarPointer(ES);
            case 0xC5 -> loadFarPointer(DS);
            case 0xC6, 0xC7 -> {
                int size = op == 0xC6 ? BYTE : size();
                modrm();
                if (c.modrmReg != 0) {
                    throw c.ud();
                }
                writeRm(size, fetchImm(size));
            }
            case 0xC8 -> enter();
            case 0xC9 -> {
                int bp = c.stack32 ? reg[Cpu.EBP] : reg[Cpu.EBP] & 0xFFFF;
                int value = c.opSize32 ? c.read32(SS, bp) : c.read16(SS, bp);
                c.setSp(c.stackAdd(bp, c.opSize32 ? 4 : 2));
                writeReg(Cpu.EBP, size(), value);
            }
            case 0xCA -> SystemOps.farReturn(this, c.fetch16());
            case 0xCB -> SystemOps.farReturn(this, 0);
            case 0xCC -> softwareInterrupt(Exceptions.BP, Cpu.InterruptKind.SOFTWARE_EXCEPTION);
            case 0xCD -> softwareInterrupt(c.fetch8(), Cpu.InterruptKind.SOFTWARE);
            case 0xCE -> {
                if (Alu.of(c)) {
                    softwareInterrupt(Exceptions.OF, Cpu.InterruptKind.SOFTWARE_EXCEPTION);
                }
            }
            case 0xCF -> SystemOps.iret(this);
            case 0xD4 -> {
                int base = c.fetch8();
                if (base == 0) {
                    throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
                }
                Alu.aam(c, base);
            }
            case 0xD5 -> Alu.aad(c, c.fetch8());
            case 0xD6 -> writeReg(EAX, BYTE, Alu.cf(c) ? 0xFF : 0); // SALC, undocumented but present on all IA-32
            case 0xD7 -> {
                int seg = c.segOverride >= 0 ? c.segOverride : DS;
                int off = (c.addrSize32 ? reg[Cpu.EBX] : reg[Cpu.EBX] & 0xFFFF) + (reg[EAX] & 0xFF);
                writeReg(EAX, BYTE, c.read8(seg, c.addrSize32 ? off : off & 0xFFFF));
            }
            case 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF -> escapeToCoprocessor(op);
            case 0xE0, 0xE1, 0xE2 -> loop(op);
            case 0xE3 -> {
                int displacement = (byte) c.fetch8();
                int count = c.addrSize32 ? reg[ECX] : reg[ECX] & 0xFFFF;
                if (count == 0) {
                    jumpRelative(displacement);
                }
            }
            case 0xE4 -> writeReg(EAX, BYTE, SystemOps.in(this, c.fetch8(), 1));
            case 0xE5 -> {
                int size = size();
                writeReg(EAX, size, SystemOps.in(this, c.fetch8(), size == DWORD ? 4 : 2));
            }
            case 0xE6 -> SystemOps.out(this, c.fetch8(), 1, reg[EAX]);
            case 0xE7 -> SystemOps.out(this, c.fetch8(), c.opSize32 ? 4 : 2, reg[EAX]);
            case 0xEC -> writeReg(EAX, BYTE, SystemOps.in(this, reg[EDX] & 0xFFFF, 1));
            case 0xED -> {
                int size = size();
                writeReg(EAX, size, SystemOps.in(this, reg[EDX] & 0xFFFF, size == DWORD ? 4 : 2));
            }
            case 0xEE -> SystemOps.out(this, reg[EDX] & 0xFFFF, 1, reg[EAX]);
            case 0xEF -> SystemOps.out(this, reg[EDX] & 0xFFFF, c.opSize32 ? 4 : 2, reg[EAX]);
            case 0xE8 -> {
                int displacement = fetchImm(size());
                int target = c.eip + displacement;
                if (!c.opSize32) {
                    target &= 0xFFFF;
                }
                checkNearTarget(target);
                c.push(c.eip);
                c.eip = target;
            }
            case 0xE9 -> jumpRelative(fetchImm(size()));
            case 0xEA -> {
                int offset = fetchImm(size());
                int selector = c.fetch16();
                SystemOps.farJump(this, selector, offset);
            }
            case 0xEB -> jumpRelative((byte) c.fetch8());
            case 0xF1 -> softwareInterrupt(Exceptions.DB, Cpu.InterruptKind.EXCEPTION); // ICEBP
            case 0xF4 -> {
                if (c.cpl != 0 && c.protectedMode()) {
                    throw c.gp(0);
                }
                if (c.vmx.nonRoot) {
                    c.vmx.exit.hlt();
                }
                c.halted = true;
            }
            case 0xF5 -> Alu.setFlag(c, Cpu.CF, !Alu.cf(c));
            case 0xF6, 0xF7 -> group3(op == 0xF6 ? BYTE : size());
            case 0xF8 -> Alu.setFlag(c, Cpu.CF, false);
            case 0xF9 -> Alu.setFlag(c, Cpu.CF, true);
            case 0xFA -> SystemOps.cli(this);
            case 0xFB -> SystemOps.sti(this);
            case 0xFC -> c.flags &= ~Cpu.DF;
            case 0xFD -> c.flags |= Cpu.DF;
            case 0xFE -> group4();
            case 0xFF -> group5();
            default -> throw c.ud();
        }
    }

    void checkNearTarget(int target) {
        if ((target & 0xFFFFFFFFL) > c.segHigh[CS] && c.protectedMode()) {
            throw c.gp(0);
        }
    }

    private void softwareInterrupt(int vector, Cpu.InterruptKind kind) {
        boolean redirected = c.v86Mode() && kind == Cpu.InterruptKind.SOFTWARE
                && SystemOps.redirectV86Interrupt(c, vector);
        c.counters.softwareInterrupt(vector);
        if (!redirected) {
            c.interrupt(vector, Exceptions.NO_ERROR_CODE, kind);
        }
    }

    /** D8-DF: CR0.EM or CR0.TS raise #NM so an OS can emulate or switch the FPU (SDM Vol. 3A, 2.5, Table 2-2). */
    private void escapeToCoprocessor(int op) {
        if ((c.cr0 & (Cpu.CR0_EM | Cpu.CR0_TS)) != 0) {
            throw c.fault(Exceptions.NM, Exceptions.NO_ERROR_CODE);
        }
        c.x87.execute(op);
    }

    /** LES, LDS, LSS, LFS, LGS: a far pointer from memory into a segment register and a general register. */
    void loadFarPointer(int seg) {
        int size = size();
        modrm();
        requireMemoryOperand();
        int offset = readMem(size, c.eaSeg, c.eaOff);
        int selector = c.read16(c.eaSeg, eaPlus(size == DWORD ? 4 : 2));
        c.loadSegment(seg, selector);
        writeReg(c.modrmReg, size, offset);
    }


    private void enter() {
        int frameSize = c.fetch16();
        int level = c.fetch8() & 0x1F;
        int wordSize = c.opSize32 ? 4 : 2;
        c.push(reg[Cpu.EBP]);
        int frameTemp = c.sp();
        if (level > 0) {
            int bp = c.stack32 ? reg[Cpu.EBP] : reg[Cpu.EBP] & 0xFFFF;
            for (int i = 1; i < level; i++) {
                bp = c.stackAdd(bp, -wordSize);
                c.push(c.opSize32 ? c.read32(SS, bp) : c.read16(SS, bp));
            }
            c.push(frameTemp);
        }
        int newSp = c.stackAdd(c.sp(), -frameSize);
        c.linearForWrite(SS, newSp, 1); // the new stack top must be writable (SDM "ENTER")
        writeReg(Cpu.EBP, size(), frameTemp);
        c.setSp(newSp);
    }

    private void loop(int op) {
        int displacement = (byte) c.fetch8();
        int count;
        if (c.addrSize32) {
            count = --reg[ECX];
        } else {
            count = (reg[ECX] - 1) & 0xFFFF;
            writeReg(ECX, WORD, count);
        }
        boolean taken = count != 0 && switch (op) {
            case 0xE0 -> !Alu.zf(c);
            case 0xE1 -> Alu.zf(c);
            default -> true;
        };
        if (taken) {
            jumpRelative(displacement);
        }
    }

    private void group3(int size) {
        modrm();
        switch (c.modrmReg) {
            case 0, 1 -> Alu.test(c, readRm(size), fetchImm(size), size);
            case 2 -> writeRm(size, ~readRm(size));
            case 3 -> writeRm(size, Alu.neg(c, readRm(size), size));
            case 4 -> multiply(readRm(size), size, false);
            case 5 -> multiply(readRm(size), size, true);
            case 6 -> divide(readRm(size), size, false);
            default -> divide(readRm(size), size, true);
        }
    }

    private void multiply(int operand, int size, boolean signed) {
        switch (size) {
            case BYTE -> {
                int al = reg[EAX] & 0xFF;
                int product = signed ? (byte) al * (byte) operand : al * operand;
                writeReg(EAX, WORD, product);
                boolean overflow = signed ? product != (byte) product : (product & 0xFF00) != 0;
                Alu.setMultiplyFlags(c, overflow, product, BYTE);
            }
            case WORD -> {
                int ax = reg[EAX] & 0xFFFF;
                int product = signed ? (short) ax * (short) operand : ax * (operand & 0xFFFF);
                writeReg(EAX, WORD, product);
                writeReg(EDX, WORD, product >>> 16);
                boolean overflow = signed ? product != (short) product : (product >>> 16) != 0;
                Alu.setMultiplyFlags(c, overflow, product, WORD);
            }
            default -> {
                long product = signed ? (long) reg[EAX] * operand
                        : (reg[EAX] & 0xFFFFFFFFL) * (operand & 0xFFFFFFFFL);
                reg[EAX] = (int) product;
                reg[EDX] = (int) (product >>> 32);
                boolean overflow = signed ? product != (int) product : (product >>> 32) != 0;
                Alu.setMultiplyFlags(c, overflow, (int) product, DWORD);
            }
        }
    }

    /** DIV/IDIV: #DE on a zero divisor or a quotient that does not fit (SDM Vol. 2A "DIV"). */
    private void divide(int divisor, int size, boolean signed) {
        if ((divisor & Alu.mask(size)) == 0) {
            throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
        }
        switch (size) {
            case BYTE -> {
                int dividend = reg[EAX] & 0xFFFF;
                int q, r;
                if (signed) {
                    q = (short) dividend / (byte) divisor;
                    r = (short) dividend % (byte) divisor;
                    if (q != (byte) q) {
                        throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
                    }
                } else {
                    q = dividend / (divisor & 0xFF);
                    r = dividend % (divisor & 0xFF);
                    if (q > 0xFF) {
                        throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
                    }
                }
                writeReg(EAX, WORD, (r & 0xFF) << 8 | (q & 0xFF));
            }
            case WORD -> {
                int dividend = (reg[EDX] & 0xFFFF) << 16 | (reg[EAX] & 0xFFFF);
                int q, r;
                if (signed) {
                    q = dividend / (short) divisor;
                    r = dividend % (short) divisor;
                    if (q != (short) q || dividend == Integer.MIN_VALUE && (short) divisor == -1) {
                        throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
                    }
                } else {
                    q = Integer.divideUnsigned(dividend, divisor & 0xFFFF);
                    r = Integer.remainderUnsigned(dividend, divisor & 0xFFFF);
                    if ((q & 0xFFFFFFFFL) > 0xFFFF) {
                        throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
                    }
                }
                writeReg(EAX, WORD, q);
                writeReg(EDX, WORD, r);
            }
            default -> {
                long dividend = (long) reg[EDX] << 32 | (reg[EAX] & 0xFFFFFFFFL);
                long q, r;
                if (signed) {
                    if (dividend == Long.MIN_VALUE && divisor == -1) {
                        throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
                    }
                    q = dividend / divisor;
                    r = dividend % divisor;
                    if (q != (int) q) {
                        throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
                    }
                } else {
                    long d = divisor & 0xFFFFFFFFL;
                    q = Long.divideUnsigned(dividend, d);
                    r = Long.remainderUnsigned(dividend, d);
                    if (Long.compareUnsigned(q, 0xFFFFFFFFL) > 0) {
                        throw c.fault(Exceptions.DE, Exceptions.NO_ERROR_CODE);
                    }
                }
                reg[EAX] = (int) q;
                reg[EDX] = (int) r;
            }
        }
    }

    private void group4() {
        modrm();
        switch (c.modrmReg) {
            case 0 -> writeRm(BYTE, Alu.inc(c, readRm(BYTE), BYTE));
            case 1 -> writeRm(BYTE, Alu.dec(c, readRm(BYTE), BYTE));
            default -> throw c.ud();
        }
    }

    private void group5() {
        int size = size();
        modrm();
        switch (c.modrmReg) {
            case 0 -> writeRm(size, Alu.inc(c, readRm(size), size));
            case 1 -> writeRm(size, Alu.dec(c, readRm(size), size));
            case 2 -> {
                int target = readRm(size);
                if (!c.opSize32) {
                    target &= 0xFFFF;
                }
                checkNearTarget(target);
                c.push(c.eip);
                c.eip = target;
            }
            case 3, 5 -> {
                requireMemoryOperand();
                int offset = readMem(size, c.eaSeg, c.eaOff);
                int selector = c.read16(c.eaSeg, eaPlus(size == DWORD ? 4 : 2));
                if (c.modrmReg == 3) {
                    SystemOps.farCall(this, selector, offset);
                } else {
                    SystemOps.farJump(this, selector, offset);
                }
            }
            case 4 -> jumpNear(readRm(size));
            case 6 -> c.push(readRm(size));
            default -> throw c.ud();
        }
    }

    // =====================================================================================================
    // LOCK (SDM Vol. 2A "LOCK"): only read-modify-write instructions with a memory destination
    // =====================================================================================================

    private void checkLockable(int op) {
        boolean twoByte = op == 0x0F;
        int opcode = twoByte ? peek(0) : op;
        int modrm = peek(twoByte ? 1 : 0);
        if ((modrm >>> 6) == 3 || !OpcodeTable.lockable(OpcodeTable.index(twoByte, opcode), (modrm >>> 3) & 7)) {
            throw c.ud();
        }
    }

    /** Reads an instruction byte ahead without consuming it. */
    private int peek(int ahead) {
        int saved = c.eip;
        for (int i = 0; i < ahead; i++) {
            c.fetch8();
        }
        int b = c.fetch8();
        c.eip = saved;
        return b;
    }
}

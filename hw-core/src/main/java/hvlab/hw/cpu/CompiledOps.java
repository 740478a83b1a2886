package hvlab.hw.cpu;

import static hvlab.hw.cpu.Alu.DWORD;
import static hvlab.hw.cpu.Cpu.ESP;

/**
 * What compiled blocks call: each method is one instruction form with its decoded operands (register numbers,
 * operand size, address parts, immediates) passed as constants, small enough for HotSpot to inline into the block so
 * the constants fold. Semantics are the interpreter's own ({@link Alu}, {@link Cpu} accessors); nothing here may
 * differ from {@link Interpreter}. Invariant between instructions of a block: {@code c.startEsp == c.reg[ESP]}, so a
 * fault rolls back only the faulting instruction.
 */
final class CompiledOps {
    static final int NONE = -1;

    private CompiledOps() {
    }

    static int ea(Cpu c, int base, int index, int scale, int disp) {
        int ea = disp;
        if (base != NONE) {
            ea += c.reg[base];
        }
        if (index != NONE) {
            ea += c.reg[index] << scale;
        }
        return ea;
    }

    private static int reg(Cpu c, int n, int size) {
        return Cpu.readRegister(c.reg, n, size);
    }

    private static void setReg(Cpu c, int n, int size, int value) {
        Cpu.writeRegister(c.reg, n, size, value);
    }

    // ---- moves ----

    static void movRR(Cpu c, int dst, int src, int size) {
        setReg(c, dst, size, reg(c, src, size));
    }

    static void movRI(Cpu c, int dst, int imm, int size) {
        setReg(c, dst, size, imm);
    }

    static void load(Cpu c, int dst, int size, int seg, int base, int index, int scale, int disp) {
        setReg(c, dst, size, c.readMemory(size, seg, ea(c, base, index, scale, disp)));
    }

    static void store(Cpu c, int src, int size, int seg, int base, int index, int scale, int disp) {
        c.writeMemory(size, seg, ea(c, base, index, scale, disp), reg(c, src, size));
    }

    static void storeImm(Cpu c, int imm, int size, int seg, int base, int index, int scale, int disp) {
        c.writeMemory(size, seg, ea(c, base, index, scale, disp), imm);
    }

    /** MOVZX/MOVSX r32, r/m8 or r/m16 from memory; {@code size} is the source's. */
    static void loadExtend(Cpu c, int dst, int size, int signed, int seg, int base, int index, int scale, int disp) {
        int value = c.readMemory(size, seg, ea(c, base, index, scale, disp));
        c.reg[dst] = signed != 0 ? Alu.signExtend(value, size) : value;
    }

    static void extendRR(Cpu c, int dst, int src, int size, int signed) {
        int value = reg(c, src, size);
        c.reg[dst] = signed != 0 ? Alu.signExtend(value, size) : value;
    }

    static void lea(Cpu c, int dst, int base, int index, int scale, int disp) {
        c.reg[dst] = ea(c, base, index, scale, disp);
    }

    // ---- arithmetic ----

    static void aluRR(Cpu c, int op, int dst, int src, int size) {
        int res = Alu.arith(c, op, reg(c, dst, size), reg(c, src, size), size);
        if (op != Alu.OP_CMP) {
            setReg(c, dst, size, res);
        }
    }

    static void aluRI(Cpu c, int op, int dst, int imm, int size) {
        int res = Alu.arith(c, op, reg(c, dst, size), imm & Alu.mask(size), size);
        if (op != Alu.OP_CMP) {
            setReg(c, dst, size, res);
        }
    }

    static void aluRM(Cpu c, int op, int dst, int size, int seg, int base, int index, int scale, int disp) {
        int value = c.readMemory(size, seg, ea(c, base, index, scale, disp));
        int res = Alu.arith(c, op, reg(c, dst, size), value, size);
        if (op != Alu.OP_CMP) {
            setReg(c, dst, size, res);
        }
    }

    static void aluMR(Cpu c, int op, int src, int size, int seg, int base, int index, int scale, int disp) {
        int off = ea(c, base, index, scale, disp);
        int res = Alu.arith(c, op, c.readMemory(size, seg, off), reg(c, src, size), size);
        if (op != Alu.OP_CMP) {
            c.writeMemory(size, seg, off, res);
        }
    }

    static void aluMI(Cpu c, int op, int imm, int size, int seg, int base, int index, int scale, int disp) {
        int off = ea(c, base, index, scale, disp);
        int res = Alu.arith(c, op, c.readMemory(size, seg, off), imm & Alu.mask(size), size);
        if (op != Alu.OP_CMP) {
            c.writeMemory(size, seg, off, res);
        }
    }

    static void testRR(Cpu c, int a, int b, int size) {
        Alu.test(c, reg(c, a, size), reg(c, b, size), size);
    }

    static void testRI(Cpu c, int a, int imm, int size) {
        Alu.test(c, reg(c, a, size), imm & Alu.mask(size), size);
    }

    static void testMI(Cpu c, int imm, int size, int seg, int base, int index, int scale, int disp) {
        Alu.test(c, c.readMemory(size, seg, ea(c, base, index, scale, disp)), imm & Alu.mask(size), size);
    }

    static void inc(Cpu c, int r, int size) {
        setReg(c, r, size, Alu.inc(c, reg(c, r, size), size));
    }

    static void dec(Cpu c, int r, int size) {
        setReg(c, r, size, Alu.dec(c, reg(c, r, size), size));
    }

    static void not(Cpu c, int r, int size) {
        setReg(c, r, size, ~reg(c, r, size));
    }

    static void neg(Cpu c, int r, int size) {
        setReg(c, r, size, Alu.neg(c, reg(c, r, size), size));
    }

    static void shiftRI(Cpu c, int op, int r, int count, int size) {
        setReg(c, r, size, Alu.shift(c, op, reg(c, r, size), count, size));
    }

    static void shiftRCl(Cpu c, int op, int r, int size) {
        setReg(c, r, size, Alu.shift(c, op, reg(c, r, size), c.reg[Cpu.ECX] & 0xFF, size));
    }

    static void imulRRI(Cpu c, int dst, int src, int imm) {
        long product = (long) c.reg[src] * imm;
        int low = (int) product;
        Alu.setMultiplyFlags(c, product != low, low, DWORD);
        c.reg[dst] = low;
    }

    static void imulRR(Cpu c, int dst, int src) {
        imulRRI(c, dst, dst, c.reg[src]);
    }

    static void setcc(Cpu c, int cc, int r8) {
        setReg(c, r8, Alu.BYTE, Alu.condition(c, cc) ? 1 : 0);
    }

    static void cmov(Cpu c, int cc, int dst, int src) {
        if (Alu.condition(c, cc)) {
            c.reg[dst] = c.reg[src];
        }
    }

    static void cdq(Cpu c) {
        c.reg[Cpu.EDX] = c.reg[Cpu.EAX] >> 31;
    }

    // ---- stack and transfers ----

    static void push(Cpu c, int value) {
        c.push32(value);
        c.startEsp = c.reg[ESP];
    }

    static void pushReg(Cpu c, int r) {
        push(c, c.reg[r]);
    }

    static void popReg(Cpu c, int r) {
        int value = c.pop32();
        c.reg[r] = value; // POP ESP loads the popped value, as the SDM says
        c.startEsp = c.reg[ESP];
    }

    /** A near transfer: the target must lie inside the CS limit (SDM Vol. 2A "JMP"), else #GP(0) at the jump. */
    static void jump(Cpu c, int target) {
        if ((target & 0xFFFFFFFFL) > c.segHigh[Cpu.CS] && c.protectedMode()) {
            throw c.gp(0);
        }
        c.eip = target;
    }

    static void call(Cpu c, int returnAddress, int target) {
        if ((target & 0xFFFFFFFFL) > c.segHigh[Cpu.CS] && c.protectedMode()) {
            throw c.gp(0);
        }
        c.push32(returnAddress);
        c.startEsp = c.reg[ESP];
        c.eip = target;
    }

    static void ret(Cpu c, int release) {
        int sp = c.sp();
        int target = c.read32(Cpu.SS, sp);
        if ((target & 0xFFFFFFFFL) > c.segHigh[Cpu.CS] && c.protectedMode()) {
            throw c.gp(0);
        }
        c.setSp(c.stackAdd(sp, 4 + release));
        c.startEsp = c.reg[ESP];
        c.eip = target;
    }

    static void leave(Cpu c) {
        int bp = c.stack32 ? c.reg[Cpu.EBP] : c.reg[Cpu.EBP] & 0xFFFF;
        int value = c.read32(Cpu.SS, bp);
        c.setSp(c.stackAdd(bp, 4));
        c.reg[Cpu.EBP] = value;
        c.startEsp = c.reg[ESP];
    }

    /**
     * Runs one instruction through the interpreter inside a block; false when it went elsewhere than
     * {@code next} (a branch, a REP restart) or stopped the CPU, so the block must end.
     */
    static boolean interpret(Cpu c, int next) {
        c.eip = c.startEip;
        c.interpreter.step();
        c.retired++;
        c.startEsp = c.reg[ESP];
        return c.eip == next && !c.halted && !c.stopRequested;
    }

    /** True when a block may jump back to its own start: no event waits and the budget covers another pass. */
    static boolean mayLoop(Cpu c, int instructions) {
        return !c.eventPending && !c.stopRequested && c.retired + instructions <= c.runEnd;
    }
}

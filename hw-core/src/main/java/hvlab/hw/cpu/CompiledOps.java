package hvlab.hw.cpu;

import static hvlab.hw.cpu.Alu.DWORD;
import static hvlab.hw.cpu.Cpu.ESP;

/**
 * What compiled blocks call: each method is one 32-bit instruction form with its decoded operands passed as
 * constants, small enough for HotSpot to inline into the block so the constants fold. Semantics are the
 * interpreter's own ({@link Alu}, {@link Cpu} accessors); nothing here may differ from {@link Interpreter}.
 * Invariant between instructions of a block: {@code c.startEsp == c.reg[ESP]}, so a fault rolls back only the
 * faulting instruction.
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

    static void movRR(Cpu c, int dst, int src) {
        c.reg[dst] = c.reg[src];
    }

    static void movRI(Cpu c, int dst, int imm) {
        c.reg[dst] = imm;
    }

    static void load(Cpu c, int dst, int seg, int base, int index, int scale, int disp) {
        c.reg[dst] = c.read32(seg, ea(c, base, index, scale, disp));
    }

    static void store(Cpu c, int src, int seg, int base, int index, int scale, int disp) {
        c.write32(seg, ea(c, base, index, scale, disp), c.reg[src]);
    }

    static void storeImm(Cpu c, int imm, int seg, int base, int index, int scale, int disp) {
        c.write32(seg, ea(c, base, index, scale, disp), imm);
    }

    static void loadZeroExtend8(Cpu c, int dst, int seg, int base, int index, int scale, int disp) {
        c.reg[dst] = c.read8(seg, ea(c, base, index, scale, disp));
    }

    static void loadZeroExtend16(Cpu c, int dst, int seg, int base, int index, int scale, int disp) {
        c.reg[dst] = c.read16(seg, ea(c, base, index, scale, disp));
    }

    static void loadSignExtend8(Cpu c, int dst, int seg, int base, int index, int scale, int disp) {
        c.reg[dst] = (byte) c.read8(seg, ea(c, base, index, scale, disp));
    }

    static void loadSignExtend16(Cpu c, int dst, int seg, int base, int index, int scale, int disp) {
        c.reg[dst] = (short) c.read16(seg, ea(c, base, index, scale, disp));
    }

    static void movzx8RR(Cpu c, int dst, int src8) {
        c.reg[dst] = src8 < 4 ? c.reg[src8] & 0xFF : (c.reg[src8 - 4] >>> 8) & 0xFF;
    }

    static void store8(Cpu c, int src, int seg, int base, int index, int scale, int disp) {
        int value = src < 4 ? c.reg[src] : c.reg[src - 4] >>> 8;
        c.write8(seg, ea(c, base, index, scale, disp), value);
    }

    static void lea(Cpu c, int dst, int base, int index, int scale, int disp) {
        c.reg[dst] = ea(c, base, index, scale, disp);
    }

    static void aluRR(Cpu c, int op, int dst, int src) {
        int res = Alu.arith(c, op, c.reg[dst], c.reg[src], DWORD);
        if (op != Alu.OP_CMP) {
            c.reg[dst] = res;
        }
    }

    static void aluRI(Cpu c, int op, int dst, int imm) {
        int res = Alu.arith(c, op, c.reg[dst], imm, DWORD);
        if (op != Alu.OP_CMP) {
            c.reg[dst] = res;
        }
    }

    static void aluRM(Cpu c, int op, int dst, int seg, int base, int index, int scale, int disp) {
        int res = Alu.arith(c, op, c.reg[dst], c.read32(seg, ea(c, base, index, scale, disp)), DWORD);
        if (op != Alu.OP_CMP) {
            c.reg[dst] = res;
        }
    }

    static void aluMR(Cpu c, int op, int src, int seg, int base, int index, int scale, int disp) {
        int off = ea(c, base, index, scale, disp);
        int res = Alu.arith(c, op, c.read32(seg, off), c.reg[src], DWORD);
        if (op != Alu.OP_CMP) {
            c.write32(seg, off, res);
        }
    }

    static void aluMI(Cpu c, int op, int imm, int seg, int base, int index, int scale, int disp) {
        int off = ea(c, base, index, scale, disp);
        int res = Alu.arith(c, op, c.read32(seg, off), imm, DWORD);
        if (op != Alu.OP_CMP) {
            c.write32(seg, off, res);
        }
    }

    static void testRR(Cpu c, int a, int b) {
        Alu.test(c, c.reg[a], c.reg[b], DWORD);
    }

    static void testRI(Cpu c, int a, int imm) {
        Alu.test(c, c.reg[a], imm, DWORD);
    }

    static void inc(Cpu c, int r) {
        c.reg[r] = Alu.inc(c, c.reg[r], DWORD);
    }

    static void dec(Cpu c, int r) {
        c.reg[r] = Alu.dec(c, c.reg[r], DWORD);
    }

    static void shiftRI(Cpu c, int op, int r, int count) {
        c.reg[r] = Alu.shift(c, op, c.reg[r], count, DWORD);
    }

    static void imulRRI(Cpu c, int dst, int src, int imm) {
        long product = (long) c.reg[src] * imm;
        int low = (int) product;
        Alu.setMultiplyFlags(c, product != low, low, DWORD);
        c.reg[dst] = low;
    }

    static void imulRR(Cpu c, int dst, int src) {
        long product = (long) c.reg[dst] * c.reg[src];
        int low = (int) product;
        Alu.setMultiplyFlags(c, product != low, low, DWORD);
        c.reg[dst] = low;
    }

    static void setcc(Cpu c, int cc, int r8) {
        int value = Alu.condition(c, cc) ? 1 : 0;
        if (r8 < 4) {
            c.reg[r8] = (c.reg[r8] & ~0xFF) | value;
        } else {
            c.reg[r8 - 4] = (c.reg[r8 - 4] & ~0xFF00) | value << 8;
        }
    }

    static void cmov(Cpu c, int cc, int dst, int src) {
        if (Alu.condition(c, cc)) {
            c.reg[dst] = c.reg[src];
        }
    }

    static boolean condition(Cpu c, int cc) {
        return Alu.condition(c, cc);
    }

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

    static void cdq(Cpu c) {
        c.reg[Cpu.EDX] = c.reg[Cpu.EAX] >> 31;
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

package hvlab.hw.cpu;

import static hvlab.hw.cpu.Alu.BYTE;
import static hvlab.hw.cpu.Alu.DWORD;
import static hvlab.hw.cpu.Cpu.DS;
import static hvlab.hw.cpu.Cpu.EAX;
import static hvlab.hw.cpu.Cpu.ECX;
import static hvlab.hw.cpu.Cpu.EDI;
import static hvlab.hw.cpu.Cpu.EDX;
import static hvlab.hw.cpu.Cpu.ES;
import static hvlab.hw.cpu.Cpu.ESI;

/**
 * MOVS, CMPS, STOS, LODS, SCAS, INS and OUTS with REP, REPE and REPNE (SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ").
 * A repeated instruction runs a bounded number of iterations per step and then restarts itself, so interrupts
 * are taken between iterations as on the processor; every iteration counts as one retired instruction.
 */
final class StringOps {
    /** Iterations per step before the instruction restarts itself to let events in. */
    private static final int ITERATIONS_PER_STEP = 1024;

    private StringOps() {
    }

    static void execute(Interpreter in, int op) {
        Cpu c = in.c;
        int size = (op & 1) == 0 ? BYTE : in.size();
        int kind = op & 0xFE;
        if (c.repPrefix == 0) {
            once(in, kind, size);
            return;
        }
        repeat(in, kind, size);
    }

    /** 6C-6F: INS and OUTS; the I/O permission is checked once, before the first iteration. */
    static void io(Interpreter in, int op) {
        Cpu c = in.c;
        int size = (op & 1) == 0 ? BYTE : in.size();
        SystemOps.checkIoPermission(in, c.reg[EDX] & 0xFFFF, 1 << size);
        int kind = op & 0xFE;
        if (c.repPrefix == 0) {
            once(in, kind, size);
            return;
        }
        repeat(in, kind, size);
    }

    private static void repeat(Interpreter in, int kind, int size) {
        Cpu c = in.c;
        boolean conditional = kind == 0xA6 || kind == 0xAE;
        boolean whileEqual = c.repPrefix == 0xF3;
        int done = 0;
        while (true) {
            int count = c.addrSize32 ? c.reg[ECX] : c.reg[ECX] & 0xFFFF;
            if (count == 0) {
                break;
            }
            if (done == ITERATIONS_PER_STEP) {
                c.eip = c.startEip; // restart: the remaining iterations run after pending events
                break;
            }
            once(in, kind, size);
            done++;
            setCount(c, count - 1);
            if (conditional && Alu.zf(c) != whileEqual) {
                break;
            }
        }
        if (done > 1) {
            c.retired += done - 1;
        }
    }

    private static void setCount(Cpu c, int count) {
        if (c.addrSize32) {
            c.reg[ECX] = count;
        } else {
            c.reg[ECX] = (c.reg[ECX] & 0xFFFF0000) | (count & 0xFFFF);
        }
    }

    private static void once(Interpreter in, int kind, int size) {
        Cpu c = in.c;
        int src = c.segOverride >= 0 ? c.segOverride : DS;
        int width = 1 << size;
        int step = (c.flags & Cpu.DF) != 0 ? -width : width;
        int si = index(c, ESI), di = index(c, EDI);
        switch (kind) {
            case 0xA4 -> { // MOVS
                in.writeMem(size, ES, di, in.readMem(size, src, si));
                advance(c, ESI, step);
                advance(c, EDI, step);
            }
            case 0xA6 -> { // CMPS
                int a = in.readMem(size, src, si);
                int b = in.readMem(size, ES, di);
                Alu.arith(c, Alu.OP_CMP, a, b, size);
                advance(c, ESI, step);
                advance(c, EDI, step);
            }
            case 0xAA -> { // STOS
                in.writeMem(size, ES, di, in.readReg(EAX, size));
                advance(c, EDI, step);
            }
            case 0xAC -> { // LODS
                in.writeReg(EAX, size, in.readMem(size, src, si));
                advance(c, ESI, step);
            }
            case 0xAE -> { // SCAS
                Alu.arith(c, Alu.OP_CMP, in.readReg(EAX, size), in.readMem(size, ES, di), size);
                advance(c, EDI, step);
            }
            case 0x6C -> { // INS: the destination is checked before the port is read
                c.linearForWrite(ES, di, width);
                int value = SystemOps.portRead(c, c.reg[EDX] & 0xFFFF, width);
                in.writeMem(size, ES, di, value);
                advance(c, EDI, step);
            }
            case 0x6E -> { // OUTS
                int value = in.readMem(size, src, si);
                SystemOps.portWrite(c, c.reg[EDX] & 0xFFFF, width, value);
                advance(c, ESI, step);
            }
            default -> throw c.ud();
        }
    }

    private static int index(Cpu c, int n) {
        return c.addrSize32 ? c.reg[n] : c.reg[n] & 0xFFFF;
    }

    private static void advance(Cpu c, int n, int step) {
        if (c.addrSize32) {
            c.reg[n] += step;
        } else {
            c.reg[n] = (c.reg[n] & 0xFFFF0000) | ((c.reg[n] + step) & 0xFFFF);
        }
    }

}

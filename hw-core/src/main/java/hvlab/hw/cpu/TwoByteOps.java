package hvlab.hw.cpu;

import static hvlab.hw.cpu.Alu.BYTE;
import static hvlab.hw.cpu.Alu.DWORD;
import static hvlab.hw.cpu.Alu.WORD;
import static hvlab.hw.cpu.Cpu.EAX;
import static hvlab.hw.cpu.Cpu.ECX;
import static hvlab.hw.cpu.Cpu.EDX;
import static hvlab.hw.cpu.Cpu.FS;
import static hvlab.hw.cpu.Cpu.GS;
import static hvlab.hw.cpu.Cpu.SS;

/** The two-byte opcode map, 0F xx (SDM Vol. 2D, Table A-3), up to the P6 integer instruction set. */
final class TwoByteOps {
    private final Interpreter in;
    private final Cpu c;
    private final int[] reg;

    TwoByteOps(Interpreter interpreter) {
        this.in = interpreter;
        this.c = interpreter.c;
        this.reg = interpreter.reg;
    }

    void execute(int op) {
        if (op >= 0x80 && op <= 0x8F) { // Jcc rel16/32
            int displacement = in.fetchImm(in.size());
            if (Alu.condition(c, op & 0xF)) {
                in.jumpNear(c.eip + displacement);
            }
            return;
        }
        if (op >= 0x90 && op <= 0x9F) { // SETcc
            in.modrm();
            in.writeRm(BYTE, Alu.condition(c, op & 0xF) ? 1 : 0);
            return;
        }
        if (op >= 0x40 && op <= 0x4F) { // CMOVcc: the source is read (and may fault) even when not moved
            int size = in.size();
            in.modrm();
            int value = in.readRm(size);
            if (Alu.condition(c, op & 0xF)) {
                in.writeReg(c.modrmReg, size, value);
            } else if (size == DWORD) {
                in.writeReg(c.modrmReg, size, reg[c.modrmReg]);
            }
            return;
        }
        if (op >= 0xC8 && op <= 0xCF) { // BSWAP
            reg[op & 7] = Integer.reverseBytes(reg[op & 7]);
            return;
        }
        if (op < 0x40) {
            system(op);
        } else {
            bitsAndMisc(op);
        }
    }

    // ---- 0F 00 - 0F 3F: system instructions ----

    private void system(int op) {
        switch (op) {
            case 0x00 -> group6();
            case 0x01 -> group7();
            case 0x02, 0x03 -> loadAccessOrLimit(op == 0x02);
            case 0x06 -> {
                SystemOps.requireCpl0(c);
                if (!(c.vmx.nonRoot && c.vmx.exit.clts())) {
                    c.cr0 &= ~Cpu.CR0_TS;
                }
            }
            case 0x08, 0x09 -> { // INVD, WBINVD: no caches are modelled
                SystemOps.requireCpl0(c);
                if (c.vmx.nonRoot) {
                    if (op == 0x08) {
                        c.vmx.exit.invd();
                    }
                    c.vmx.exit.wbinvd();
                }
            }
            case 0x0B -> throw c.ud(); // UD2
            case 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F -> in.modrm(); // hint NOPs (P6)
            case 0x20, 0x22 -> moveControlRegister(op == 0x22);
            case 0x21, 0x23 -> moveDebugRegister(op == 0x23);
            case 0x30 -> {
                SystemOps.requireCpl0(c);
                if (c.vmx.nonRoot) {
                    c.vmx.exit.msr(true, reg[ECX]);
                }
                SystemOps.writeMsr(c, reg[ECX], (long) reg[EDX] << 32 | (reg[EAX] & 0xFFFFFFFFL));
            }
            case 0x31 -> {
                if ((c.cr4 & Cpu.CR4_TSD) != 0 && c.cpl != 0 && c.protectedMode()) {
                    throw c.gp(0);
                }
                long tsc = SystemOps.timeStampCounter(c);
                if (c.vmx.nonRoot) {
                    tsc = c.vmx.exit.rdtsc(tsc);
                }
                reg[EAX] = (int) tsc;
                reg[EDX] = (int) (tsc >>> 32);
            }
            case 0x32 -> {
                SystemOps.requireCpl0(c);
                if (c.vmx.nonRoot) {
                    c.vmx.exit.msr(false, reg[ECX]);
                }
                long value = SystemOps.readMsr(c, reg[ECX]);
                reg[EAX] = (int) value;
                reg[EDX] = (int) (value >>> 32);
            }
            case 0x33 -> {
                long count = SystemOps.readPerformanceCounter(c, reg[ECX]);
                reg[EAX] = (int) count;
                reg[EDX] = (int) (count >>> 32);
            }
            case 0x34 -> SystemOps.sysenter(c);
            case 0x35 -> SystemOps.sysexit(c);
            case 0x38 -> { // the 0F 38 map: INVEPT and INVVPID (66 0F 38 80/81) only
                int third = c.fetch8();
                if (third != 0x80 && third != 0x81) {
                    throw c.ud();
                }
                c.vmx.invalidateInstruction(in, third);
            }
            default -> throw c.ud();
        }
    }

    private void group6() {
        if (!c.protectedMode() || c.v86Mode()) {
            throw c.ud();
        }
        in.modrm();
        switch (c.modrmReg) {
            case 0 -> storeSelector(c.ldtSel);
            case 1 -> storeSelector(c.trSel);
            case 2 -> {
                SystemOps.requireCpl0(c);
                SystemOps.lldt(c, in.readRm(WORD));
            }
            case 3 -> {
                SystemOps.requireCpl0(c);
                SystemOps.ltr(c, in.readRm(WORD));
            }
            case 4, 5 -> {
                int selector = in.readRm(WORD);
                long desc = SystemOps.checkedDescriptor(c, selector, 0);
                boolean ok = false;
                if (desc != -1) {
                    int hi = (int) (desc >>> 32);
                    ok = c.modrmReg == 4
                            ? Descriptors.isSegment(hi) && (!Descriptors.isCode(hi) || (Descriptors.type(hi) & 2) != 0)
                            : Descriptors.isWritableData(hi);
                }
                Alu.setFlag(c, Cpu.ZF, ok);
            }
            default -> throw c.ud();
        }
    }

    private void storeSelector(int selector) {
        if (c.modrmMod == 3) {
            in.writeReg(c.modrmRm, in.size(), selector & 0xFFFF);
        } else {
            c.write16(c.eaSeg, c.eaOff, selector);
        }
    }

    private void group7() {
        in.modrm();
        int op = c.modrmReg;
        if (c.modrmMod == 3 && op != 4 && op != 6) {
            if (op == 0) { // VMCALL, VMLAUNCH, VMRESUME, VMXOFF (0F 01 C1-C4)
                c.vmx.group7Register(in, c.modrmRm);
            } else if (op == 2 && c.modrmRm == 4) { // VMFUNC (0F 01 D4)
                c.vmx.vmfuncInstruction();
            } else {
                throw c.ud();
            }
            return;
        }
        switch (op) {
            case 0, 1 -> { // SGDT, SIDT
                int limit = op == 0 ? c.gdtLimit : c.idtLimit;
                int base = op == 0 ? c.gdtBase : c.idtBase;
                c.write16(c.eaSeg, c.eaOff, limit);
                c.write32(c.eaSeg, in.eaPlus(2), c.opSize32 ? base : base & 0x00FFFFFF);
            }
            case 2, 3 -> { // LGDT, LIDT
                SystemOps.requireCpl0(c);
                int limit = c.read16(c.eaSeg, c.eaOff);
                int base = c.read32(c.eaSeg, in.eaPlus(2));
                if (!c.opSize32) {
                    base &= 0x00FFFFFF;
                }
                if (op == 2) {
                    c.gdtLimit = limit;
                    c.gdtBase = base;
                } else {
                    c.idtLimit = limit;
                    c.idtBase = base;
                }
            }
            case 4 -> { // SMSW
                int cr0 = c.vmx.nonRoot ? c.vmx.exit.guestCr0() : c.cr0;
                if (c.modrmMod == 3) {
                    in.writeReg(c.modrmRm, in.size(), cr0);
                } else {
                    c.write16(c.eaSeg, c.eaOff, cr0);
                }
            }
            case 6 -> { // LMSW: PE can be set but not cleared
                SystemOps.requireCpl0(c);
                int value = in.readRm(WORD) & 0xF;
                int cr0 = (c.cr0 & ~0xE) | (value & 0xE) | (c.cr0 & 1) | (value & 1);
                if (c.vmx.nonRoot) {
                    cr0 = c.vmx.exit.lmsw(value, cr0, c.modrmMod != 3, c.segBase[c.eaSeg] + c.eaOff);
                }
                SystemOps.writeCr0(c, cr0);
            }
            case 7 -> { // INVLPG
                SystemOps.requireCpl0(c);
                if (c.vmx.nonRoot) {
                    c.vmx.exit.invlpg(c.segBase[c.eaSeg] + c.eaOff);
                }
                c.mmu.invalidatePage(c.segBase[c.eaSeg] + c.eaOff);
            }
            default -> throw c.ud();
        }
    }

    private void loadAccessOrLimit(boolean accessRights) {
        if (!c.protectedMode() || c.v86Mode()) {
            throw c.ud();
        }
        int size = in.size();
        in.modrm();
        int selector = in.readRm(WORD);
        long desc = SystemOps.checkedDescriptor(c, selector,
                accessRights ? SystemOps.LAR_SYSTEM_TYPES : SystemOps.LSL_SYSTEM_TYPES);
        if (desc == -1) {
            Alu.setFlag(c, Cpu.ZF, false);
            return;
        }
        int hi = (int) (desc >>> 32), lo = (int) desc;
        int value = accessRights ? hi & 0x00FFFF00 : Descriptors.limit(hi, lo);
        in.writeReg(c.modrmReg, size, value);
        Alu.setFlag(c, Cpu.ZF, true);
    }

    private void moveControlRegister(boolean toCr) {
        int m = c.fetch8(); // the mod field is ignored: always a register operand
        int crIndex = (m >>> 3) & 7, r = m & 7;
        SystemOps.requireCpl0(c);
        if (c.vmx.nonRoot && (crIndex == 0 || crIndex == 3 || crIndex == 4) && c.vmx.exit.movCr(toCr, crIndex, r)) {
            return;
        }
        if (!toCr) {
            reg[r] = switch (crIndex) {
                case 0 -> c.cr0;
                case 2 -> c.cr2;
                case 3 -> c.cr3;
                case 4 -> c.cr4;
                default -> throw c.ud();
            };
            return;
        }
        int value = reg[r];
        switch (crIndex) {
            case 0 -> SystemOps.writeCr0(c, value);
            case 2 -> c.cr2 = value;
            case 3 -> SystemOps.writeCr3(c, value);
            case 4 -> SystemOps.writeCr4(c, value);
            default -> throw c.ud();
        }
    }

    private void moveDebugRegister(boolean toDr) {
        int m = c.fetch8();
        int drIndex = (m >>> 3) & 7, r = m & 7;
        SystemOps.requireCpl0(c);
        if ((drIndex == 4 || drIndex == 5) && (c.cr4 & Cpu.CR4_DE) != 0) {
            throw c.ud();
        }
        int index = drIndex == 4 ? 6 : drIndex == 5 ? 7 : drIndex;
        if (c.vmx.nonRoot) {
            c.vmx.exit.movDr(toDr, drIndex, r);
        }
        if (toDr) {
            c.dr[index] = reg[r];
        } else {
            reg[r] = c.dr[index];
        }
    }

    // ---- 0F 40 - 0F FF: bit operations, shifts, exchanges, moves ----

    private void bitsAndMisc(int op) {
        switch (op) {
            case 0xA0 -> c.push(c.segSel[FS]);
            case 0xA1 -> c.loadSegment(FS, c.pop());
            case 0xA8 -> c.push(c.segSel[GS]);
            case 0xA9 -> c.loadSegment(GS, c.pop());
            case 0xA2 -> {
                if (c.vmx.nonRoot) {
                    c.vmx.exit.cpuid();
                }
                CpuIdentity.cpuid(reg, c.cpuidFeaturesEcx());
            }
            case 0x78, 0x79 -> c.vmx.readWriteInstruction(in, op == 0x79);
            case 0xAE -> c.x87.fxsaveGroup();
            case 0xA3, 0xAB, 0xB3, 0xBB -> bitTestRegister(op);
            case 0xBA -> bitTestImmediate();
            case 0xA4, 0xA5, 0xAC, 0xAD -> {
                int size = in.size();
                in.modrm();
                int dst = in.readRm(size);
                int count = (op & 1) == 0 ? c.fetch8() : reg[ECX] & 0xFF;
                in.writeRm(size, Alu.doubleShift(c, op < 0xAC, dst, in.readReg(c.modrmReg, size), count, size));
            }
            case 0xAF -> {
                int size = in.size();
                in.modrm();
                in.writeReg(c.modrmReg, size, in.imul2(in.readReg(c.modrmReg, size), in.readRm(size), size));
            }
            case 0xB0, 0xB1 -> compareExchange(op == 0xB0 ? BYTE : in.size());
            case 0xB2 -> in.loadFarPointer(SS);
            case 0xB4 -> in.loadFarPointer(FS);
            case 0xB5 -> in.loadFarPointer(GS);
            case 0xB6, 0xB7, 0xBE, 0xBF -> {
                int size = in.size();
                int srcSize = (op & 1) == 0 ? BYTE : WORD;
                in.modrm();
                int value = in.readRm(srcSize);
                in.writeReg(c.modrmReg, size, op >= 0xBE ? Alu.signExtend(value, srcSize) : value);
            }
            case 0xBC, 0xBD -> bitScan(op == 0xBC);
            case 0xC0, 0xC1 -> {
                int size = op == 0xC0 ? BYTE : in.size();
                in.modrm();
                int dst = in.readRm(size);
                int src = in.readReg(c.modrmReg, size);
                int sum = Alu.arith(c, Alu.OP_ADD, dst, src, size);
                in.writeRm(size, sum);
                in.writeReg(c.modrmReg, size, dst);
                if (c.modrmMod == 3 && c.modrmRm == c.modrmReg) {
                    in.writeReg(c.modrmReg, size, sum);
                }
            }
            case 0xC7 -> compareExchange8Bytes();
            default -> throw c.ud();
        }
    }

    private void bitTestRegister(int op) {
        int size = in.size();
        in.modrm();
        int bitOffset = in.readReg(c.modrmReg, size);
        if (c.modrmMod == 3) {
            int value = in.readReg(c.modrmRm, size);
            int bit = bitOffset & (Alu.bits(size) - 1);
            int result = bitOperation(op, value, bit);
            if (op != BT) {
                in.writeReg(c.modrmRm, size, result);
            }
            return;
        }
        // A memory bit string: the signed offset selects the word relative to the operand (SDM "BT").
        int signed = Alu.signExtend(bitOffset, size);
        int width = size == DWORD ? 4 : 2;
        int displacement = (signed >> (size == DWORD ? 5 : 4)) * width;
        int off = in.eaPlus(displacement);
        int value = in.readMem(size, c.eaSeg, off);
        int bit = signed & (Alu.bits(size) - 1);
        int result = bitOperation(op, value, bit);
        if (op != BT) {
            in.writeMem(size, c.eaSeg, off, result);
        }
    }

    private void bitTestImmediate() {
        int size = in.size();
        in.modrm();
        if (c.modrmReg < 4) {
            throw c.ud();
        }
        int value = in.readRm(size);
        int bit = c.fetch8() & (Alu.bits(size) - 1);
        int op = switch (c.modrmReg) {
            case 4 -> 0xA3;
            case 5 -> 0xAB;
            case 6 -> 0xB3;
            default -> 0xBB;
        };
        int result = bitOperation(op, value, bit);
        if (op != BT) {
            in.writeRm(size, result);
        }
    }

    private static final int BT = 0xA3;

    /** Sets CF from the bit and returns the operand as BT (unchanged), BTS, BTR or BTC leave it. */
    private int bitOperation(int op, int value, int bit) {
        Alu.setFlag(c, Cpu.CF, (value >>> bit & 1) != 0);
        return switch (op) {
            case 0xAB -> value | 1 << bit;
            case 0xB3 -> value & ~(1 << bit);
            case 0xBB -> value ^ 1 << bit;
            default -> value;
        };
    }

    private void bitScan(boolean forward) {
        int size = in.size();
        in.modrm();
        int value = in.readRm(size) & Alu.mask(size);
        if (value == 0) {
            Alu.setFlag(c, Cpu.ZF, true); // destination unchanged, as every IA-32 processor does
            return;
        }
        int index = forward ? Integer.numberOfTrailingZeros(value) : 31 - Integer.numberOfLeadingZeros(value);
        in.writeReg(c.modrmReg, size, index);
        Alu.setArith(c, false, false, index, size, false);
        Alu.setFlag(c, Cpu.ZF, false);
    }

    private void compareExchange(int size) {
        in.modrm();
        int dst = in.readRm(size);
        int accumulator = in.readReg(EAX, size);
        Alu.arith(c, Alu.OP_CMP, accumulator, dst, size);
        if (Alu.zf(c)) {
            in.writeRm(size, in.readReg(c.modrmReg, size));
        } else {
            if (c.modrmMod != 3) {
                in.writeRm(size, dst); // the processor always writes the destination (SDM "CMPXCHG")
            }
            in.writeReg(EAX, size, dst);
        }
    }

    private void compareExchange8Bytes() {
        in.modrm();
        if (c.modrmReg == 6 || c.modrmReg == 7) { // VMPTRLD, VMCLEAR, VMXON, VMPTRST (RDRAND/RDSEED with mod = 3)
            c.vmx.group9(in);
            return;
        }
        if (c.modrmReg != 1 || c.modrmMod == 3) {
            throw c.ud();
        }
        int low = c.read32(c.eaSeg, c.eaOff);
        int high = c.read32(c.eaSeg, in.eaPlus(4));
        if (low == reg[EAX] && high == reg[EDX]) {
            c.linearForWrite(c.eaSeg, c.eaOff, 8);
            c.write32(c.eaSeg, c.eaOff, reg[Cpu.EBX]);
            c.write32(c.eaSeg, in.eaPlus(4), reg[ECX]);
            Alu.setFlag(c, Cpu.ZF, true);
        } else {
            c.write32(c.eaSeg, c.eaOff, low);
            c.write32(c.eaSeg, in.eaPlus(4), high);
            reg[EAX] = low;
            reg[EDX] = high;
            Alu.setFlag(c, Cpu.ZF, false);
        }
    }
}

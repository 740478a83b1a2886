package hvlab.hw.cpu;

import static hvlab.hw.cpu.Alu.BYTE;
import static hvlab.hw.cpu.Alu.DWORD;
import static hvlab.hw.cpu.Alu.WORD;

/**
 * Decodes instructions for {@link BlockCompiler}: the common forms compiled code handles itself (moves, ALU
 * operations, TEST, LEA, INC/DEC/NOT/NEG, shifts, MOVZX/MOVSX, SETcc, CMOVcc, IMUL, PUSH/POP, near branches) in 32-bit
 * code, with segment-override and operand-size prefixes; any other instruction that may run in a block is marked
 * {@link #INTERPRET} ({@link InstructionLength}). Reads straight from one page of RAM: a block never crosses a page.
 */
final class BlockDecoder {
    // Instruction kinds.
    static final int UNSUPPORTED = 0, MOV_RR = 1, MOV_RI = 2, LOAD = 3, STORE = 4, STORE_IMM = 5, ALU_RR = 6,
            ALU_RI = 7, ALU_RM = 8, ALU_MR = 9, ALU_MI = 10, TEST_RR = 11, TEST_RI = 12, LEA = 13, INC = 14,
            DEC = 15, PUSH_R = 16, POP_R = 17, PUSH_I = 18, JCC = 19, JMP = 20, CALL = 21, RET = 22,
            LOAD_EXTEND = 23, EXTEND_RR = 24, SHIFT_RI = 25, SETCC = 26, CMOV = 27, IMUL_RRI = 28, IMUL_RR = 29,
            NOP = 30, LEAVE = 31, CDQ = 32, TEST_MI = 33, NOT = 34, NEG = 35, SHIFT_RCL = 36,
            /** Any other instruction a block may run through the interpreter. */
            INTERPRET = 37;

    /** One decoded instruction; reused, so decoding allocates nothing. */
    static final class Instruction {
        int kind, length, size, op, reg, rm, seg, base, index, scale, disp, imm, cc, target, signed;
        boolean memory;
    }

    private final byte[] ram;
    private int at;
    private int pageEnd;

    BlockDecoder(byte[] ram) {
        this.ram = ram;
    }

    /** Decodes the instruction at (physical, eip) in 32-bit code; false when a block cannot contain it. */
    boolean decode(int physical, int eip, Instruction insn) {
        at = physical;
        pageEnd = (physical | 0xFFF) + 1;
        insn.kind = UNSUPPORTED;
        insn.memory = false;
        insn.seg = -1;
        insn.signed = 0;
        try {
            boolean operand16 = false;
            int op = next();
            for (int prefixes = 0; prefixes < 4; prefixes++) {
                int seg = segmentOverride(op);
                if (seg >= 0) {
                    insn.seg = seg;
                } else if (op == 0x66) {
                    operand16 = true;
                } else {
                    break;
                }
                op = next();
            }
            insn.size = operand16 ? WORD : DWORD;
            if (!decodeOpcode(op, insn, operand16)) {
                return interpreted(physical, insn);
            }
        } catch (PageEnd e) {
            return interpreted(physical, insn);
        }
        insn.length = at - physical;
        if (insn.kind == JCC || insn.kind == JMP || insn.kind == CALL) {
            insn.target = eip + insn.length + insn.imm;
        }
        return true;
    }

    private static int segmentOverride(int op) {
        return switch (op) {
            case 0x26 -> Cpu.ES;
            case 0x2E -> Cpu.CS;
            case 0x36 -> Cpu.SS;
            case 0x3E -> Cpu.DS;
            case 0x64 -> Cpu.FS;
            case 0x65 -> Cpu.GS;
            default -> -1;
        };
    }

    private boolean interpreted(int physical, Instruction insn) {
        int length = InstructionLength.inlineLength(ram, physical, pageEnd, true);
        if (length < 0) {
            return false;
        }
        insn.kind = INTERPRET;
        insn.length = length;
        return true;
    }

    private boolean decodeOpcode(int op, Instruction insn, boolean operand16) {
        if (op < 0x40 && (op & 7) < 6) {
            return decodeAlu(op, insn);
        }
        if (operand16 && !(op >= 0x88 && op <= 0x8B || op == 0xC7 || op >= 0xB8 && op <= 0xBF
                || op == 0x81 || op == 0x83 || op == 0x85)) {
            return false; // the 16-bit forms compiled code handles; the rest go to the interpreter
        }
        switch (op) {
            case 0x0F -> {
                return decodeTwoByte(next(), insn);
            }
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47 -> registerForm(insn, INC, op & 7);
            case 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F -> registerForm(insn, DEC, op & 7);
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> registerForm(insn, PUSH_R, op & 7);
            case 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F -> registerForm(insn, POP_R, op & 7);
            case 0x68, 0x6A -> {
                insn.kind = PUSH_I;
                insn.imm = op == 0x68 ? imm32() : (byte) next();
            }
            case 0x69, 0x6B -> {
                modrm(insn);
                insn.kind = IMUL_RRI;
                insn.imm = op == 0x69 ? imm32() : (byte) next();
                return !insn.memory;
            }
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F -> {
                insn.kind = JCC;
                insn.cc = op & 0xF;
                insn.imm = (byte) next();
            }
            case 0x80, 0x81, 0x82, 0x83 -> {
                if (op == 0x80 || op == 0x82) {
                    insn.size = BYTE;
                }
                modrm(insn);
                insn.op = insn.reg;
                insn.imm = op == 0x81 ? immediate(insn.size) : (byte) next();
                insn.kind = insn.memory ? ALU_MI : ALU_RI;
                insn.reg = insn.rm;
            }
            case 0x84, 0x85 -> {
                sized(insn, op == 0x84);
                modrm(insn);
                insn.kind = TEST_RR;
                return !insn.memory;
            }
            case 0x88, 0x89 -> {
                sized(insn, op == 0x88);
                modrm(insn);
                insn.kind = insn.memory ? STORE : MOV_RR;
                if (!insn.memory) {
                    swapRegAndRm(insn); // MOV r/m, r: the destination is rm
                }
            }
            case 0x8A, 0x8B -> {
                sized(insn, op == 0x8A);
                modrm(insn);
                insn.kind = insn.memory ? LOAD : MOV_RR;
            }
            case 0x8D -> {
                modrm(insn);
                insn.kind = LEA;
                return insn.memory;
            }
            case 0x90 -> insn.kind = NOP;
            case 0x99 -> insn.kind = CDQ;
            case 0xA8, 0xA9 -> {
                sized(insn, op == 0xA8);
                insn.kind = TEST_RI;
                insn.reg = Cpu.EAX;
                insn.imm = immediate(insn.size);
            }
            case 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7 -> {
                insn.size = BYTE;
                registerForm(insn, MOV_RI, op & 7);
                insn.imm = next();
            }
            case 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> {
                registerForm(insn, MOV_RI, op & 7);
                insn.imm = immediate(insn.size);
            }
            case 0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3 -> {
                sized(insn, (op & 1) == 0);
                modrm(insn);
                insn.op = insn.reg;
                insn.reg = insn.rm;
                insn.kind = op >= 0xD2 ? SHIFT_RCL : SHIFT_RI;
                insn.imm = op <= 0xC1 ? next() : 1;
                return !insn.memory;
            }
            case 0xC3 -> insn.kind = RET;
            case 0xC6, 0xC7 -> {
                sized(insn, op == 0xC6);
                modrm(insn);
                insn.kind = STORE_IMM;
                insn.imm = immediate(insn.size);
                return insn.memory && insn.reg == 0;
            }
            case 0xC9 -> insn.kind = LEAVE;
            case 0xE8 -> {
                insn.kind = CALL;
                insn.imm = imm32();
            }
            case 0xE9, 0xEB -> {
                insn.kind = JMP;
                insn.imm = op == 0xE9 ? imm32() : (byte) next();
            }
            case 0xF6, 0xF7 -> {
                sized(insn, op == 0xF6);
                modrm(insn);
                switch (insn.reg) {
                    case 0 -> {
                        insn.kind = insn.memory ? TEST_MI : TEST_RI;
                        insn.imm = immediate(insn.size);
                        insn.reg = insn.rm;
                    }
                    case 2, 3 -> {
                        insn.kind = insn.reg == 2 ? NOT : NEG;
                        insn.reg = insn.rm;
                        return !insn.memory;
                    }
                    default -> {
                        return false;
                    }
                }
            }
            case 0xFE -> {
                insn.size = BYTE;
                modrm(insn);
                if (insn.memory || insn.reg > 1) {
                    return false;
                }
                insn.kind = insn.reg == 0 ? INC : DEC;
                insn.reg = insn.rm;
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** 00-3F: the eight ALU operations in their six forms (SDM Vol. 2D, Table A-2). */
    private boolean decodeAlu(int op, Instruction insn) {
        insn.op = op >>> 3;
        int form = op & 7;
        if ((form & 1) == 0) {
            insn.size = BYTE;
        }
        switch (form) {
            case 0, 1 -> { // op r/m, r
                modrm(insn);
                insn.kind = insn.memory ? ALU_MR : ALU_RR;
                if (!insn.memory) {
                    swapRegAndRm(insn);
                }
            }
            case 2, 3 -> { // op r, r/m
                modrm(insn);
                insn.kind = insn.memory ? ALU_RM : ALU_RR;
            }
            default -> { // op AL/eAX, imm
                insn.kind = ALU_RI;
                insn.reg = Cpu.EAX;
                insn.imm = immediate(insn.size);
            }
        }
        return true;
    }

    private boolean decodeTwoByte(int op, Instruction insn) {
        if (insn.size != DWORD) {
            return false;
        }
        if (op >= 0x80 && op <= 0x8F) {
            insn.kind = JCC;
            insn.cc = op & 0xF;
            insn.imm = imm32();
            return true;
        }
        if (op >= 0x90 && op <= 0x9F || op >= 0x40 && op <= 0x4F) {
            modrm(insn);
            insn.kind = op >= 0x90 ? SETCC : CMOV;
            insn.cc = op & 0xF;
            return !insn.memory;
        }
        switch (op) {
            case 0xAF -> {
                modrm(insn);
                insn.kind = IMUL_RR;
                return !insn.memory;
            }
            case 0xB6, 0xB7, 0xBE, 0xBF -> {
                modrm(insn);
                insn.size = (op & 1) == 0 ? BYTE : WORD;
                insn.signed = op >= 0xBE ? 1 : 0;
                insn.kind = insn.memory ? LOAD_EXTEND : EXTEND_RR;
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private static void registerForm(Instruction insn, int kind, int reg) {
        insn.kind = kind;
        insn.reg = reg;
    }

    private static void sized(Instruction insn, boolean byteForm) {
        if (byteForm) {
            insn.size = BYTE;
        }
    }

    private static void swapRegAndRm(Instruction insn) {
        int dst = insn.rm;
        insn.rm = insn.reg;
        insn.reg = dst;
    }

    /** ModRM and SIB with 32-bit addressing (SDM Vol. 2A, Tables 2-2 and 2-3). */
    private void modrm(Instruction insn) {
        int m = next();
        int mod = m >>> 6, rm = m & 7;
        insn.reg = (m >>> 3) & 7;
        insn.rm = rm;
        if (mod == 3) {
            insn.memory = false;
            return;
        }
        insn.memory = true;
        int base = rm, index = CompiledOps.NONE, scale = 0, disp = 0;
        if (rm == 4) {
            int sib = next();
            base = sib & 7;
            index = (sib >>> 3) & 7;
            scale = sib >>> 6;
            if (index == 4) {
                index = CompiledOps.NONE;
            }
            if (base == 5 && mod == 0) {
                base = CompiledOps.NONE;
                disp = imm32();
            }
        } else if (rm == 5 && mod == 0) {
            base = CompiledOps.NONE;
            disp = imm32();
        }
        if (mod == 1) {
            disp += (byte) next();
        } else if (mod == 2) {
            disp += imm32();
        }
        insn.base = base;
        insn.index = index;
        insn.scale = scale;
        insn.disp = disp;
        if (insn.seg == -1) {
            insn.seg = base == Cpu.ESP || base == Cpu.EBP ? Cpu.SS : Cpu.DS;
        }
    }

    private int immediate(int size) {
        return switch (size) {
            case BYTE -> next();
            case WORD -> next() | next() << 8;
            default -> imm32();
        };
    }

    private int imm32() {
        int b0 = next(), b1 = next(), b2 = next(), b3 = next();
        return b0 | b1 << 8 | b2 << 16 | b3 << 24;
    }

    private int next() {
        if (at >= pageEnd) {
            throw PageEnd.INSTANCE;
        }
        return ram[at++] & 0xFF;
    }

    /** The instruction runs past the block's page: end the block before it. */
    private static final class PageEnd extends RuntimeException {
        static final PageEnd INSTANCE = new PageEnd();

        private PageEnd() {
            super(null, null, false, false);
        }
    }
}

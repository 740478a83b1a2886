package hvlab.hw.cpu;

/**
 * Decodes, for {@link BlockCompiler}, the 32-bit instruction forms that compiled code handles itself: register and
 * memory moves, ALU operations, LEA, INC/DEC, PUSH/POP, shifts by a constant, MOVZX/MOVSX, SETcc, CMOVcc, IMUL and
 * near branches, with no prefix other than a segment override. Anything else ends the block and is interpreted.
 * Reads instruction bytes straight from one page of RAM: a block never crosses a page.
 */
final class BlockDecoder {
    // Instruction kinds.
    static final int UNSUPPORTED = 0, MOV_RR = 1, MOV_RI = 2, LOAD = 3, STORE = 4, STORE_IMM = 5, ALU_RR = 6,
            ALU_RI = 7, ALU_RM = 8, ALU_MR = 9, ALU_MI = 10, TEST_RR = 11, TEST_RI = 12, LEA = 13, INC = 14,
            DEC = 15, PUSH_R = 16, POP_R = 17, PUSH_I = 18, JCC = 19, JMP = 20, CALL = 21, RET = 22, MOVZX8 = 23,
            MOVZX16 = 24, MOVSX8 = 25, MOVSX16 = 26, SHIFT_RI = 27, SETCC = 28, CMOV = 29, IMUL_RRI = 30,
            IMUL_RR = 31, NOP = 32, LEAVE = 33, CDQ = 34, STORE8 = 35, LOAD_ZX8_R = 36,
            /** Any other instruction a block may run through the interpreter ({@link InstructionLength}). */
            INTERPRET = 37;

    /** One decoded instruction; reused, so the decoder allocates nothing per instruction. */
    static final class Instruction {
        int kind, length, op, reg, rm, seg, base, index, scale, disp, imm, cc, target;
        boolean memory;
    }

    private final byte[] ram;
    private int at;
    private int pageEnd;

    BlockDecoder(byte[] ram) {
        this.ram = ram;
    }

    /**
     * Decodes the instruction at physical address {@code physical}, at offset {@code eip}; returns false when the
     * form is not one compiled code handles, or it would run past the page.
     */
    boolean decode(int physical, int eip, Instruction insn) {
        at = physical;
        pageEnd = (physical | 0xFFF) + 1;
        insn.kind = UNSUPPORTED;
        insn.memory = false;
        insn.seg = -1;
        try {
            int op = next();
            if (op == 0x26 || op == 0x2E || op == 0x36 || op == 0x3E || op == 0x64 || op == 0x65) {
                insn.seg = switch (op) {
                    case 0x26 -> Cpu.ES;
                    case 0x2E -> Cpu.CS;
                    case 0x36 -> Cpu.SS;
                    case 0x3E -> Cpu.DS;
                    case 0x64 -> Cpu.FS;
                    default -> Cpu.GS;
                };
                op = next();
            }
            if (!decodeOpcode(op, insn)) {
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

    private boolean interpreted(int physical, Instruction insn) {
        int length = InstructionLength.inlineLength(ram, physical, pageEnd, true);
        if (length < 0) {
            return false;
        }
        insn.kind = INTERPRET;
        insn.length = length;
        return true;
    }

    private boolean decodeOpcode(int op, Instruction insn) {
        if (op < 0x40 && (op & 7) < 6) {
            insn.op = op >>> 3;
            switch (op & 7) {
                case 1 -> { // op r/m32, r32
                    modrm(insn);
                    insn.kind = insn.memory ? ALU_MR : ALU_RR;
                    if (!insn.memory) { // dst = rm, src = reg
                        int dst = insn.rm;
                        insn.rm = insn.reg;
                        insn.reg = dst;
                    }
                    return true;
                }
                case 3 -> { // op r32, r/m32
                    modrm(insn);
                    insn.kind = insn.memory ? ALU_RM : ALU_RR;
                    return true;
                }
                case 5 -> { // op eax, imm32
                    insn.kind = ALU_RI;
                    insn.reg = Cpu.EAX;
                    insn.imm = imm32();
                    return true;
                }
                default -> {
                    return false;
                }
            }
        }
        switch (op) {
            case 0x0F -> {
                return decodeTwoByte(next(), insn);
            }
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47 -> {
                insn.kind = INC;
                insn.reg = op & 7;
            }
            case 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F -> {
                insn.kind = DEC;
                insn.reg = op & 7;
            }
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> {
                insn.kind = PUSH_R;
                insn.reg = op & 7;
            }
            case 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F -> {
                insn.kind = POP_R;
                insn.reg = op & 7;
            }
            case 0x68 -> {
                insn.kind = PUSH_I;
                insn.imm = imm32();
            }
            case 0x6A -> {
                insn.kind = PUSH_I;
                insn.imm = (byte) next();
            }
            case 0x69, 0x6B -> {
                modrm(insn);
                if (insn.memory) {
                    return false;
                }
                insn.kind = IMUL_RRI;
                insn.imm = op == 0x69 ? imm32() : (byte) next();
            }
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F -> {
                insn.kind = JCC;
                insn.cc = op & 0xF;
                insn.imm = (byte) next();
            }
            case 0x81, 0x83 -> {
                modrm(insn);
                insn.op = insn.reg;
                insn.imm = op == 0x81 ? imm32() : (byte) next();
                insn.kind = insn.memory ? ALU_MI : ALU_RI;
                insn.reg = insn.rm;
            }
            case 0x85 -> {
                modrm(insn);
                if (insn.memory) {
                    return false;
                }
                insn.kind = TEST_RR;
            }
            case 0x88 -> {
                modrm(insn);
                if (!insn.memory) {
                    return false;
                }
                insn.kind = STORE8;
            }
            case 0x89 -> {
                modrm(insn);
                insn.kind = insn.memory ? STORE : MOV_RR;
                if (!insn.memory) {
                    int dst = insn.rm;
                    insn.rm = insn.reg;
                    insn.reg = dst;
                }
            }
            case 0x8B -> {
                modrm(insn);
                insn.kind = insn.memory ? LOAD : MOV_RR;
            }
            case 0x8D -> {
                modrm(insn);
                if (!insn.memory) {
                    return false;
                }
                insn.kind = LEA;
            }
            case 0x90 -> insn.kind = NOP;
            case 0x99 -> insn.kind = CDQ;
            case 0xA9 -> {
                insn.kind = TEST_RI;
                insn.reg = Cpu.EAX;
                insn.imm = imm32();
            }
            case 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> {
                insn.kind = MOV_RI;
                insn.reg = op & 7;
                insn.imm = imm32();
            }
            case 0xC1, 0xD1 -> { // shift r32 by imm8, or by 1
                modrm(insn);
                if (insn.memory) {
                    return false;
                }
                insn.kind = SHIFT_RI;
                insn.op = insn.reg;
                insn.reg = insn.rm;
                insn.imm = op == 0xC1 ? next() : 1;
            }
            case 0xC3 -> {
                insn.kind = RET;
                insn.imm = 0;
            }
            case 0xC7 -> {
                modrm(insn);
                if (!insn.memory || insn.reg != 0) {
                    return false;
                }
                insn.kind = STORE_IMM;
                insn.imm = imm32();
            }
            case 0xC9 -> insn.kind = LEAVE;
            case 0xE8 -> {
                insn.kind = CALL;
                insn.imm = imm32();
            }
            case 0xE9 -> {
                insn.kind = JMP;
                insn.imm = imm32();
            }
            case 0xEB -> {
                insn.kind = JMP;
                insn.imm = (byte) next();
            }
            case 0xF7 -> {
                modrm(insn);
                if (insn.memory || insn.reg != 0) {
                    return false;
                }
                insn.kind = TEST_RI;
                insn.reg = insn.rm;
                insn.imm = imm32();
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private boolean decodeTwoByte(int op, Instruction insn) {
        if (op >= 0x80 && op <= 0x8F) {
            insn.kind = JCC;
            insn.cc = op & 0xF;
            insn.imm = imm32();
            return true;
        }
        if (op >= 0x90 && op <= 0x9F) {
            modrm(insn);
            if (insn.memory) {
                return false;
            }
            insn.kind = SETCC;
            insn.cc = op & 0xF;
            return true;
        }
        if (op >= 0x40 && op <= 0x4F) {
            modrm(insn);
            if (insn.memory) {
                return false;
            }
            insn.kind = CMOV;
            insn.cc = op & 0xF;
            return true;
        }
        switch (op) {
            case 0xAF -> {
                modrm(insn);
                if (insn.memory) {
                    return false;
                }
                insn.kind = IMUL_RR;
            }
            case 0xB6, 0xB7, 0xBE, 0xBF -> {
                modrm(insn);
                if (!insn.memory) {
                    if (op != 0xB6) {
                        return false;
                    }
                    insn.kind = LOAD_ZX8_R;
                    return true;
                }
                insn.kind = switch (op) {
                    case 0xB6 -> MOVZX8;
                    case 0xB7 -> MOVZX16;
                    case 0xBE -> MOVSX8;
                    default -> MOVSX16;
                };
            }
            default -> {
                return false;
            }
        }
        return true;
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
        int defaultSeg = Cpu.DS;
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
        if (base == Cpu.ESP || base == Cpu.EBP) {
            defaultSeg = Cpu.SS;
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
            insn.seg = defaultSeg;
        }
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

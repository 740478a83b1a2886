package hvlab.hw.cpu;

/**
 * Re-reads the instruction that caused a VM exit for the parts of the exit information the interpreter does not
 * keep: the VM-exit instruction-information field and the displacement (SDM Vol. 3C, 27.2.1, 27.2.4), and the form
 * of an I/O instruction (Table 27-5). Only exits call it: the bytes were fetched a moment ago and fetch again
 * without fault.
 */
final class VmxDecode {
    private VmxDecode() {
    }

    /** The byte at {@code index} from the start of the current instruction. */
    private static int byteAt(Cpu c, int index) {
        int offset = c.code32 ? c.startEip + index : (c.startEip + index) & 0xFFFF;
        return c.mmu.fetch8(c.segBase[Cpu.CS] + offset, offset);
    }

    /** The index of the first byte after the legacy prefixes. */
    private static int opcodeIndex(Cpu c) {
        int i = 0;
        while (OpcodeTable.isPrefix(byteAt(c, i))) {
            i++;
        }
        return i;
    }

    /** The base and index registers of each 16-bit ModRM.rm (SDM Vol. 2A, Table 2-1). */
    private static final int[] BASES16 = {Cpu.EBX, Cpu.EBX, Cpu.EBP, Cpu.EBP, Cpu.ESI, Cpu.EDI, Cpu.EBP, Cpu.EBX};
    private static final int[] INDEXES16 = {Cpu.ESI, Cpu.EDI, Cpu.ESI, Cpu.EDI, -1, -1, -1, -1};

    /** The instruction-information field for an instruction with a ModRM operand (Table 27-13), and the displacement. */
    record OperandInfo(int info, int displacement) {
        static OperandInfo decode(Cpu c) {
            int at = opcodeIndex(c);
            if (byteAt(c, at) == 0x0F) {
                at++;
                if (byteAt(c, at) == 0x38) {
                    at++;
                }
            }
            int modrm = byteAt(c, at + 1);
            int mod = modrm >>> 6, reg = modrm >>> 3 & 7, rm = modrm & 7;
            boolean registerOperand = byteAt(c, at) != 0xC7; // group 9's ModRM.reg is the opcode, not a register
            int info = (registerOperand ? reg << 28 : 0) | (c.addrSize32 ? 1 : 0) << 7;
            if (mod == 3) {
                return new OperandInfo(info | rm << 3 | 1 << 10, 0);
            }
            int base = -1, index = -1, scale = 0, displacement;
            int next = at + 2;
            if (c.addrSize32) {
                if (rm == 4) {
                    int sib = byteAt(c, next++);
                    scale = sib >>> 6;
                    index = (sib >>> 3 & 7) == 4 ? -1 : sib >>> 3 & 7;
                    base = (sib & 7) == 5 && mod == 0 ? -1 : sib & 7;
                } else if (!(rm == 5 && mod == 0)) {
                    base = rm;
                }
                boolean disp32 = mod == 2 || mod == 0 && (rm == 5 || rm == 4 && base < 0);
                displacement = mod == 1 ? (byte) byteAt(c, next) : disp32 ? dword(c, next) : 0;
            } else {
                base = rm == 6 && mod == 0 ? -1 : BASES16[rm];
                index = INDEXES16[rm];
                boolean disp16 = mod == 2 || mod == 0 && rm == 6;
                displacement = mod == 1 ? (byte) byteAt(c, next)
                        : disp16 ? (short) (byteAt(c, next) | byteAt(c, next + 1) << 8) : 0;
            }
            info |= scale | c.eaSeg << 15 | (index < 0 ? 1 << 22 : index << 18) | (base < 0 ? 1 << 27 : base << 23);
            return new OperandInfo(info, displacement);
        }

        private static int dword(Cpu c, int at) {
            return byteAt(c, at) | byteAt(c, at + 1) << 8 | byteAt(c, at + 2) << 16 | byteAt(c, at + 3) << 24;
        }
    }

    /** IN, OUT, INS or OUTS: the direction, string form and immediate port operand of the current instruction. */
    record IoInstruction(boolean in, boolean string, boolean immediate) {
        static IoInstruction decode(Cpu c) {
            int op = byteAt(c, opcodeIndex(c));
            return switch (op & 0xFE) {
                case 0x6C -> new IoInstruction(true, true, false);
                case 0x6E -> new IoInstruction(false, true, false);
                case 0xE4 -> new IoInstruction(true, false, true);
                case 0xE6 -> new IoInstruction(false, false, true);
                case 0xEC -> new IoInstruction(true, false, false);
                default -> new IoInstruction(false, false, false); // EE, EF
            };
        }
    }
}

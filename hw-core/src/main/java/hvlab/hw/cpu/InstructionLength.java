package hvlab.hw.cpu;

/**
 * The length of an IA-32 instruction from its bytes alone (prefixes, opcode, ModRM/SIB, displacement, immediates;
 * SDM Vol. 2A ch. 2), and whether a compiled block may run it through the interpreter without ending. Both come
 * from the {@link OpcodeTable}: its operand patterns give ModRM presence and immediate sizes, its flow classes what
 * may run in line. Public for VMM software that emulates an instruction which exited without a length (an EPT
 * violation or a #PF on a device page: SDM Vol. 3C 27.2.5 defines the VM-exit instruction length for neither).
 */
public final class InstructionLength {
    private InstructionLength() {
    }

    /**
     * The length of the instruction at {@code at} in {@code bytes} (which must not be read at or past
     * {@code end}), or -1 when it is not one a block may interpret in line, or does not end before {@code end}.
     */
    static int inlineLength(byte[] bytes, int at, int end, boolean code32) {
        return length(bytes, at, end, code32, true);
    }

    /** The length of the instruction at {@code at}, or -1 when it is undefined or does not end before {@code end}. */
    public static int length(byte[] bytes, int at, int end, boolean code32) {
        return length(bytes, at, end, code32, false);
    }

    private static int length(byte[] bytes, int at, int end, boolean code32, boolean inlineOnly) {
        int start = at;
        boolean operand32 = code32, address32 = code32;
        int op;
        while (true) {
            if (at >= end || at - start >= 14) {
                return -1;
            }
            op = bytes[at++] & 0xFF;
            if (!OpcodeTable.isPrefix(op)) {
                break;
            }
            if (op == 0x66) {
                operand32 = !code32;
            } else if (op == 0x67) {
                address32 = !code32;
            }
        }
        boolean twoByte = op == 0x0F;
        if (twoByte) {
            if (at >= end) {
                return -1;
            }
            op = bytes[at++] & 0xFF;
        }
        int index = OpcodeTable.index(twoByte, op);
        if (twoByte && op == 0x38) { // the 0F 38 three-byte map
            if (at >= end) {
                return -1;
            }
            index = OpcodeTable.index38(bytes[at++] & 0xFF);
        }
        int modrmReg = 0;
        if (OpcodeTable.isGroup(index)) {
            if (at >= end) {
                return -1;
            }
            modrmReg = (bytes[at] >>> 3) & 7;
        }
        if (inlineOnly && !OpcodeTable.mayRunInline(index, modrmReg)) {
            return -1;
        }
        OpcodeTable.Opcode opcode = OpcodeTable.opcode(index, modrmReg);
        int length;
        if (opcode == null) {
            if (!OpcodeTable.isGroup(index)) {
                return -1;
            }
            length = modrmLength(bytes, at, end, address32); // an undefined group form: #UD after the ModRM byte
        } else if (!opcode.hasModrm()) {
            length = 0;
        } else {
            length = opcode.ignoresMod() ? (at < end ? 1 : -1) : modrmLength(bytes, at, end, address32);
        }
        if (length < 0) {
            return -1;
        }
        if (opcode != null) {
            length += opcode.immediateLength(operand32, address32);
        }
        int total = at - start + length;
        return start + total <= end ? total : -1;
    }

    /** ModRM, SIB and displacement bytes (SDM Vol. 2A, Tables 2-1 to 2-3). */
    static int modrmLength(byte[] bytes, int at, int end, boolean address32) {
        if (at >= end) {
            return -1;
        }
        int modrm = bytes[at] & 0xFF;
        int mod = modrm >>> 6, rm = modrm & 7;
        if (mod == 3) {
            return 1;
        }
        if (!address32) {
            return 1 + (mod == 1 ? 1 : mod == 2 || mod == 0 && rm == 6 ? 2 : 0);
        }
        int length = 1;
        if (rm == 4) {
            if (at + 1 >= end) {
                return -1;
            }
            length++;
            if (mod == 0 && (bytes[at + 1] & 7) == 5) {
                length += 4;
            }
        } else if (mod == 0 && rm == 5) {
            length += 4;
        }
        return length + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
    }
}

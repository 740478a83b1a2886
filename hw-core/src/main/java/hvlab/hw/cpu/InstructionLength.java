package hvlab.hw.cpu;

/**
 * The length of an IA-32 instruction from its bytes alone (prefixes, opcode, ModRM/SIB, displacement, immediates;
 * SDM Vol. 2A ch. 2 and the opcode maps of Vol. 2D, Appendix A), and whether a compiled block may run it through
 * the interpreter without ending: it must not change CS, the interrupt flag, paging or descriptor tables, and must
 * not do I/O (events are looked at between blocks).
 */
final class InstructionLength {
    private static final long[] ONE_BYTE_MODRM = bits(0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0A, 0x0B, 0x10, 0x11,
            0x12, 0x13, 0x18, 0x19, 0x1A, 0x1B, 0x20, 0x21, 0x22, 0x23, 0x28, 0x29, 0x2A, 0x2B, 0x30, 0x31, 0x32,
            0x33, 0x38, 0x39, 0x3A, 0x3B, 0x62, 0x63, 0x69, 0x6B, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
            0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0xC0, 0xC1, 0xC4, 0xC5, 0xC6, 0xC7, 0xD0, 0xD1, 0xD2,
            0xD3, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xF6, 0xF7, 0xFE, 0xFF);
    private static final long[] ONE_BYTE_IMM8 = bits(0x04, 0x0C, 0x14, 0x1C, 0x24, 0x2C, 0x34, 0x3C, 0x6A, 0x6B,
            0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F, 0x80,
            0x82, 0x83, 0xA8, 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xC0, 0xC1, 0xC6, 0xCD, 0xD4, 0xD5,
            0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xEB);
    private static final long[] ONE_BYTE_IMMZ = bits(0x05, 0x0D, 0x15, 0x1D, 0x25, 0x2D, 0x35, 0x3D, 0x68, 0x69,
            0x81, 0xA9, 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF, 0xC7, 0xE8, 0xE9);
    /** One-byte opcodes a block may interpret in line. */
    private static final long[] ONE_BYTE_INLINE = union(range(0x00, 0x05), range(0x08, 0x0D), range(0x10, 0x15),
            range(0x18, 0x1D), range(0x20, 0x25), range(0x27, 0x2D), range(0x2F, 0x35), range(0x37, 0x3D),
            bits(0x06, 0x0E, 0x16, 0x1E, 0x3F), range(0x40, 0x62), range(0x68, 0x6B), range(0x70, 0x7F),
            range(0x80, 0x8D), bits(0x8F), range(0x90, 0x99), bits(0x9C, 0x9E, 0x9F), range(0xA0, 0xAF),
            range(0xB0, 0xC3), bits(0xC6, 0xC7, 0xC8, 0xC9), range(0xD0, 0xD7), range(0xE0, 0xE3),
            bits(0xE8, 0xE9, 0xEB, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFC, 0xFD, 0xFE, 0xFF));
    private static final long[] TWO_BYTE_MODRM = union(range(0x00, 0x03), range(0x18, 0x1F), range(0x20, 0x23),
            range(0x40, 0x4F), range(0x90, 0x9F), bits(0xA3, 0xA4, 0xA5, 0xAB, 0xAC, 0xAD, 0xAF),
            range(0xB0, 0xB7), range(0xBA, 0xBF), bits(0xC0, 0xC1, 0xC7));
    private static final long[] TWO_BYTE_INLINE = union(bits(0x1F, 0x31, 0xA2, 0xA3, 0xA4, 0xA5, 0xAB, 0xAC, 0xAD,
            0xAF, 0xB0, 0xB1, 0xB3, 0xB6, 0xB7, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF, 0xC0, 0xC1, 0xC7),
            range(0x40, 0x4F), range(0x80, 0x9F), range(0xC8, 0xCF));

    private InstructionLength() {
    }

    /**
     * The length of the instruction at {@code at} in {@code bytes} (which must not be read at or past
     * {@code end}), or -1 when it is not one a block may interpret in line, or does not end before {@code end}.
     */
    static int inlineLength(byte[] bytes, int at, int end, boolean code32) {
        int start = at;
        boolean operand32 = code32, address32 = code32;
        int op;
        while (true) {
            if (at >= end || at - start >= 14) {
                return -1;
            }
            op = bytes[at++] & 0xFF;
            switch (op) {
                case 0x66 -> operand32 = !code32;
                case 0x67 -> address32 = !code32;
                case 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0xF0, 0xF2, 0xF3 -> { }
                default -> {
                    return rest(bytes, start, at, end, op, operand32, address32);
                }
            }
        }
    }

    private static int rest(byte[] bytes, int start, int at, int end, int op, boolean operand32, boolean address32) {
        int immz = operand32 ? 4 : 2;
        int length;
        if (op == 0x0F) {
            if (at >= end) {
                return -1;
            }
            int op2 = bytes[at++] & 0xFF;
            if (!has(TWO_BYTE_INLINE, op2)) {
                return -1;
            }
            length = has(TWO_BYTE_MODRM, op2) ? modrmLength(bytes, at, end, address32) : 0;
            if (length < 0) {
                return -1;
            }
            if (op2 == 0xA4 || op2 == 0xAC || op2 == 0xBA) {
                length += 1;
            } else if (op2 >= 0x80 && op2 <= 0x8F) {
                length += immz;
            }
        } else {
            if (!has(ONE_BYTE_INLINE, op)) {
                return -1;
            }
            length = has(ONE_BYTE_MODRM, op) ? modrmLength(bytes, at, end, address32) : 0;
            if (length < 0) {
                return -1;
            }
            if (op == 0xFF && at < end) {
                int reg = (bytes[at] >>> 3) & 7;
                if (reg == 3 || reg == 5 || reg == 7) {
                    return -1; // far CALL/JMP change CS
                }
            }
            if (has(ONE_BYTE_IMM8, op)) {
                length += 1;
            } else if (has(ONE_BYTE_IMMZ, op)) {
                length += immz;
            } else if (op == 0xC2) {
                length += 2;
            } else if (op == 0xC8) {
                length += 3;
            } else if (op >= 0xA0 && op <= 0xA3) {
                length += address32 ? 4 : 2;
            } else if ((op == 0xF6 || op == 0xF7) && at < end && ((bytes[at] >>> 3) & 7) < 2) {
                length += op == 0xF6 ? 1 : immz;
            }
        }
        int total = at - start + length;
        return start + total <= end ? total : -1;
    }

    /** ModRM, SIB and displacement bytes (SDM Vol. 2A, Tables 2-1 to 2-3). */
    private static int modrmLength(byte[] bytes, int at, int end, boolean address32) {
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

    private static boolean has(long[] set, int op) {
        return (set[op >>> 6] >>> (op & 63) & 1) != 0;
    }

    private static long[] bits(int... ops) {
        long[] set = new long[4];
        for (int op : ops) {
            set[op >>> 6] |= 1L << (op & 63);
        }
        return set;
    }

    private static long[] range(int first, int last) {
        long[] set = new long[4];
        for (int op = first; op <= last; op++) {
            set[op >>> 6] |= 1L << (op & 63);
        }
        return set;
    }

    private static long[] union(long[]... sets) {
        long[] all = new long[4];
        for (long[] set : sets) {
            for (int i = 0; i < 4; i++) {
                all[i] |= set[i];
            }
        }
        return all;
    }
}

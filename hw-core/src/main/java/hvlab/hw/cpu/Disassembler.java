package hvlab.hw.cpu;

import hvlab.hw.cpu.OpcodeTable.Opcode;
import hvlab.hw.cpu.OpcodeTable.Operand;

/**
 * Intel-syntax disassembly driven by the {@link OpcodeTable}, in NASM's style as {@code ndisasm} prints it (and as
 * the SingleStepTests vectors name their instructions): {@code add word [es:bx+di-66ABh],0FFD3h}. A memory operand
 * shows its segment only when overridden away from the default, and its size only when no register operand fixes
 * it; numbers are hexadecimal with an {@code h} suffix from 10 up; relative targets are absolute.
 */
public final class Disassembler {
    /** One disassembled instruction: how many bytes it takes and its text. */
    public record Instruction(int length, String text) {
    }

    private static final String[] REG8 = {"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"};
    private static final String[] REG16 = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
    private static final String[] REG32 = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    private static final String[] SEGMENTS = {"es", "cs", "ss", "ds", "fs", "gs", "?", "?"};
    private static final String[] MEMORY16 = {"bx+si", "bx+di", "bp+si", "bp+di", "si", "di", "bp", "bx"};
    private static final String BAD = "(bad)";

    private final byte[] code;
    private final int start;
    private final boolean code32;
    private int at;
    private boolean operand32, address32;
    private int segment = -1, repeat, modrm = -1, opcodeByte, relative;
    private boolean lock;

    private Disassembler(byte[] code, int offset, boolean code32) {
        this.code = code;
        this.start = offset;
        this.at = offset;
        this.code32 = code32;
        this.operand32 = code32;
        this.address32 = code32;
    }

    /**
     * Disassembles the instruction at {@code code[offset]}, which the CPU would fetch at {@code eip} (for
     * relative targets) in 16- or 32-bit code. Bytes past the array read as missing: the text is then "(bad)".
     */
    public static Instruction disassemble(byte[] code, int offset, int eip, boolean code32) {
        Disassembler d = new Disassembler(code, offset, code32);
        String text;
        try {
            text = d.instruction(eip);
        } catch (ArrayIndexOutOfBoundsException e) {
            text = BAD;
        }
        return new Instruction(Math.min(d.at, code.length) - offset, text);
    }

    private String instruction(int eip) {
        int op = prefixes();
        boolean twoByte = op == 0x0F;
        if (twoByte) {
            op = next();
        }
        opcodeByte = op;
        if (!twoByte && op >= 0xD8 && op <= 0xDF) {
            return x87(op);
        }
        int index = OpcodeTable.index(twoByte, op);
        if (twoByte && op == 0x38) {
            index = OpcodeTable.index38(next());
        }
        Opcode opcode = OpcodeTable.opcode(index);
        if (opcode == null && OpcodeTable.isGroup(index)) {
            modrm = next();
            opcode = mandatoryPrefixForm(index, opcode(index, modrm));
        } else if (opcode != null && opcode.hasModrm()) {
            modrm = next();
        }
        if (opcode == null || opcode.flow() == OpcodeTable.Flow.PREFIX) {
            return BAD;
        }
        String mnemonic = opcode.mnemonic(operand32, address32);
        String[] texts = new String[opcode.operands().size()];
        String memory = null;
        for (int i = 0; i < texts.length; i++) {
            Operand operand = opcode.operands().get(i);
            if (isMemory(operand)) {
                if ((modrm >>> 6) == 3) {
                    if (operand.mode() == 'M') {
                        return BAD;
                    }
                    texts[i] = register(modrm & 7, operand.type());
                    continue;
                }
                memory = memoryOperand(operand, opcode);
                texts[i] = memory;
            } else {
                texts[i] = operand(operand);
            }
        }
        int end = at - start;
        StringBuilder out = new StringBuilder();
        if (lock) {
            out.append("lock ");
        }
        if (repeat != 0) {
            boolean compares = mnemonic.startsWith("cmps") || mnemonic.startsWith("scas");
            out.append(repeat == 0xF2 ? "repne " : compares ? "repe " : "rep ");
        }
        if (memory == null && segment >= 0 && segment != Cpu.DS && usesDsImplicitly(opcode)) {
            out.append(SEGMENTS[segment]).append(' ');
        }
        out.append(mnemonic);
        boolean stringInstruction = opcode.operands().stream().anyMatch(o -> o.mode() == 'X' || o.mode() == 'Y');
        StringBuilder operands = new StringBuilder();
        for (int i = 0; i < texts.length; i++) {
            Operand operand = opcode.operands().get(i);
            if (stringInstruction || i == 1 && texts[1].equals(texts[0]) && texts.length == 3) {
                continue; // a string instruction's operands are implied; NASM writes IMUL r,r,imm as IMUL r,imm
            }
            String text = operand.mode() == 'J' ? target(operand, mnemonic, eip + end) : texts[i];
            operands.append(operands.isEmpty() ? "" : ",").append(text);
        }
        if (!operands.isEmpty()) {
            out.append(' ').append(operands);
        }
        return out.toString();
    }

    /** A group member, or the form its whole ModRM byte selects (VMCALL and kin: SDM Vol. 2D, Table A-6). */
    private static Opcode opcode(int index, int modrm) {
        Opcode registerForm = (modrm >>> 6) == 3 ? OpcodeTable.registerForm(index, modrm) : null;
        return registerForm != null ? registerForm : OpcodeTable.opcode(index, (modrm >>> 3) & 7);
    }

    /** The form a mandatory F3 or 66 prefix selects (VMXON, VMCLEAR); the prefix is then part of the opcode. */
    private Opcode mandatoryPrefixForm(int index, Opcode plain) {
        int reg = (modrm >>> 3) & 7;
        Opcode form = repeat == 0xF3 ? OpcodeTable.prefixedForm(0xF3, index, reg) : null;
        if (form != null) {
            repeat = 0;
            return form;
        }
        form = operand32 != code32 ? OpcodeTable.prefixedForm(0x66, index, reg) : null;
        return form != null ? form : plain;
    }

    /**
     * An x87 instruction in NASM's style, as the SingleStepTests name them: {@code fadd dword [bx+si]},
     * {@code fadd st3} (ST(0) implied), {@code fadd to st3} (ST(i) the destination), {@code fcom} for ST(1).
     */
    private String x87(int escape) {
        modrm = next();
        Opcode opcode = OpcodeTable.x87(escape, modrm);
        if (opcode == null) {
            return BAD;
        }
        StringBuilder out = new StringBuilder(lock ? "lock " : "").append(opcode.mnemonic());
        if ((modrm >>> 6) != 3) {
            Operand operand = opcode.operands().get(0);
            String size = switch (operand.type()) { // beyond the integer sizes sizeKeyword knows
                case "q" -> "qword ";
                case "t" -> "tword ";
                default -> "";
            };
            return out.append(' ').append(size).append(memoryOperand(operand, opcode)).toString();
        }
        int i = modrm & 7;
        boolean impliedSt1 = i == 1 && (opcode.mnemonic().equals("fcom") || opcode.mnemonic().equals("fcomp"));
        if (!opcode.pattern().isEmpty() && !impliedSt1) {
            out.append(' ').append(opcode.pattern().replace("{i}", Integer.toString(i)).toLowerCase());
        }
        return out.toString();
    }

    private int prefixes() {
        while (true) {
            int op = next();
            switch (op) {
                case 0x26, 0x2E, 0x36, 0x3E -> segment = op >>> 3 & 3;
                case 0x64, 0x65 -> segment = op == 0x64 ? Cpu.FS : Cpu.GS;
                case 0x66 -> operand32 = !code32;
                case 0x67 -> address32 = !code32;
                case 0xF0 -> lock = true;
                case 0xF2, 0xF3 -> repeat = op;
                default -> {
                    return op;
                }
            }
            if (at - start >= 15) {
                throw new ArrayIndexOutOfBoundsException("longer than 15 bytes"); // read as (bad)
            }
        }
    }

    private static boolean isMemory(Operand operand) {
        return operand.mode() == 'E' || operand.mode() == 'M';
    }

    private static boolean usesDsImplicitly(Opcode opcode) {
        return opcode.mnemonic().equals("xlatb")
                || opcode.operands().stream().anyMatch(o -> o.mode() == 'X');
    }

    private String operand(Operand operand) {
        int reg = (modrm >>> 3) & 7;
        return switch (operand.mode()) {
            case 'G' -> register(reg, operand.type());
            case 'S' -> SEGMENTS[reg];
            case 'R' -> register(modrm & 7, operand.type()); // MOV CRn/DRn: mod is ignored
            case 'C' -> "cr" + reg;
            case 'D' -> "dr" + reg;
            case 'Z' -> register(opcodeByte & 7, operand.type());
            case 'I' -> immediate(operand.type());
            case 'O' -> "[" + segmentPrefix(Cpu.DS) + hex(address32 ? next32() : next16()) + "]";
            case 'A' -> {
                int offset = operand32 ? next32() : next16();
                yield hex(next16()) + ":" + hex(offset);
            }
            case 'J' -> {
                relative = operand.type().equals("b") ? (byte) next() : operand32 ? next32() : (short) next16();
                yield ""; // the target is known once the length is
            }
            case 'X', 'Y' -> "";
            default -> fixedRegister(operand.fixed());
        };
    }

    private String fixedRegister(String fixed) {
        return switch (fixed) {
            case "eAX" -> operand32 ? "eax" : "ax";
            case "1" -> "1";
            default -> fixed.toLowerCase();
        };
    }

    private String register(int n, String type) {
        return switch (type) {
            case "b" -> REG8[n];
            case "w" -> REG16[n];
            case "d" -> REG32[n];
            default -> operand32 ? REG32[n] : REG16[n];
        };
    }

    private String immediate(String type) {
        return switch (type) {
            case "b" -> hex(next());
            case "bs" -> hex(operand32 ? (byte) next() : (byte) next() & 0xFFFF);
            case "w" -> hex(next16());
            default -> hex(operand32 ? next32() : next16());
        };
    }

    private String target(Operand operand, String mnemonic, int nextEip) {
        int target = nextEip + relative;
        if (!operand32) {
            target &= 0xFFFF;
        }
        boolean shortJump = operand.type().equals("b") && mnemonic.charAt(0) == 'j' && !mnemonic.endsWith("cxz");
        return (shortJump ? "short " : "") + paddedHex(target, operand32 ? 8 : 4);
    }

    private String memoryOperand(Operand operand, Opcode opcode) {
        int mod = modrm >>> 6, rm = modrm & 7;
        int defaultSegment = Cpu.DS;
        String address;
        if (!address32) {
            if (mod == 0 && rm == 6) {
                address = hex(next16());
            } else {
                address = MEMORY16[rm] + displacement(mod == 1 ? (byte) next() : mod == 2 ? (short) next16() : 0);
                defaultSegment = rm == 2 || rm == 3 || rm == 6 ? Cpu.SS : Cpu.DS;
            }
        } else if (rm == 4) {
            int sib = next();
            int base = sib & 7, index = (sib >>> 3) & 7, scale = sib >>> 6;
            String indexText = index == 4 ? "" : REG32[index] + (scale == 0 ? "" : "*" + (1 << scale));
            if (base == 5 && mod == 0) {
                int disp = next32();
                address = indexText.isEmpty() ? hex(disp) : indexText + displacement(disp);
            } else {
                defaultSegment = base == 4 || base == 5 ? Cpu.SS : Cpu.DS;
                address = REG32[base] + (indexText.isEmpty() ? "" : "+" + indexText)
                        + displacement(mod == 1 ? (byte) next() : mod == 2 ? next32() : 0);
            }
        } else if (mod == 0 && rm == 5) {
            address = hex(next32());
        } else {
            defaultSegment = rm == 5 ? Cpu.SS : Cpu.DS;
            address = REG32[rm] + displacement(mod == 1 ? (byte) next() : mod == 2 ? next32() : 0);
        }
        boolean lea = opcode.mnemonic().equals("lea");
        return sizeKeyword(operand, opcode) + "[" + (lea ? "" : segmentPrefix(defaultSegment)) + address + "]";
    }

    private String segmentPrefix(int defaultSegment) {
        return segment >= 0 && segment != defaultSegment ? SEGMENTS[segment] + ":" : "";
    }

    /** "byte ", "word " or "dword " unless a register operand of the same size already says it. */
    private String sizeKeyword(Operand memory, Opcode opcode) {
        String keyword = switch (memory.type()) {
            case "b" -> "byte";
            case "w" -> "word";
            case "d" -> "dword";
            case "v" -> operand32 ? "dword" : "word";
            default -> null; // far pointers, pseudo-descriptors, BOUND pairs: the mnemonic says
        };
        if (keyword == null) {
            return "";
        }
        for (Operand other : opcode.operands()) {
            if (other == memory) {
                continue;
            }
            boolean sizedRegister = other.mode() == 'G' || other.mode() == 'Z';
            if (other.mode() == 'S' || sizedRegister && sizeOf(other.type()) == sizeOf(memory.type())
                    || "AL".equals(other.fixed()) && memory.type().equals("b")
                    || "eAX".equals(other.fixed()) && memory.type().equals("v")) {
                return "";
            }
        }
        return keyword + " ";
    }

    private int sizeOf(String type) {
        return switch (type) {
            case "b" -> 1;
            case "w" -> 2;
            case "d" -> 4;
            default -> operand32 ? 4 : 2;
        };
    }

    private static String displacement(int value) {
        return value == 0 ? "" : value < 0 ? "-" + hex(-value) : "+" + hex(value);
    }

    /** NASM's hexadecimal: {@code 0Eh}, {@code 0FFD3h}; below ten a plain digit. */
    static String hex(int value) {
        long unsigned = value & 0xFFFFFFFFL;
        if (unsigned < 10) {
            return Long.toString(unsigned);
        }
        String digits = Long.toHexString(unsigned).toUpperCase();
        return (Character.isLetter(digits.charAt(0)) ? "0" : "") + digits + "h";
    }

    private static String paddedHex(int value, int width) {
        long unsigned = value & 0xFFFFFFFFL;
        if (unsigned < 10) {
            return Long.toString(unsigned);
        }
        String digits = String.format("%0" + width + "X", unsigned);
        return (Character.isLetter(digits.charAt(0)) ? "0" : "") + digits + "h";
    }

    private int next() {
        return code[at++] & 0xFF;
    }

    private int next16() {
        return next() | next() << 8;
    }

    private int next32() {
        return next16() | next16() << 16;
    }
}

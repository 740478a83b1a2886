package hvlab.hw.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * Every one-byte and 0F two-byte opcode the CPU implements, one line each, in the notation of the SDM's opcode maps
 * (Vol. 2D, Appendix A: Tables for the groups selected by ModRM.reg). This is the one source
 * of truth, as Bochs's {@code ia_opcodes.def} and v86's {@code x86_table.js} are: instruction lengths, which
 * instructions a compiled block may run in line ({@link InstructionLength}), LOCK legality ({@link Interpreter})
 * and the {@link Disassembler} all come from here.
 *
 * <p>The interpreter's handler switches are not generated from the table: a {@code tableswitch} on the opcode is
 * the fastest dispatch HotSpot offers, and several handlers must fetch their ModRM byte after a check of their
 * own (POP Ev, the x87 escapes' #NM), which a shared decode step ahead of dispatch would reorder. Neither is the
 * block decoder's choice of compiled forms, which is a property of the compiler, not of the instruction.
 *
 * <p>Operands (SDM A.2.1 and A.2.2): an addressing method letter and a type, or a fixed register.
 * E r/m, G ModRM.reg, M memory only, R register from ModRM.rm (mod ignored), S segment register, C/D control and
 * debug register, I immediate, J relative offset, A far pointer, O offset (moffs), X DS:eSI, Y ES:eDI. Types: b byte,
 * w word, d doubleword, v and z word or doubleword by operand size, p far pointer, a BOUND's pair, s pseudo-descriptor,
 * q quadword, dq double quadword, x an x87 operand. Beyond the SDM: Z is a register in the opcode's low three bits (the map's
 * "eAX"-"eDI" columns), {@code Ibs} is an immediate byte sign-extended to the operand size, and {@code eAX} is AX or
 * EAX by operand size. A mnemonic "a/b" names the 16- and 32-bit operand-size forms, "a|b" the address-size forms.
 */
public final class OpcodeTable {
    /** What a compiled block needs to know about an instruction (after v86's {@code block_boundary}). */
    public enum Flow {
        /** Changes nothing a block depends on: a block may run it in line. */
        PLAIN(true),
        /** Changes EIP only (near jumps, calls, returns, loops): a block may run it in line and then ends. */
        NEAR_BRANCH(true),
        /** Changes CS: far transfers, returns, software interrupts, SYSENTER/SYSEXIT. */
        CHANGES_CS(false),
        /** Loads a segment register other than CS, which may change the stack size or a base a block assumed. */
        LOADS_SEGMENT(false),
        /** Changes EFLAGS.IF (events are looked at only between blocks). */
        CHANGES_IF(false),
        /** Port I/O, which a device may answer by raising an interrupt. */
        IO(false),
        /** Privileged or system state: control and debug registers, descriptor tables, MSRs, HLT. */
        SYSTEM(false),
        /** The x87 escapes and WAIT. */
        X87(false),
        /** An instruction prefix (SDM Vol. 2A, 2.1.1). */
        PREFIX(false);

        private final boolean mayRunInline;

        Flow(boolean mayRunInline) {
            this.mayRunInline = mayRunInline;
        }

        public boolean mayRunInline() {
            return mayRunInline;
        }
    }

    /** One operand of an opcode's pattern: {@code mode} and {@code type} as in SDM A.2, or a fixed register. */
    public record Operand(char mode, String type, String fixed) {
        static Operand parse(String text) {
            boolean addressed = text.equals("M") || text.length() >= 2 // LEA's bare M: any size
                    && "EGMRSCDIJAOXYZ".indexOf(text.charAt(0)) >= 0
                    && text.substring(1).chars().allMatch(Character::isLowerCase);
            return addressed ? new Operand(text.charAt(0), text.substring(1), null) : new Operand('\0', "", text);
        }

        boolean usesModrm() {
            return "EGMRSCD".indexOf(mode) >= 0;
        }
    }

    /** One instruction form: its mnemonic, operand pattern, flow class and whether LOCK may precede it. */
    public record Opcode(String mnemonic, String pattern, Flow flow, boolean lockable, List<Operand> operands,
                         boolean hasModrm, int immediateBytes, int operandSizedImmediates,
                         boolean addressSizedImmediate) {
        static Opcode of(String mnemonic, String pattern, Flow flow, boolean lockable) {
            List<Operand> operands = new ArrayList<>();
            for (String text : pattern.isEmpty() ? new String[0] : pattern.split(",")) {
                operands.add(Operand.parse(text));
            }
            boolean modrm = false, moffs = false;
            int fixed = 0, sized = 0;
            for (Operand o : operands) {
                modrm |= o.usesModrm();
                switch (o.mode()) {
                    case 'I' -> {
                        switch (o.type()) {
                            case "b", "bs" -> fixed += 1;
                            case "w" -> fixed += 2;
                            default -> sized++; // v, z
                        }
                    }
                    case 'J' -> {
                        if (o.type().equals("b")) {
                            fixed += 1;
                        } else {
                            sized++;
                        }
                    }
                    case 'A' -> {
                        fixed += 2; // the selector after the offset
                        sized++;
                    }
                    case 'O' -> moffs = true;
                    default -> { }
                }
            }
            return new Opcode(mnemonic, pattern, flow, lockable, List.copyOf(operands), modrm, fixed, sized, moffs);
        }

        /** MOV to or from a control or debug register: ModRM.mod is ignored and no displacement follows. */
        public boolean ignoresMod() {
            for (Operand o : operands) {
                if (o.mode() == 'R') {
                    return true;
                }
            }
            return false;
        }

        /** The immediate bytes (and moffs) after the opcode and ModRM/SIB/displacement. */
        public int immediateLength(boolean operand32, boolean address32) {
            return immediateBytes + operandSizedImmediates * (operand32 ? 4 : 2)
                    + (addressSizedImmediate ? (address32 ? 4 : 2) : 0);
        }

        /** The mnemonic for these operand and address sizes ("cbw/cwde", "jcxz|jecxz"). */
        public String mnemonic(boolean operand32, boolean address32) {
            int slash = mnemonic.indexOf('/'), bar = mnemonic.indexOf('|');
            if (slash >= 0) {
                return operand32 ? mnemonic.substring(slash + 1) : mnemonic.substring(0, slash);
            }
            if (bar >= 0) {
                return address32 ? mnemonic.substring(bar + 1) : mnemonic.substring(0, bar);
            }
            return mnemonic;
        }
    }

    private static final int MAP_SIZE = 768; // one-byte map, the 0F map, then the 0F 38 map
    private static final Opcode[] OPCODES = new Opcode[MAP_SIZE];
    /** Forms the whole ModRM byte selects: group 7 with mod = 11B (SDM Vol. 2D, Table A-6), by index << 8 | ModRM. */
    private static final java.util.Map<Integer, Opcode> REGISTER_FORMS = new java.util.HashMap<>();
    /** Forms a mandatory 66 or F3 prefix selects (SDM Vol. 2D, A.4.1), by prefix << 16 | index << 3 | ModRM.reg. */
    private static final java.util.Map<Integer, Opcode> PREFIXED_FORMS = new java.util.HashMap<>();
    private static final Opcode[][] GROUPS = new Opcode[MAP_SIZE][];
    private static final boolean[] MAY_RUN_INLINE = new boolean[MAP_SIZE];
    private static final String[] CONDITIONS = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np",
            "l", "ge", "le", "g"};
    private static final String[] ALU = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
    private static final String[] SHIFTS = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
    /** x87 memory forms by (escape - D8) * 8 + ModRM.reg, register forms by (escape - D8) * 64 + ModRM bits 0-5. */
    private static final Opcode[] X87_MEMORY = new Opcode[64], X87_REGISTER = new Opcode[512];
    private static final String[] X87_ARITHMETIC = {"fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv",
            "fdivr"};

    private static final Flow PLAIN = Flow.PLAIN, BRANCH = Flow.NEAR_BRANCH, FAR = Flow.CHANGES_CS,
            SEGMENT = Flow.LOADS_SEGMENT, IF = Flow.CHANGES_IF, IO = Flow.IO, SYSTEM = Flow.SYSTEM, X87 = Flow.X87,
            PREFIX = Flow.PREFIX;
    private static final boolean LOCK = true;

    static {
        // ---- One-byte map (SDM Vol. 2D, Table A-2) ----
        for (int alu = 0; alu < 8; alu++) { // 00-3D: the ALU row; CMP alone cannot be locked
            int base = alu << 3;
            boolean lock = alu != 7;
            one(base, PLAIN, ALU[alu], "Eb,Gb", lock);
            one(base + 1, PLAIN, ALU[alu], "Ev,Gv", lock);
            one(base + 2, PLAIN, ALU[alu], "Gb,Eb");
            one(base + 3, PLAIN, ALU[alu], "Gv,Ev");
            one(base + 4, PLAIN, ALU[alu], "AL,Ib");
            one(base + 5, PLAIN, ALU[alu], "eAX,Iz");
        }
        one(0x06, PLAIN, "push", "ES");
        one(0x07, SEGMENT, "pop", "ES");
        one(0x0E, PLAIN, "push", "CS");
        one(0x16, PLAIN, "push", "SS");
        one(0x17, SEGMENT, "pop", "SS");
        one(0x1E, PLAIN, "push", "DS");
        one(0x1F, SEGMENT, "pop", "DS");
        one(0x26, PREFIX, "es", "");
        one(0x27, PLAIN, "daa", "");
        one(0x2E, PREFIX, "cs", "");
        one(0x2F, PLAIN, "das", "");
        one(0x36, PREFIX, "ss", "");
        one(0x37, PLAIN, "aaa", "");
        one(0x3E, PREFIX, "ds", "");
        one(0x3F, PLAIN, "aas", "");
        row(0x40, PLAIN, "inc", "Zv");
        row(0x48, PLAIN, "dec", "Zv");
        row(0x50, PLAIN, "push", "Zv");
        row(0x58, PLAIN, "pop", "Zv");
        one(0x60, PLAIN, "pusha/pushad", "");
        one(0x61, PLAIN, "popa/popad", "");
        one(0x62, PLAIN, "bound", "Gv,Ma");
        one(0x63, SYSTEM, "arpl", "Ew,Gw");
        one(0x64, PREFIX, "fs", "");
        one(0x65, PREFIX, "gs", "");
        one(0x66, PREFIX, "o16/o32", ""); // operand-size override
        one(0x67, PREFIX, "a16/a32", ""); // address-size override
        one(0x68, PLAIN, "push", "Iz");
        one(0x69, PLAIN, "imul", "Gv,Ev,Iz");
        one(0x6A, PLAIN, "push", "Ibs");
        one(0x6B, PLAIN, "imul", "Gv,Ev,Ibs");
        one(0x6C, IO, "insb", "Yb,DX");
        one(0x6D, IO, "insw/insd", "Yv,DX");
        one(0x6E, IO, "outsb", "DX,Xb");
        one(0x6F, IO, "outsw/outsd", "DX,Xv");
        conditions(0x70, BRANCH, "j", "Jb");
        for (int op = 0x80; op <= 0x83; op++) { // group 1: CMP alone cannot be locked
            String pattern = op == 0x81 ? "Ev,Iz" : op == 0x83 ? "Ev,Ibs" : "Eb,Ib";
            for (int alu = 0; alu < 8; alu++) {
                group(op, alu, PLAIN, ALU[alu], pattern, alu != 7);
            }
        }
        one(0x84, PLAIN, "test", "Eb,Gb");
        one(0x85, PLAIN, "test", "Ev,Gv");
        one(0x86, PLAIN, "xchg", "Eb,Gb", LOCK);
        one(0x87, PLAIN, "xchg", "Ev,Gv", LOCK);
        one(0x88, PLAIN, "mov", "Eb,Gb");
        one(0x89, PLAIN, "mov", "Ev,Gv");
        one(0x8A, PLAIN, "mov", "Gb,Eb");
        one(0x8B, PLAIN, "mov", "Gv,Ev");
        one(0x8C, PLAIN, "mov", "Ev,Sw");
        one(0x8D, PLAIN, "lea", "Gv,M");
        one(0x8E, SEGMENT, "mov", "Sw,Ew");
        group(0x8F, 0, PLAIN, "pop", "Ev"); // group 1A
        one(0x90, PLAIN, "nop", "");
        for (int op = 0x91; op <= 0x97; op++) {
            one(op, PLAIN, "xchg", "Zv,eAX");
        }
        one(0x98, PLAIN, "cbw/cwde", "");
        one(0x99, PLAIN, "cwd/cdq", "");
        one(0x9A, FAR, "call", "Ap");
        one(0x9B, X87, "wait", "");
        one(0x9C, PLAIN, "pushf/pushfd", "");
        one(0x9D, IF, "popf/popfd", "");
        one(0x9E, PLAIN, "sahf", "");
        one(0x9F, PLAIN, "lahf", "");
        one(0xA0, PLAIN, "mov", "AL,Ob");
        one(0xA1, PLAIN, "mov", "eAX,Ov");
        one(0xA2, PLAIN, "mov", "Ob,AL");
        one(0xA3, PLAIN, "mov", "Ov,eAX");
        one(0xA4, PLAIN, "movsb", "Yb,Xb");
        one(0xA5, PLAIN, "movsw/movsd", "Yv,Xv");
        one(0xA6, PLAIN, "cmpsb", "Xb,Yb");
        one(0xA7, PLAIN, "cmpsw/cmpsd", "Xv,Yv");
        one(0xA8, PLAIN, "test", "AL,Ib");
        one(0xA9, PLAIN, "test", "eAX,Iz");
        one(0xAA, PLAIN, "stosb", "Yb,AL");
        one(0xAB, PLAIN, "stosw/stosd", "Yv,eAX");
        one(0xAC, PLAIN, "lodsb", "AL,Xb");
        one(0xAD, PLAIN, "lodsw/lodsd", "eAX,Xv");
        one(0xAE, PLAIN, "scasb", "AL,Yb");
        one(0xAF, PLAIN, "scasw/scasd", "eAX,Yv");
        row(0xB0, PLAIN, "mov", "Zb,Ib");
        row(0xB8, PLAIN, "mov", "Zv,Iv");
        for (int op = 0xC0; op <= 0xD3; op = op == 0xC1 ? 0xD0 : op + 1) { // group 2
            String pattern = switch (op) {
                case 0xC0 -> "Eb,Ib";
                case 0xC1 -> "Ev,Ib";
                case 0xD0 -> "Eb,1";
                case 0xD1 -> "Ev,1";
                case 0xD2 -> "Eb,CL";
                default -> "Ev,CL";
            };
            for (int shift = 0; shift < 8; shift++) {
                group(op, shift, PLAIN, SHIFTS[shift], pattern);
            }
        }
        one(0xC2, BRANCH, "ret", "Iw");
        one(0xC3, BRANCH, "ret", "");
        one(0xC4, SEGMENT, "les", "Gv,Mp");
        one(0xC5, SEGMENT, "lds", "Gv,Mp");
        group(0xC6, 0, PLAIN, "mov", "Eb,Ib"); // group 11
        group(0xC7, 0, PLAIN, "mov", "Ev,Iz");
        one(0xC8, PLAIN, "enter", "Iw,Ib");
        one(0xC9, PLAIN, "leave", "");
        one(0xCA, FAR, "retf", "Iw");
        one(0xCB, FAR, "retf", "");
        one(0xCC, FAR, "int3", "");
        one(0xCD, FAR, "int", "Ib");
        one(0xCE, FAR, "into", "");
        one(0xCF, FAR, "iret/iretd", "");
        one(0xD4, PLAIN, "aam", "Ib");
        one(0xD5, PLAIN, "aad", "Ib");
        one(0xD6, PLAIN, "salc", ""); // undocumented, present on all IA-32 processors
        one(0xD7, PLAIN, "xlatb", "");
        for (int op = 0xD8; op <= 0xDF; op++) {
            one(op, X87, "esc", "Ex"); // the instruction itself is in the x87 maps below (x87(escape, modrm))
        }
        one(0xE0, BRANCH, "loopne", "Jb");
        one(0xE1, BRANCH, "loope", "Jb");
        one(0xE2, BRANCH, "loop", "Jb");
        one(0xE3, BRANCH, "jcxz|jecxz", "Jb");
        one(0xE4, IO, "in", "AL,Ib");
        one(0xE5, IO, "in", "eAX,Ib");
        one(0xE6, IO, "out", "Ib,AL");
        one(0xE7, IO, "out", "Ib,eAX");
        one(0xE8, BRANCH, "call", "Jz");
        one(0xE9, BRANCH, "jmp", "Jz");
        one(0xEA, FAR, "jmp", "Ap");
        one(0xEB, BRANCH, "jmp", "Jb");
        one(0xEC, IO, "in", "AL,DX");
        one(0xED, IO, "in", "eAX,DX");
        one(0xEE, IO, "out", "DX,AL");
        one(0xEF, IO, "out", "DX,eAX");
        one(0xF0, PREFIX, "lock", "");
        one(0xF1, FAR, "int1", ""); // ICEBP
        one(0xF2, PREFIX, "repne", "");
        one(0xF3, PREFIX, "rep", "");
        one(0xF4, SYSTEM, "hlt", "");
        one(0xF5, PLAIN, "cmc", "");
        for (int op = 0xF6; op <= 0xF7; op++) { // group 3
            String e = op == 0xF6 ? "Eb" : "Ev";
            group(op, 0, PLAIN, "test", e + (op == 0xF6 ? ",Ib" : ",Iz"));
            group(op, 1, PLAIN, "test", e + (op == 0xF6 ? ",Ib" : ",Iz")); // undocumented alias of /0
            group(op, 2, PLAIN, "not", e, LOCK);
            group(op, 3, PLAIN, "neg", e, LOCK);
            group(op, 4, PLAIN, "mul", e);
            group(op, 5, PLAIN, "imul", e);
            group(op, 6, PLAIN, "div", e);
            group(op, 7, PLAIN, "idiv", e);
        }
        one(0xF8, PLAIN, "clc", "");
        one(0xF9, PLAIN, "stc", "");
        one(0xFA, IF, "cli", "");
        one(0xFB, IF, "sti", "");
        one(0xFC, PLAIN, "cld", "");
        one(0xFD, PLAIN, "std", "");
        group(0xFE, 0, PLAIN, "inc", "Eb", LOCK); // group 4
        group(0xFE, 1, PLAIN, "dec", "Eb", LOCK);
        group(0xFF, 0, PLAIN, "inc", "Ev", LOCK); // group 5
        group(0xFF, 1, PLAIN, "dec", "Ev", LOCK);
        group(0xFF, 2, BRANCH, "call", "Ev");
        group(0xFF, 3, FAR, "call far", "Mp");
        group(0xFF, 4, BRANCH, "jmp", "Ev");
        group(0xFF, 5, FAR, "jmp far", "Mp");
        group(0xFF, 6, PLAIN, "push", "Ev");

        // ---- Two-byte map, 0F xx (SDM Vol. 2D, Table A-3), up to the P6 integer set ----
        group(0x100, 0, SYSTEM, "sldt", "Ew"); // group 6
        group(0x100, 1, SYSTEM, "str", "Ew");
        group(0x100, 2, SYSTEM, "lldt", "Ew");
        group(0x100, 3, SYSTEM, "ltr", "Ew");
        group(0x100, 4, SYSTEM, "verr", "Ew");
        group(0x100, 5, SYSTEM, "verw", "Ew");
        group(0x101, 0, SYSTEM, "sgdt", "Ms"); // group 7
        group(0x101, 1, SYSTEM, "sidt", "Ms");
        group(0x101, 2, SYSTEM, "lgdt", "Ms");
        group(0x101, 3, SYSTEM, "lidt", "Ms");
        group(0x101, 4, SYSTEM, "smsw", "Ew");
        group(0x101, 6, SYSTEM, "lmsw", "Ew");
        group(0x101, 7, SYSTEM, "invlpg", "Mb");
        one(0x102, SYSTEM, "lar", "Gv,Ew");
        one(0x103, SYSTEM, "lsl", "Gv,Ew");
        one(0x106, SYSTEM, "clts", "");
        one(0x108, SYSTEM, "invd", "");
        one(0x109, SYSTEM, "wbinvd", "");
        one(0x10B, PLAIN, "ud2", "");
        for (int op = 0x118; op <= 0x11F; op++) {
            one(op, PLAIN, "nop", "Ev"); // hint NOPs (P6)
        }
        one(0x120, SYSTEM, "mov", "Rd,Cd");
        one(0x121, SYSTEM, "mov", "Rd,Dd");
        one(0x122, SYSTEM, "mov", "Cd,Rd");
        one(0x123, SYSTEM, "mov", "Dd,Rd");
        one(0x130, SYSTEM, "wrmsr", "");
        one(0x131, PLAIN, "rdtsc", "");
        one(0x132, SYSTEM, "rdmsr", "");
        one(0x133, PLAIN, "rdpmc", "");
        one(0x134, FAR, "sysenter", "");
        one(0x135, FAR, "sysexit", "");
        conditions(0x140, PLAIN, "cmov", "Gv,Ev");
        conditions(0x180, BRANCH, "j", "Jz");
        conditions(0x190, PLAIN, "set", "Eb");
        one(0x1A0, PLAIN, "push", "FS");
        one(0x1A1, SEGMENT, "pop", "FS");
        one(0x1A2, PLAIN, "cpuid", "");
        one(0x1A3, PLAIN, "bt", "Ev,Gv");
        one(0x1A4, PLAIN, "shld", "Ev,Gv,Ib");
        one(0x1A5, PLAIN, "shld", "Ev,Gv,CL");
        one(0x1A8, PLAIN, "push", "GS");
        one(0x1A9, SEGMENT, "pop", "GS");
        one(0x1AB, PLAIN, "bts", "Ev,Gv", LOCK);
        one(0x1AC, PLAIN, "shrd", "Ev,Gv,Ib");
        one(0x1AD, PLAIN, "shrd", "Ev,Gv,CL");
        one(0x1AF, PLAIN, "imul", "Gv,Ev");
        one(0x1B0, PLAIN, "cmpxchg", "Eb,Gb", LOCK);
        one(0x1B1, PLAIN, "cmpxchg", "Ev,Gv", LOCK);
        one(0x1B2, SEGMENT, "lss", "Gv,Mp");
        one(0x1B3, PLAIN, "btr", "Ev,Gv", LOCK);
        one(0x1B4, SEGMENT, "lfs", "Gv,Mp");
        one(0x1B5, SEGMENT, "lgs", "Gv,Mp");
        one(0x1B6, PLAIN, "movzx", "Gv,Eb");
        one(0x1B7, PLAIN, "movzx", "Gv,Ew");
        group(0x1BA, 4, PLAIN, "bt", "Ev,Ib"); // group 8
        group(0x1BA, 5, PLAIN, "bts", "Ev,Ib", LOCK);
        group(0x1BA, 6, PLAIN, "btr", "Ev,Ib", LOCK);
        group(0x1BA, 7, PLAIN, "btc", "Ev,Ib", LOCK);
        one(0x1BB, PLAIN, "btc", "Ev,Gv", LOCK);
        one(0x1BC, PLAIN, "bsf", "Gv,Ev");
        one(0x1BD, PLAIN, "bsr", "Gv,Ev");
        one(0x1BE, PLAIN, "movsx", "Gv,Eb");
        one(0x1BF, PLAIN, "movsx", "Gv,Ew");
        one(0x1C0, PLAIN, "xadd", "Eb,Gb", LOCK);
        one(0x1C1, PLAIN, "xadd", "Ev,Gv", LOCK);
        group(0x1AE, 0, X87, "fxsave", "M"); // group 15: the SSE forms are not modelled
        group(0x1AE, 1, X87, "fxrstor", "M");
        group(0x1C7, 1, PLAIN, "cmpxchg8b", "Mq", LOCK); // group 9

        // ---- VMX (SDM Vol. 3C, ch. 30): group 7 register forms, group 9 /6 /7, 0F 78/79, 0F 38 80/81 ----
        registerForm(0x101, 0xC1, "vmcall");
        registerForm(0x101, 0xC2, "vmlaunch");
        registerForm(0x101, 0xC3, "vmresume");
        registerForm(0x101, 0xC4, "vmxoff");
        registerForm(0x101, 0xD4, "vmfunc");
        one(0x178, SYSTEM, "vmread", "Ed,Gd");
        one(0x179, SYSTEM, "vmwrite", "Gd,Ed");
        group(0x1C7, 6, SYSTEM, "vmptrld", "Mq");
        group(0x1C7, 7, SYSTEM, "vmptrst", "Mq");
        prefixed(0x66, 0x1C7, 6, "vmclear", "Mq");
        prefixed(0xF3, 0x1C7, 6, "vmxon", "Mq");
        one(0x280, SYSTEM, "invept", "Gd,Mdq"); // 66 0F 38 80: the 66 prefix is part of the opcode
        one(0x281, SYSTEM, "invvpid", "Gd,Mdq");
        row(0x1C8, PLAIN, "bswap", "Zd");

        x87Maps();
        for (int i = 0; i < MAP_SIZE; i++) {
            MAY_RUN_INLINE[i] = OPCODES[i] != null ? OPCODES[i].flow().mayRunInline()
                    : GROUPS[i] != null && anyMayRunInline(GROUPS[i]);
        }
    }

    private OpcodeTable() {
    }

    // ---- The x87 escape maps (SDM Vol. 2D, A.4, Tables) ----

    /**
     * The x87 instruction an escape byte (D8-DF) and its ModRM byte encode, or null for a reserved encoding (#UD).
     * Register operands are written {@code st{i}}, i being ModRM.rm. The undocumented aliases every P6 executes
     * (FCOM2, FCOMP3, FXCH4, FCOMP5, FXCH7, FSTP1, FSTP8, FSTP9, FFREEP) are included under their documented names.
     */
    public static Opcode x87(int escape, int modrm) {
        int group = escape & 7;
        return (modrm >>> 6) == 3 ? X87_REGISTER[group << 6 | modrm & 0x3F] : X87_MEMORY[group << 3 | (modrm >>> 3 & 7)];
    }

    private static void x87Maps() {
        String[] memoryTypes = {"Md", null, "Md", null, "Mq", null, "Mw", null}; // D8 m32fp, DA m32int, DC m64fp, DE m16int
        for (int group = 0; group < 8; group += 2) {
            for (int reg = 0; reg < 8; reg++) {
                String mnemonic = (group == 2 || group == 6 ? "fi" : "f") + X87_ARITHMETIC[reg].substring(1);
                x87Memory(group, reg, mnemonic, memoryTypes[group]);
            }
        }
        String[] d9 = {"fld", null, "fst", "fstp", "fldenv", "fldcw", "fnstenv", "fnstcw"};
        String[] d9Types = {"Md", null, "Md", "Md", "M", "Mw", "M", "Mw"};
        String[] db = {"fild", null, "fist", "fistp", null, "fld", null, "fstp"};
        String[] dbTypes = {"Md", null, "Md", "Md", null, "Mt", null, "Mt"};
        String[] dd = {"fld", null, "fst", "fstp", "frstor", null, "fnsave", "fnstsw"};
        String[] ddTypes = {"Mq", null, "Mq", "Mq", "M", null, "M", "Mw"};
        String[] df = {"fild", null, "fist", "fistp", "fbld", "fild", "fbstp", "fistp"};
        String[] dfTypes = {"Mw", null, "Mw", "Mw", "Mt", "Mq", "Mt", "Mq"};
        for (int reg = 0; reg < 8; reg++) {
            x87Memory(1, reg, d9[reg], d9Types[reg]);
            x87Memory(3, reg, db[reg], dbTypes[reg]);
            x87Memory(5, reg, dd[reg], ddTypes[reg]);
            x87Memory(7, reg, df[reg], dfTypes[reg]);
        }
        for (int reg = 0; reg < 8; reg++) {
            String name = X87_ARITHMETIC[reg];
            x87Rows(0, reg, name, "st{i}"); // D8: ST(0) op ST(i)
            boolean compare = reg == 2 || reg == 3;
            String reversed = compare ? name : X87_ARITHMETIC[reg >= 4 ? reg ^ 1 : reg]; // DC E0 is FSUBR ST(i),ST(0)
            x87Rows(4, reg, reversed, compare ? "st{i}" : "to st{i}");
            if (!compare) {
                x87Rows(6, reg, reversed + "p", "st{i}");
            }
        }
        x87Rows(6, 2, "fcomp", "st{i}"); // FCOMP5
        x87Register(6, 0x19, "fcompp", "");
        x87Rows(1, 0, "fld", "st{i}");
        x87Rows(1, 1, "fxch", "st{i}");
        x87Register(1, 0x10, "fnop", "");
        x87Rows(1, 3, "fstp", "st{i}"); // FSTP1
        String[] d9Misc = {"fchs", "fabs", null, null, "ftst", "fxam", null, null, "fld1", "fldl2t", "fldl2e",
                "fldpi", "fldlg2", "fldln2", "fldz", null, "f2xm1", "fyl2x", "fptan", "fpatan", "fxtract", "fprem1",
                "fdecstp", "fincstp", "fprem", "fyl2xp1", "fsqrt", "fsincos", "frndint", "fscale", "fsin", "fcos"};
        for (int i = 0; i < d9Misc.length; i++) {
            if (d9Misc[i] != null) {
                x87Register(1, 0x20 + i, d9Misc[i], "");
            }
        }
        String[] conditions = {"b", "e", "be", "u"};
        for (int cc = 0; cc < 4; cc++) {
            x87Rows(2, cc, "fcmov" + conditions[cc], "st0,st{i}");
            x87Rows(3, cc, "fcmovn" + conditions[cc], "st0,st{i}");
        }
        x87Register(2, 0x29, "fucompp", "");
        String[] dbMisc = {"fneni", "fndisi", "fnclex", "fninit", "fnsetpm"};
        for (int i = 0; i < dbMisc.length; i++) {
            x87Register(3, 0x20 + i, dbMisc[i], "");
        }
        x87Rows(3, 5, "fucomi", "st0,st{i}");
        x87Rows(3, 6, "fcomi", "st0,st{i}");
        x87Rows(5, 0, "ffree", "st{i}");
        x87Rows(5, 1, "fxch", "st{i}"); // FXCH4
        x87Rows(5, 2, "fst", "st{i}");
        x87Rows(5, 3, "fstp", "st{i}");
        x87Rows(5, 4, "fucom", "st{i}");
        x87Rows(5, 5, "fucomp", "st{i}");
        x87Rows(7, 0, "ffreep", "st{i}");
        x87Rows(7, 1, "fxch", "st{i}"); // FXCH7
        x87Rows(7, 2, "fstp", "st{i}"); // FSTP8
        x87Rows(7, 3, "fstp", "st{i}"); // FSTP9
        x87Register(7, 0x20, "fnstsw", "AX");
        x87Rows(7, 5, "fucomip", "st0,st{i}");
        x87Rows(7, 6, "fcomip", "st0,st{i}");
    }

    private static void x87Memory(int group, int reg, String mnemonic, String pattern) {
        if (mnemonic != null) {
            X87_MEMORY[group << 3 | reg] = Opcode.of(mnemonic, pattern, Flow.X87, false);
        }
    }

    /** The eight register forms of one ModRM.reg row: ModRM C0 + reg * 8 + i. */
    private static void x87Rows(int group, int reg, String mnemonic, String pattern) {
        for (int i = 0; i < 8; i++) {
            x87Register(group, reg << 3 | i, mnemonic, pattern);
        }
    }

    private static void x87Register(int group, int low6, String mnemonic, String pattern) {
        X87_REGISTER[group << 6 | low6] = Opcode.of(mnemonic, pattern, Flow.X87, false);
    }

    /** Index of an opcode in the table: 00-FF the one-byte map, 100-1FF the 0F map. */
    public static int index(boolean twoByte, int opcode) {
        return twoByte ? 0x100 | opcode : opcode;
    }

    /** Index of a three-byte opcode 0F 38 xx: 200-2FF. */
    public static int index38(int opcode) {
        return 0x200 | opcode;
    }

    /** The instruction the whole ModRM byte selects among a group's register forms (mod = 11B); null if none. */
    public static Opcode registerForm(int index, int modrm) {
        return REGISTER_FORMS.get(index << 8 | modrm);
    }

    /** The instruction a mandatory prefix (66 or F3) selects for this group member; null if none. */
    public static Opcode prefixedForm(int prefix, int index, int modrmReg) {
        return PREFIXED_FORMS.get(prefix << 16 | index << 3 | modrmReg);
    }

    /** The opcode at this index when it is not a group; null for groups and undefined opcodes. */
    public static Opcode opcode(int index) {
        return OPCODES[index];
    }

    /** True when ModRM.reg selects the instruction (SDM Vol. 2D, Table A-6). */
    public static boolean isGroup(int index) {
        return GROUPS[index] != null;
    }

    /** The instruction at this index with this ModRM.reg (ignored unless a group); null when undefined. */
    public static Opcode opcode(int index, int modrmReg) {
        Opcode[] group = GROUPS[index];
        return group != null ? group[modrmReg] : OPCODES[index];
    }

    public static boolean isPrefix(int oneByteOpcode) {
        Opcode op = OPCODES[oneByteOpcode];
        return op != null && op.flow() == Flow.PREFIX;
    }

    /**
     * Whether a compiled block may interpret this instruction in line. An undefined form in a group raises #UD,
     * which a block may do when the group holds instructions it may run.
     */
    public static boolean mayRunInline(int index, int modrmReg) {
        Opcode op = opcode(index, modrmReg);
        return op != null ? op.flow().mayRunInline() : MAY_RUN_INLINE[index];
    }

    /** Whether LOCK may precede this instruction with a memory operand (SDM Vol. 2A "LOCK"). */
    public static boolean lockable(int index, int modrmReg) {
        Opcode op = opcode(index, modrmReg);
        return op != null && op.lockable();
    }

    /** Every defined instruction, for tests and tools: index, ModRM.reg (-1 outside groups) and entry. */
    public static List<Entry> entries() {
        List<Entry> all = new ArrayList<>();
        for (int i = 0; i < MAP_SIZE; i++) {
            if (OPCODES[i] != null) {
                all.add(new Entry(i, -1, OPCODES[i]));
            } else if (GROUPS[i] != null) {
                for (int reg = 0; reg < 8; reg++) {
                    if (GROUPS[i][reg] != null) {
                        all.add(new Entry(i, reg, GROUPS[i][reg]));
                    }
                }
            }
        }
        return all;
    }

    public record Entry(int index, int modrmReg, Opcode opcode) {
    }

    private static boolean anyMayRunInline(Opcode[] group) {
        for (Opcode op : group) {
            if (op != null && op.flow().mayRunInline()) {
                return true;
            }
        }
        return false;
    }

    private static void one(int index, Flow flow, String mnemonic, String pattern) {
        one(index, flow, mnemonic, pattern, false);
    }

    private static void one(int index, Flow flow, String mnemonic, String pattern, boolean lockable) {
        if (OPCODES[index] != null || GROUPS[index] != null) {
            throw new IllegalStateException("opcode listed twice: " + Integer.toHexString(index));
        }
        OPCODES[index] = Opcode.of(mnemonic, pattern, flow, lockable);
    }

    private static void group(int index, int modrmReg, Flow flow, String mnemonic, String pattern) {
        group(index, modrmReg, flow, mnemonic, pattern, false);
    }

    private static void group(int index, int modrmReg, Flow flow, String mnemonic, String pattern, boolean lockable) {
        if (OPCODES[index] != null) {
            throw new IllegalStateException("opcode listed twice: " + Integer.toHexString(index));
        }
        if (GROUPS[index] == null) {
            GROUPS[index] = new Opcode[8];
        }
        GROUPS[index][modrmReg] = Opcode.of(mnemonic, pattern, flow, lockable);
    }

    private static void registerForm(int index, int modrm, String mnemonic) {
        REGISTER_FORMS.put(index << 8 | modrm, Opcode.of(mnemonic, "", Flow.SYSTEM, false));
    }

    private static void prefixed(int prefix, int index, int modrmReg, String mnemonic, String pattern) {
        PREFIXED_FORMS.put(prefix << 16 | index << 3 | modrmReg, Opcode.of(mnemonic, pattern, Flow.SYSTEM, false));
    }

    /** Eight opcodes with the register in their low three bits. */
    private static void row(int first, Flow flow, String mnemonic, String pattern) {
        for (int n = 0; n < 8; n++) {
            one(first + n, flow, mnemonic, pattern);
        }
    }

    /** Sixteen opcodes with the condition in their low four bits (SDM Vol. 1, Table B-1). */
    private static void conditions(int first, Flow flow, String prefix, String pattern) {
        for (int cc = 0; cc < 16; cc++) {
            one(first + cc, flow, prefix + CONDITIONS[cc], pattern);
        }
    }
}

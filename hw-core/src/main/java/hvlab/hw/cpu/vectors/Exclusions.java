package hvlab.hw.cpu.vectors;

/**
 * Where the SingleStepTests 80286 vectors and an IA-32 processor may rightly differ, and what the runner does about
 * each. Every entry is an 80286 behaviour that the SDM documents otherwise for the Intel386 and later (SDM Vol. 3,
 * chapter "Architecture Compatibility", and the instruction pages), or a flag the SDM leaves undefined. A difference
 * of the CPU from the SDM is never an entry here: it is a bug to fix.
 */
public final class Exclusions {
    /** The FLAGS bits a real-mode 80286 keeps: bits 12-15 (IOPL, NT, reserved) always read 0. */
    static final int FLAGS_286 = 0x0FFF;
    /** The 80286 faults on instructions longer than 10 bytes; IA-32 allows 15 (SDM Vol. 2A, 2.3.11). */
    static final int MAX_286_INSTRUCTION_LENGTH = 10;

    private static final int INT_UD = 6, INT_GP = 13;
    private static final int OF = 1 << 11;

    private Exclusions() {
    }

    /** How a rule is applied. */
    public enum Treatment {
        /** Bits or registers are left out of the comparison; the rest of the test is checked. */
        MASK,
        /** The test is not run. */
        EXCLUDE,
        /** The test runs in an equivalent form that the SDM defines the same way on both processors. */
        ADAPT,
        /** The test machine is built so the difference cannot arise. */
        MACHINE
    }

    public enum Rule {
        FLAGS_BITS_12_15(Treatment.MASK,
                "The 80286 cannot set IOPL/NT (FLAGS 12-15) in real mode, even by POPF or IRET; IA-32 real mode "
                        + "loads them (SDM Vol. 2B \"POPF\", Vol. 2A \"IRET\"). FLAGS are loaded and compared "
                        + "under 0x0FFF, and so are the FLAGS images an instruction pushed."),
        UNDEFINED_FLAGS(Treatment.MASK,
                "Flags the instruction leaves undefined (SDM Vol. 2, each instruction's \"Flags Affected\"): the "
                        + "metadata.json mask per opcode, applied to FLAGS and to the FLAGS word an exception "
                        + "pushed; and OF after a shift or rotate by a count other than 1 (SDM \"RCL/RCR/ROL/ROR\", "
                        + "\"SAL/SAR/SHL/SHR\"), which metadata.json omits for opcode C0."),
        INSTRUCTION_LENGTH(Treatment.EXCLUDE,
                "An 80286 instruction longer than 10 bytes (through redundant prefixes) raises int 13; IA-32 "
                        + "allows up to 15 bytes (SDM Vol. 2A, 2.3.11). Tests of more than 10 bytes that the "
                        + "80286 answered with int 13 are not run."),
        LOCK_PREFIX(Treatment.ADAPT,
                "The 80286 accepts LOCK before any instruction; IA-32 raises #UD unless the instruction is one of "
                        + "the read-modify-write forms with a memory destination (SDM Vol. 2A \"LOCK\"; Vol. 3 "
                        + "\"Architecture Compatibility\", \"Bus Locking\"). Where the SDM requires #UD, the "
                        + "runner replaces the LOCK byte by a prefix with no effect on that instruction (a copy "
                        + "of its REP or segment prefix, DS for a string source, REP before a non-string "
                        + "instruction), so the instruction is still checked at the same length."),
        STACK_LIMIT_INT13(Treatment.ADAPT,
                "An 80286 reports int 13 for a word at offset 0xFFFF of SS; IA-32 real mode raises #SS (int 12) "
                        + "for SS and #GP only for the other segments (SDM Vol. 2, \"Real-Address Mode "
                        + "Exceptions\"). When the 80286 answered int 13, IVT entry 12 is made a copy of entry 13 "
                        + "so the same handler runs; the test passes only if the rest of the state matches."),
        STRING_FAULT_REGISTERS(Treatment.MASK,
                "When a string instruction's word operand at offset 0xFFFF faults, the 80286 has already stepped "
                        + "SI/DI (and CX under REP); an IA-32 fault restores the state from before the faulting "
                        + "iteration (SDM Vol. 3A, 6.5 \"Faults\"; Vol. 2B \"REP\"). For string instructions the "
                        + "80286 answered with int 13, CX, SI and DI are not compared; the fault frame is."),
        POP_FAULT_STACK_POINTER(Treatment.EXCLUDE,
                "When POP m16 faults on its destination at offset 0xFFFF, the 80286 keeps the incremented SP and "
                        + "pushes the fault frame above it; an IA-32 fault restores SP (SDM Vol. 3A, 6.5 "
                        + "\"Faults\"; Vol. 2B \"POP\"). POP m16 tests where the 80286 answered int 13 with SP so "
                        + "moved are not run."),
        SEGMENT_REGISTERS_FS_GS(Treatment.EXCLUDE,
                "The 80286 has four segment registers and answers MOV to or from Sreg 4 and 5 with int 6; the "
                        + "Intel386 added FS and GS there (SDM Vol. 1, 3.4.2; Vol. 2B \"MOV\"). Those tests are not "
                        + "run."),
        ADDRESS_WRAP(Treatment.MACHINE,
                "The 80286 has 24 address lines and real-mode seg*16+off reaches 0x10FFEF without the 1 MiB "
                        + "wrap (A20 on). The test machine has 16 MiB + 64 KiB of RAM with A20 enabled, so no "
                        + "access wraps."),
        PORT_READS(Treatment.MACHINE,
                "The capture rig answered every IN with 0xFF/0xFFFF. No device is mapped, and unclaimed ports read "
                        + "all ones as on an open ISA bus.");

        private final Treatment treatment;
        private final String reason;

        Rule(Treatment treatment, String reason) {
            this.treatment = treatment;
            this.reason = reason;
        }

        public Treatment treatment() {
            return treatment;
        }

        public String reason() {
            return reason;
        }
    }

    // ---- per test ----

    /** The rule that keeps a test from running, or null. */
    static Rule exclusion(VectorTest t) {
        if (t.exception == INT_GP && t.instructionLength() > MAX_286_INSTRUCTION_LENGTH) {
            return Rule.INSTRUCTION_LENGTH;
        }
        int i = opcodeIndex(t);
        int op = t.bytes[i];
        int reg = i + 1 < t.byteCount ? (t.bytes[i + 1] >>> 3) & 7 : -1;
        if (t.exception == INT_UD && (op == 0x8C || op == 0x8E) && (reg == 4 || reg == 5)) {
            return Rule.SEGMENT_REGISTERS_FS_GS;
        }
        int sp = t.initialRegs[VectorTest.SP];
        if (t.exception == INT_GP && op == 0x8F && t.expectedRegister(VectorTest.SP) == ((sp + 2 - 6) & 0xFFFF)) {
            return Rule.POP_FAULT_STACK_POINTER; // the frame sits above the popped word
        }
        return null;
    }

    /** FLAGS the SDM leaves undefined here beyond metadata.json: OF after a shift by a count other than 0 or 1. */
    static int sdmFlagsMask(VectorTest t) {
        int i = opcodeIndex(t);
        int op = t.bytes[i];
        int count;
        if (op == 0xC0 || op == 0xC1) {
            count = t.bytes[t.byteCount - 2]; // the imm8 ends the instruction
        } else if (op == 0xD2 || op == 0xD3) {
            count = t.initialRegs[VectorTest.CX];
        } else {
            return -1;
        }
        count &= 0x1F;
        return count == 0 || count == 1 ? -1 : ~OF; // a zero count changes no flag
    }

    /** True when CX, SI and DI are left out: a string instruction the 80286 answered with int 13. */
    static boolean masksStringRegisters(VectorTest t) {
        return t.exception == INT_GP && isStringInstruction(t.bytes[opcodeIndex(t)]);
    }

    static int opcodeIndex(VectorTest t) {
        int i = 0;
        while (i < t.byteCount - 1 && isPrefix(t.bytes[i])) {
            i++;
        }
        return i;
    }

    // ---- LOCK (SDM Vol. 2A "LOCK") ----

    static boolean isPrefix(int b) {
        return b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0xF0 || b == 0xF2 || b == 0xF3;
    }

    private static boolean isSegmentPrefix(int b) {
        return b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E;
    }

    private static boolean isStringInstruction(int op) {
        return op >= 0xA4 && op <= 0xA7 || op >= 0xAA && op <= 0xAF || op >= 0x6C && op <= 0x6F;
    }

    /**
     * True when the instruction carries LOCK and the SDM says LOCK raises #UD for it: only ADD, ADC, AND, OR, SBB,
     * SUB, XOR, INC, DEC, NEG, NOT and XCHG (the one-byte map; the 80286 set has no 0F forms) with a memory
     * destination may be locked.
     */
    static boolean lockRaisesUndefinedOpcode(VectorTest t) {
        boolean lock = false;
        int i = 0;
        for (; i < t.byteCount && isPrefix(t.bytes[i]); i++) {
            lock |= t.bytes[i] == 0xF0;
        }
        if (!lock || i + 1 >= t.byteCount) {
            return lock;
        }
        int op = t.bytes[i];
        int modrm = t.bytes[i + 1];
        int reg = (modrm >>> 3) & 7;
        boolean lockable;
        if (op < 0x40) {
            lockable = (op & 7) < 2 && (op >>> 3) != 7; // the r/m,reg forms of the ALU ops except CMP
        } else if (op >= 0x80 && op <= 0x83) {
            lockable = reg != 7;
        } else if (op == 0x86 || op == 0x87) {
            lockable = true;
        } else if (op == 0xF6 || op == 0xF7) {
            lockable = reg == 2 || reg == 3;
        } else if (op == 0xFE || op == 0xFF) {
            lockable = reg < 2;
        } else {
            lockable = false;
        }
        return !(lockable && (modrm >>> 6) != 3);
    }

    /**
     * The byte that replaces LOCK without changing what the instruction does: for a string instruction a copy of
     * its last REP prefix, else of its last segment prefix, else DS (the default source segment; INS has none);
     * for any other instruction REP, which only string instructions look at.
     */
    static int neutralPrefixFor(VectorTest t) {
        int lastRep = -1, lastSegment = -1;
        int i = 0;
        for (; i < t.byteCount && isPrefix(t.bytes[i]); i++) {
            int b = t.bytes[i];
            if (b == 0xF2 || b == 0xF3) {
                lastRep = b;
            } else if (isSegmentPrefix(b)) {
                lastSegment = b;
            }
        }
        if (!isStringInstruction(t.bytes[i])) {
            return 0xF3;
        }
        if (lastRep >= 0) {
            return lastRep;
        }
        return lastSegment >= 0 ? lastSegment : 0x3E;
    }
}

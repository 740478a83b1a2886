package hvlab.hw.cpu;

import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.Opcode;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;

import static hvlab.hw.cpu.BlockCompiler.A_SLOT;
import static hvlab.hw.cpu.BlockCompiler.B_SLOT;
import static hvlab.hw.cpu.BlockCompiler.CPU_SLOT;
import static hvlab.hw.cpu.BlockCompiler.NO_FLAGS;
import static hvlab.hw.cpu.BlockCompiler.OFFSET_SLOT;
import static hvlab.hw.cpu.BlockCompiler.REG_SLOT;
import static hvlab.hw.cpu.BlockCompiler.RESULT_SLOT;
import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * The common 32-bit forms {@link BlockCompiler} writes as bytecode of its own rather than as calls of
 * {@link CompiledOps}: moves, LEA, CDQ, the ALU operations whose lazy flags need nothing from the flags before them,
 * and loads and stores through the segment's own accessor ({@code Cpu.read32} and the like). Calls inline only while
 * HotSpot's size and frequency limits allow, and a block of 64 instructions runs past them; bytecode in the block
 * itself always compiles with it. The lazy-flag record is the one {@link Alu} writes, so flags read later are the
 * same; a Jcc right after such an operation tests the operands it left in local slots.
 */
final class InlineForms {
    private static final ClassDesc CPU = ClassDesc.of("hvlab.hw.cpu.Cpu");
    private static final ClassDesc ALU = ClassDesc.of("hvlab.hw.cpu.Alu");
    private static final ClassDesc INTEGER = ClassDesc.of("java.lang.Integer");

    private InlineForms() {
    }

    /** Emits the instruction when it is one of the inline forms; false to leave it to the caller. */
    static boolean emit(CodeBuilder code, BlockDecoder.Instruction insn) {
        if (insn.size != Alu.DWORD) {
            return false;
        }
        switch (insn.kind) {
            case BlockDecoder.MOV_RR -> {
                storeReg(code, insn.reg, () -> loadReg(code, insn.rm));
                return true;
            }
            case BlockDecoder.MOV_RI -> {
                storeReg(code, insn.reg, () -> code.loadConstant(insn.imm));
                return true;
            }
            case BlockDecoder.LEA -> {
                storeReg(code, insn.reg, () -> effectiveAddress(code, insn));
                return true;
            }
            case BlockDecoder.CDQ -> {
                storeReg(code, Cpu.EDX, () -> {
                    loadReg(code, Cpu.EAX);
                    code.loadConstant(31);
                    code.ishr();
                });
                return true;
            }
            case BlockDecoder.NOP -> {
                return true;
            }
            case BlockDecoder.ALU_RR, BlockDecoder.ALU_RI -> {
                if (insn.op == Alu.OP_ADC || insn.op == Alu.OP_SBB) {
                    return false; // they read CF first
                }
                arithmetic(code, insn);
                return true;
            }
            case BlockDecoder.TEST_RR, BlockDecoder.TEST_RI -> {
                operands(code, insn);
                operate(code, Alu.OP_AND, Alu.LOGIC);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /**
     * Emits a memory form that may fault (the caller has set the restart address) when it is one of the inline
     * forms; false to leave it to the caller. Accesses go through the Cpu's sized accessors, as the interpreter's do.
     */
    static boolean emitMemory(CodeBuilder code, BlockDecoder.Instruction insn) {
        int size = insn.size;
        switch (insn.kind) {
            case BlockDecoder.LOAD -> {
                if (size != Alu.DWORD) {
                    return false;
                }
                storeReg(code, insn.reg, () -> read(code, insn, Alu.DWORD));
            }
            case BlockDecoder.LOAD_EXTEND -> storeReg(code, insn.reg, () -> {
                read(code, insn, size);
                if (insn.signed != 0) {
                    if (size == Alu.BYTE) {
                        code.i2b();
                    } else {
                        code.i2s();
                    }
                }
            });
            case BlockDecoder.STORE, BlockDecoder.STORE_IMM -> {
                if (size == Alu.WORD) {
                    return false;
                }
                effectiveAddress(code, insn);
                code.istore(OFFSET_SLOT);
                write(code, insn, size, () -> {
                    if (insn.kind == BlockDecoder.STORE_IMM) {
                        code.loadConstant(insn.imm);
                    } else if (size == Alu.DWORD) {
                        loadReg(code, insn.reg);
                    } else {
                        loadByteReg(code, insn.reg);
                    }
                });
            }
            case BlockDecoder.ALU_RM -> {
                if (size != Alu.DWORD || insn.op == Alu.OP_ADC || insn.op == Alu.OP_SBB) {
                    return false;
                }
                loadReg(code, insn.reg);
                code.istore(A_SLOT);
                read(code, insn, Alu.DWORD);
                code.istore(B_SLOT);
                operate(code, insn.op);
                if (insn.op != Alu.OP_CMP) {
                    storeReg(code, insn.reg, () -> code.iload(RESULT_SLOT));
                }
            }
            case BlockDecoder.ALU_MR, BlockDecoder.ALU_MI, BlockDecoder.TEST_MI -> {
                if (size != Alu.DWORD || insn.kind != BlockDecoder.TEST_MI
                        && (insn.op == Alu.OP_ADC || insn.op == Alu.OP_SBB)) {
                    return false;
                }
                effectiveAddress(code, insn);
                code.istore(OFFSET_SLOT);
                code.aload(CPU_SLOT);
                code.loadConstant(insn.seg);
                code.iload(OFFSET_SLOT);
                code.invokevirtual(CPU, "read32", MethodTypeDesc.of(CD_int, CD_int, CD_int));
                code.istore(A_SLOT);
                if (insn.kind == BlockDecoder.ALU_MR) {
                    loadReg(code, insn.reg);
                } else {
                    code.loadConstant(insn.imm);
                }
                code.istore(B_SLOT);
                if (insn.kind == BlockDecoder.TEST_MI) {
                    operate(code, Alu.OP_AND, Alu.LOGIC);
                } else {
                    operate(code, insn.op);
                    if (insn.op != Alu.OP_CMP) {
                        write(code, insn, Alu.DWORD, () -> code.iload(RESULT_SLOT));
                    }
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** c.readN(seg, ea): the value read, zero-extended, on the stack. */
    private static void read(CodeBuilder code, BlockDecoder.Instruction insn, int size) {
        code.aload(CPU_SLOT);
        code.loadConstant(insn.seg);
        effectiveAddress(code, insn);
        code.invokevirtual(CPU, ACCESSOR[size].replace("N", "read"), MethodTypeDesc.of(CD_int, CD_int, CD_int));
    }

    /** c.writeN(seg, offset slot, value). */
    private static void write(CodeBuilder code, BlockDecoder.Instruction insn, int size, Runnable value) {
        code.aload(CPU_SLOT);
        code.loadConstant(insn.seg);
        code.iload(OFFSET_SLOT);
        value.run();
        code.invokevirtual(CPU, ACCESSOR[size].replace("N", "write"), MethodTypeDesc.of(CD_void, CD_int, CD_int,
                CD_int));
    }

    private static final String[] ACCESSOR = {"N8", "N16", "N32"};

    /** The lazy-flags kind an inline form leaves in the operand slots, or {@link BlockCompiler#NO_FLAGS}. */
    static int flagsKind(BlockDecoder.Instruction insn) {
        return switch (insn.kind) {
            case BlockDecoder.ALU_RR, BlockDecoder.ALU_RI, BlockDecoder.ALU_RM, BlockDecoder.ALU_MR,
                 BlockDecoder.ALU_MI -> insn.size == Alu.DWORD ? kindOf(insn.op) : NO_FLAGS;
            case BlockDecoder.TEST_RR, BlockDecoder.TEST_RI, BlockDecoder.TEST_MI ->
                    insn.size == Alu.DWORD ? Alu.LOGIC : NO_FLAGS;
            default -> NO_FLAGS;
        };
    }

    private static int kindOf(int op) {
        return switch (op) {
            case Alu.OP_ADD -> Alu.ADD;
            case Alu.OP_SUB, Alu.OP_CMP -> Alu.SUB;
            default -> Alu.LOGIC; // OR, AND, XOR
        };
    }

    /** ADD, OR, AND, SUB, XOR, CMP on a register and a register or an immediate (as {@link Alu#arith}). */
    private static void arithmetic(CodeBuilder code, BlockDecoder.Instruction insn) {
        operands(code, insn);
        operate(code, insn.op);
        if (insn.op != Alu.OP_CMP) {
            storeReg(code, insn.reg, () -> code.iload(RESULT_SLOT));
        }
    }

    /** RESULT = A op B, with its lazy-flags record; ADD, OR, AND, SUB, XOR or CMP. */
    private static void operate(CodeBuilder code, int op) {
        operate(code, op, kindOf(op));
    }

    private static void operate(CodeBuilder code, int op, int kind) {
        code.iload(A_SLOT);
        code.iload(B_SLOT);
        switch (op) {
            case Alu.OP_ADD -> code.iadd();
            case Alu.OP_OR -> code.ior();
            case Alu.OP_AND -> code.iand();
            case Alu.OP_XOR -> code.ixor();
            default -> code.isub(); // SUB, CMP
        }
        code.istore(RESULT_SLOT);
        record(code, kind);
    }

    /** A = the destination register, B = the source register or immediate. */
    private static void operands(CodeBuilder code, BlockDecoder.Instruction insn) {
        loadReg(code, insn.reg);
        code.istore(A_SLOT);
        boolean immediate = insn.kind == BlockDecoder.ALU_RI || insn.kind == BlockDecoder.TEST_RI;
        if (immediate) {
            code.loadConstant(insn.imm);
        } else {
            loadReg(code, insn.rm);
        }
        code.istore(B_SLOT);
    }

    /** The lazy-flags record of {@code Alu.record} for a dword operation: ccOp, ccA, ccB, ccRes. */
    private static void record(CodeBuilder code, int kind) {
        code.aload(CPU_SLOT);
        code.loadConstant(kind << 2 | Alu.DWORD);
        code.putfield(CPU, "ccOp", CD_int);
        code.aload(CPU_SLOT);
        code.iload(A_SLOT);
        code.putfield(CPU, "ccA", CD_int);
        code.aload(CPU_SLOT);
        code.iload(B_SLOT);
        code.putfield(CPU, "ccB", CD_int);
        code.aload(CPU_SLOT);
        code.iload(RESULT_SLOT);
        code.putfield(CPU, "ccRes", CD_int);
    }

    /**
     * Jumps to {@code notTaken} unless condition {@code cc} holds. After an inline operation of a known kind
     * ({@code flagsKind}) the operands in the slots decide as {@link Alu}'s predicates would; otherwise the
     * predicate is called.
     */
    static void branchUnless(CodeBuilder code, int cc, int flagsKind, Label notTaken) {
        boolean negated = (cc & 1) != 0;
        int pair = cc >>> 1;
        if (flagsKind == Alu.SUB && subtractBranch(code, pair, negated, notTaken)) {
            return;
        }
        if (flagsKind == Alu.LOGIC && logicBranch(code, pair, negated, notTaken)) {
            return;
        }
        code.aload(CPU_SLOT);
        code.invokestatic(ALU, Alu.conditionMethod(cc), MethodTypeDesc.of(CD_boolean, CPU));
        code.branch(negated ? Opcode.IFNE : Opcode.IFEQ, notTaken);
    }

    /** After CMP or SUB: the operands A and B compared directly (Alu.below, equal, belowOrEqual, less...). */
    private static boolean subtractBranch(CodeBuilder code, int pair, boolean negated, Label notTaken) {
        if (pair != 1 && pair != 2 && pair != 3 && pair != 6 && pair != 7) {
            return false; // O, S, P: from the flags
        }
        code.iload(A_SLOT);
        code.iload(B_SLOT);
        if (pair == 1 || pair == 3) {
            code.invokestatic(INTEGER, "compareUnsigned", MethodTypeDesc.of(CD_int, CD_int, CD_int));
        }
        // the opcode that leaves when the condition is false: for the even cc, then for its negation
        Opcode[] unless = switch (pair) {
            case 1 -> new Opcode[] {Opcode.IFGE, Opcode.IFLT};              // B, AE (unsigned compare)
            case 2 -> new Opcode[] {Opcode.IF_ICMPNE, Opcode.IF_ICMPEQ};    // E, NE
            case 3 -> new Opcode[] {Opcode.IFGT, Opcode.IFLE};              // BE, A (unsigned compare)
            case 6 -> new Opcode[] {Opcode.IF_ICMPGE, Opcode.IF_ICMPLT};    // L, GE
            default -> new Opcode[] {Opcode.IF_ICMPGT, Opcode.IF_ICMPLE};   // LE, G
        };
        code.branch(unless[negated ? 1 : 0], notTaken);
        return true;
    }

    /** After TEST, AND, OR, XOR (CF = OF = 0): the result alone decides. */
    private static boolean logicBranch(CodeBuilder code, int pair, boolean negated, Label notTaken) {
        if (pair == 5) {
            return false; // P: from the flags
        }
        if (pair <= 1) { // O/NO, B/AE: OF and CF are 0, so the even one never holds
            if (!negated) {
                code.goto_(notTaken);
            }
            return true;
        }
        code.iload(RESULT_SLOT);
        Opcode[] unless = switch (pair) {
            case 2, 3 -> new Opcode[] {Opcode.IFNE, Opcode.IFEQ};   // E/BE, NE/A: ZF alone
            case 4, 6 -> new Opcode[] {Opcode.IFGE, Opcode.IFLT};   // S/L, NS/GE: SF alone
            default -> new Opcode[] {Opcode.IFGT, Opcode.IFLE};     // LE, G: ZF or SF
        };
        code.branch(unless[negated ? 1 : 0], notTaken);
        return true;
    }

    private static void loadReg(CodeBuilder code, int r) {
        code.aload(REG_SLOT);
        code.loadConstant(r);
        code.iaload();
    }

    /** A byte register: AL, CL, DL, BL, then AH, CH, DH, BH (SDM Vol. 2A, Table 2-1), as {@link Cpu#readRegister}. */
    private static void loadByteReg(CodeBuilder code, int r) {
        if (r < 4) {
            loadReg(code, r);
        } else {
            loadReg(code, r - 4);
            code.loadConstant(8);
            code.iushr();
        }
        code.loadConstant(0xFF);
        code.iand();
    }

    private static void storeReg(CodeBuilder code, int r, Runnable value) {
        code.aload(REG_SLOT);
        code.loadConstant(r);
        value.run();
        code.iastore();
    }

    /** disp + base + (index << scale), as {@link CompiledOps#ea}. */
    private static void effectiveAddress(CodeBuilder code, BlockDecoder.Instruction insn) {
        code.loadConstant(insn.disp);
        if (insn.base != CompiledOps.NONE) {
            loadReg(code, insn.base);
            code.iadd();
        }
        if (insn.index != CompiledOps.NONE) {
            loadReg(code, insn.index);
            if (insn.scale != 0) {
                code.loadConstant(insn.scale);
                code.ishl();
            }
            code.iadd();
        }
    }
}

package hvlab.hw.cpu;

import java.lang.classfile.ClassFile;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * Translates a run of guest instructions into a hidden JVM class with the JDK's {@code java.lang.classfile} API.
 * Each instruction becomes a call of its {@link CompiledOps} form with the decoded operands as constants, so
 * HotSpot inlines and folds them: decoding and dispatch are paid once per block, not per instruction. A block ends
 * at an unconditional transfer, at the first form {@link BlockDecoder} does not know, at the page end or after
 * {@link #MAX_INSTRUCTIONS}; a jump back to its own start loops inside the block while no event waits.
 *
 * <p>This is the execution engine, not a virtualization strategy: results are exactly the interpreter's.
 */
final class BlockCompiler {
    static final int MAX_INSTRUCTIONS = 64;

    private static final ClassDesc CPU = ClassDesc.of("hvlab.hw.cpu.Cpu");
    private static final ClassDesc OPS = ClassDesc.of("hvlab.hw.cpu.CompiledOps");
    private static final ClassDesc BLOCK = ClassDesc.of("hvlab.hw.cpu.CompiledBlock");
    private static final ClassDesc GENERATED = ClassDesc.of("hvlab.hw.cpu.CompiledBlock$Translated");
    private static final MethodTypeDesc EXECUTE = MethodTypeDesc.of(CD_void, CPU);
    private static final int CPU_SLOT = 1;

    private final BlockDecoder decoder;
    private final BlockDecoder.Instruction[] instructions = new BlockDecoder.Instruction[MAX_INSTRUCTIONS];
    private final int[] eips = new int[MAX_INSTRUCTIONS];
    private final MethodHandles.Lookup lookup = MethodHandles.lookup();

    BlockCompiler(byte[] ram) {
        this.decoder = new BlockDecoder(ram);
        for (int i = 0; i < MAX_INSTRUCTIONS; i++) {
            instructions[i] = new BlockDecoder.Instruction();
        }
    }

    /** Compiles the block at (physical, eip); null when its first instruction is not a compiled form. */
    CompiledBlock compile(int physical, int eip, boolean code32) {
        if (!code32) {
            return null;
        }
        int count = 0;
        int p = physical, e = eip;
        while (count < MAX_INSTRUCTIONS) {
            BlockDecoder.Instruction insn = instructions[count];
            if (!decoder.decode(p, e, insn)) {
                break;
            }
            eips[count++] = e;
            p += insn.length;
            e += insn.length;
            int kind = insn.kind;
            if (kind == BlockDecoder.JMP || kind == BlockDecoder.CALL || kind == BlockDecoder.RET) {
                break;
            }
        }
        if (count == 0) {
            return null;
        }
        final int n = count;
        final int endEip = e;
        byte[] bytes = ClassFile.of().build(GENERATED, cls -> {
            cls.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC);
            cls.withSuperclass(BLOCK);
            cls.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC, code -> {
                code.aload(0);
                code.invokespecial(BLOCK, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void);
                code.return_();
            });
            cls.withMethodBody("execute", EXECUTE, ClassFile.ACC_FINAL, code -> emitBody(code, n, eip, endEip));
        });
        try {
            MethodHandles.Lookup hidden = lookup.defineHiddenClass(bytes, false);
            CompiledBlock block = (CompiledBlock) hidden.findConstructor(hidden.lookupClass(),
                    MethodType.methodType(void.class)).invoke();
            block.eip = eip;
            block.physical = physical;
            block.code32 = true;
            block.instructions = n;
            return block;
        } catch (Throwable e2) {
            throw new IllegalStateException("block compiler produced an unloadable class at eip 0x"
                    + Integer.toHexString(eip), e2);
        }
    }

    private void emitBody(CodeBuilder code, int n, int startEip, int endEip) {
        Label start = code.newLabel();
        code.labelBinding(start);
        for (int i = 0; i < n; i++) {
            BlockDecoder.Instruction insn = instructions[i];
            int eip = eips[i];
            int next = eip + insn.length;
            // startEip: where a fault in this instruction restarts
            code.aload(CPU_SLOT);
            code.loadConstant(eip);
            code.putfield(CPU, "startEip", CD_int);
            switch (insn.kind) {
                case BlockDecoder.JCC -> {
                    retire(code);
                    Label notTaken = code.newLabel();
                    code.aload(CPU_SLOT);
                    code.loadConstant(insn.cc);
                    code.invokestatic(OPS, "condition", MethodTypeDesc.of(CD_boolean, CPU, CD_int));
                    code.ifeq(notTaken);
                    transfer(code, insn.target, startEip, start, i + 1);
                    code.labelBinding(notTaken);
                }
                case BlockDecoder.JMP -> {
                    retire(code);
                    transfer(code, insn.target, startEip, start, i + 1);
                }
                case BlockDecoder.CALL -> {
                    call(code, "call", MethodTypeDesc.of(CD_void, CPU, CD_int, CD_int), next, insn.target);
                    retire(code);
                    code.return_();
                }
                case BlockDecoder.INTERPRET -> {
                    Label next_ = code.newLabel();
                    code.aload(CPU_SLOT);
                    code.loadConstant(next);
                    code.invokestatic(OPS, "interpret", MethodTypeDesc.of(CD_boolean, CPU, CD_int));
                    code.ifne(next_);
                    code.return_();
                    code.labelBinding(next_);
                }
                case BlockDecoder.RET -> {
                    call(code, "ret", MethodTypeDesc.of(CD_void, CPU, CD_int), insn.imm);
                    retire(code);
                    code.return_();
                }
                default -> {
                    emitPlain(code, insn);
                    retire(code);
                }
            }
        }
        code.aload(CPU_SLOT);
        code.loadConstant(endEip);
        code.putfield(CPU, "eip", CD_int);
        code.return_();
    }

    /** A taken branch: loop inside the block when it targets the block's start, else leave with EIP set. */
    private static void transfer(CodeBuilder code, int target, int startEip, Label start, int instructionsSoFar) {
        if (target == startEip) {
            Label leave = code.newLabel();
            code.aload(CPU_SLOT);
            code.loadConstant(instructionsSoFar);
            code.invokestatic(OPS, "mayLoop", MethodTypeDesc.of(CD_boolean, CPU, CD_int));
            code.ifeq(leave);
            code.goto_(start);
            code.labelBinding(leave);
        }
        call(code, "jump", MethodTypeDesc.of(CD_void, CPU, CD_int), target);
        code.return_();
    }

    private static final MethodTypeDesc R2 = MethodTypeDesc.of(CD_void, CPU, CD_int, CD_int);
    private static final MethodTypeDesc R3 = MethodTypeDesc.of(CD_void, CPU, CD_int, CD_int, CD_int);
    private static final MethodTypeDesc M6 = MethodTypeDesc.of(CD_void, CPU, CD_int, CD_int, CD_int, CD_int, CD_int,
            CD_int);
    private static final MethodTypeDesc M7 = MethodTypeDesc.of(CD_void, CPU, CD_int, CD_int, CD_int, CD_int, CD_int,
            CD_int, CD_int);
    private static final MethodTypeDesc LEA = MethodTypeDesc.of(CD_void, CPU, CD_int, CD_int, CD_int, CD_int, CD_int);

    private static void emitPlain(CodeBuilder code, BlockDecoder.Instruction insn) {
        switch (insn.kind) {
            case BlockDecoder.MOV_RR -> call(code, "movRR", R2, insn.reg, insn.rm);
            case BlockDecoder.MOV_RI -> call(code, "movRI", R2, insn.reg, insn.imm);
            case BlockDecoder.LOAD -> memory(code, "load", M6, insn, insn.reg);
            case BlockDecoder.STORE -> memory(code, "store", M6, insn, insn.reg);
            case BlockDecoder.STORE8 -> memory(code, "store8", M6, insn, insn.reg);
            case BlockDecoder.STORE_IMM -> memory(code, "storeImm", M6, insn, insn.imm);
            case BlockDecoder.MOVZX8 -> memory(code, "loadZeroExtend8", M6, insn, insn.reg);
            case BlockDecoder.MOVZX16 -> memory(code, "loadZeroExtend16", M6, insn, insn.reg);
            case BlockDecoder.MOVSX8 -> memory(code, "loadSignExtend8", M6, insn, insn.reg);
            case BlockDecoder.MOVSX16 -> memory(code, "loadSignExtend16", M6, insn, insn.reg);
            case BlockDecoder.LOAD_ZX8_R -> call(code, "movzx8RR", R2, insn.reg, insn.rm);
            case BlockDecoder.LEA -> call(code, "lea", LEA, insn.reg, insn.base, insn.index, insn.scale, insn.disp);
            case BlockDecoder.ALU_RR -> call(code, "aluRR", R3, insn.op, insn.reg, insn.rm);
            case BlockDecoder.ALU_RI -> call(code, "aluRI", R3, insn.op, insn.reg, insn.imm);
            case BlockDecoder.ALU_RM -> memory(code, "aluRM", M7, insn, insn.op, insn.reg);
            case BlockDecoder.ALU_MR -> memory(code, "aluMR", M7, insn, insn.op, insn.reg);
            case BlockDecoder.ALU_MI -> memory(code, "aluMI", M7, insn, insn.op, insn.imm);
            case BlockDecoder.TEST_RR -> call(code, "testRR", R2, insn.reg, insn.rm);
            case BlockDecoder.TEST_RI -> call(code, "testRI", R2, insn.reg, insn.imm);
            case BlockDecoder.INC -> call(code, "inc", MethodTypeDesc.of(CD_void, CPU, CD_int), insn.reg);
            case BlockDecoder.DEC -> call(code, "dec", MethodTypeDesc.of(CD_void, CPU, CD_int), insn.reg);
            case BlockDecoder.PUSH_R -> call(code, "pushReg", MethodTypeDesc.of(CD_void, CPU, CD_int), insn.reg);
            case BlockDecoder.PUSH_I -> call(code, "push", MethodTypeDesc.of(CD_void, CPU, CD_int), insn.imm);
            case BlockDecoder.POP_R -> call(code, "popReg", MethodTypeDesc.of(CD_void, CPU, CD_int), insn.reg);
            case BlockDecoder.SHIFT_RI -> call(code, "shiftRI", R3, insn.op, insn.reg, insn.imm);
            case BlockDecoder.SETCC -> call(code, "setcc", R2, insn.cc, insn.rm);
            case BlockDecoder.CMOV -> call(code, "cmov", R3, insn.cc, insn.reg, insn.rm);
            case BlockDecoder.IMUL_RRI -> call(code, "imulRRI", R3, insn.reg, insn.rm, insn.imm);
            case BlockDecoder.IMUL_RR -> call(code, "imulRR", R2, insn.reg, insn.rm);
            case BlockDecoder.LEAVE -> call(code, "leave", MethodTypeDesc.of(CD_void, CPU));
            case BlockDecoder.CDQ -> call(code, "cdq", MethodTypeDesc.of(CD_void, CPU));
            case BlockDecoder.NOP -> { }
            default -> throw new IllegalStateException("no emitter for instruction kind " + insn.kind);
        }
    }

    /** A memory form: leading constants, then segment, base, index, scale, displacement. */
    private static void memory(CodeBuilder code, String name, MethodTypeDesc type, BlockDecoder.Instruction insn,
                               int... leading) {
        code.aload(CPU_SLOT);
        for (int value : leading) {
            code.loadConstant(value);
        }
        code.loadConstant(insn.seg);
        code.loadConstant(insn.base);
        code.loadConstant(insn.index);
        code.loadConstant(insn.scale);
        code.loadConstant(insn.disp);
        code.invokestatic(OPS, name, type);
    }

    private static void call(CodeBuilder code, String name, MethodTypeDesc type, int... constants) {
        code.aload(CPU_SLOT);
        for (int value : constants) {
            code.loadConstant(value);
        }
        code.invokestatic(OPS, name, type);
    }

    /** c.retired++: every instruction retires as it completes, so time and faults stay exact inside a block. */
    private static void retire(CodeBuilder code) {
        code.aload(CPU_SLOT);
        code.dup();
        code.getfield(CPU, "retired", CD_long);
        code.lconst_1();
        code.ladd();
        code.putfield(CPU, "retired", CD_long);
    }
}

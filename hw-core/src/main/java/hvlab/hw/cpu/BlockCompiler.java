package hvlab.hw.cpu;

import java.lang.classfile.ClassFile;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

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
    private static final ClassDesc ALU = ClassDesc.of("hvlab.hw.cpu.Alu");
    private static final ClassDesc BLOCK = ClassDesc.of("hvlab.hw.cpu.CompiledBlock");
    private static final ClassDesc GENERATED = ClassDesc.of("hvlab.hw.cpu.CompiledBlock$Translated");
    private static final MethodTypeDesc EXECUTE = MethodTypeDesc.of(CD_void, CPU);
    private static final ClassDesc INT_ARRAY = CD_int.arrayType();
    static final int CPU_SLOT = 1;
    /** c.reg, loaded once per block. */
    static final int REG_SLOT = 2;
    /** Scratch ints of {@link InlineForms}: the last ALU operation's operands and result. */
    static final int A_SLOT = 3, B_SLOT = 4, RESULT_SLOT = 5;
    /** The offset of a memory operand that is read and then written. */
    static final int OFFSET_SLOT = 6;
    static final int NO_FLAGS = -1;

    private final byte[] ram;
    private final BlockDecoder decoder;
    private final BlockDecoder.Instruction[] instructions = new BlockDecoder.Instruction[MAX_INSTRUCTIONS];
    private final int[] eips = new int[MAX_INSTRUCTIONS];
    private final MethodHandles.Lookup lookup = MethodHandles.lookup();

    BlockCompiler(byte[] ram) {
        this.ram = ram;
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
        // The same code at the same EIP translates to the same class: machines in one JVM (tests, benchmark runs,
        // a TCK) share it, and with it the machine code HotSpot made of it.
        TranslationKey key = new TranslationKey(eip, Arrays.copyOfRange(ram, physical, p));
        MethodHandle constructor = TRANSLATIONS.get(key);
        if (constructor == null) {
            constructor = translate(n, eip, endEip);
            if (TRANSLATIONS.size() < MAX_SHARED_TRANSLATIONS) {
                TRANSLATIONS.putIfAbsent(key, constructor);
            }
        }
        try {
            CompiledBlock block = (CompiledBlock) constructor.invoke();
            block.eip = eip;
            block.physical = physical;
            block.code32 = true;
            block.instructions = n;
            return block;
        } catch (RuntimeException | Error unchecked) {
            throw unchecked;
        } catch (Throwable checked) { // MethodHandle.invoke declares Throwable; the constructor throws nothing checked
            throw new IllegalStateException("cannot instantiate the block at eip 0x" + Integer.toHexString(eip), checked);
        }
    }

    /** Guest code bytes at an EIP: what a translation depends on (32-bit code only is compiled). */
    private record TranslationKey(int eip, byte[] code) {
        @Override
        public boolean equals(Object other) {
            return other instanceof TranslationKey k && k.eip == eip && Arrays.equals(k.code, code);
        }

        @Override
        public int hashCode() {
            return 31 * eip + Arrays.hashCode(code);
        }
    }

    private static final int MAX_SHARED_TRANSLATIONS = 1 << 16;
    private static final ConcurrentHashMap<TranslationKey, MethodHandle> TRANSLATIONS = new ConcurrentHashMap<>();

    private MethodHandle translate(int n, int eip, int endEip) {
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
            return hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class));
        } catch (ReflectiveOperationException failure) {
            throw new IllegalStateException("block compiler produced an unloadable class at eip 0x"
                    + Integer.toHexString(eip), failure);
        }
    }

    private void emitBody(CodeBuilder code, int n, int startEip, int endEip) {
        code.aload(CPU_SLOT);
        code.getfield(CPU, "reg", INT_ARRAY);
        code.astore(REG_SLOT);
        Label start = code.newLabel();
        code.labelBinding(start);
        int flagsKind = NO_FLAGS; // the lazy-flags kind the previous instruction left in the operand slots
        for (int i = 0; i < n; i++) {
            BlockDecoder.Instruction insn = instructions[i];
            int eip = eips[i];
            int next = eip + insn.length;
            int previousFlags = flagsKind;
            flagsKind = NO_FLAGS;
            if (InlineForms.emit(code, insn)) {
                // a register operation: it cannot fault, so it needs no restart address
                flagsKind = InlineForms.flagsKind(insn);
                if (insn.reg == Cpu.ESP) {
                    stackPointerCommitted(code);
                }
                retire(code);
                continue;
            }
            // startEip: where a fault in this instruction restarts
            code.aload(CPU_SLOT);
            code.loadConstant(eip);
            code.putfield(CPU, "startEip", CD_int);
            switch (insn.kind) {
                case BlockDecoder.JCC -> {
                    retire(code);
                    Label notTaken = code.newLabel();
                    InlineForms.branchUnless(code, insn.cc, previousFlags, notTaken);
                    transfer(code, insn.target, startEip, start, i + 1);
                    code.labelBinding(notTaken);
                }
                case BlockDecoder.JMP -> {
                    retire(code);
                    transfer(code, insn.target, startEip, start, i + 1);
                }
                case BlockDecoder.CALL -> {
                    call(code, "call", next, insn.target);
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
                    call(code, "ret", 0);
                    retire(code);
                    code.return_();
                }
                default -> {
                    if (InlineForms.emitMemory(code, insn)) {
                        flagsKind = InlineForms.flagsKind(insn);
                    } else {
                        emitPlain(code, insn);
                    }
                    if (insn.reg == Cpu.ESP || !insn.memory && insn.rm == Cpu.ESP) {
                        stackPointerCommitted(code);
                    }
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
        call(code, "jump", target);
        code.return_();
    }

    private static void emitPlain(CodeBuilder code, BlockDecoder.Instruction insn) {
        int size = insn.size;
        switch (insn.kind) {
            case BlockDecoder.MOV_RR -> call(code, "movRR", insn.reg, insn.rm, size);
            case BlockDecoder.MOV_RI -> call(code, "movRI", insn.reg, insn.imm, size);
            case BlockDecoder.LOAD -> memory(code, "load", insn, insn.reg, size);
            case BlockDecoder.STORE -> memory(code, "store", insn, insn.reg, size);
            case BlockDecoder.STORE_IMM -> memory(code, "storeImm", insn, insn.imm, size);
            case BlockDecoder.LOAD_EXTEND -> memory(code, "loadExtend", insn, insn.reg, size, insn.signed);
            case BlockDecoder.EXTEND_RR -> call(code, "extendRR", insn.reg, insn.rm, size, insn.signed);
            case BlockDecoder.LEA -> call(code, "lea", insn.reg, insn.base, insn.index, insn.scale, insn.disp);
            case BlockDecoder.ALU_RR -> call(code, "aluRR", insn.op, insn.reg, insn.rm, size);
            case BlockDecoder.ALU_RI -> call(code, "aluRI", insn.op, insn.reg, insn.imm, size);
            case BlockDecoder.ALU_RM -> memory(code, "aluRM", insn, insn.op, insn.reg, size);
            case BlockDecoder.ALU_MR -> memory(code, "aluMR", insn, insn.op, insn.reg, size);
            case BlockDecoder.ALU_MI -> memory(code, "aluMI", insn, insn.op, insn.imm, size);
            case BlockDecoder.TEST_RR -> call(code, "testRR", insn.reg, insn.rm, size);
            case BlockDecoder.TEST_RI -> call(code, "testRI", insn.reg, insn.imm, size);
            case BlockDecoder.TEST_MI -> memory(code, "testMI", insn, insn.imm, size);
            case BlockDecoder.INC -> call(code, "inc", insn.reg, size);
            case BlockDecoder.DEC -> call(code, "dec", insn.reg, size);
            case BlockDecoder.NOT -> call(code, "not", insn.reg, size);
            case BlockDecoder.NEG -> call(code, "neg", insn.reg, size);
            case BlockDecoder.SHIFT_RI -> call(code, "shiftRI", insn.op, insn.reg, insn.imm, size);
            case BlockDecoder.SHIFT_RCL -> call(code, "shiftRCl", insn.op, insn.reg, size);
            case BlockDecoder.SETCC -> call(code, "setcc", insn.cc, insn.rm);
            case BlockDecoder.CMOV -> call(code, "cmov", insn.cc, insn.reg, insn.rm);
            case BlockDecoder.IMUL_RRI -> call(code, "imulRRI", insn.reg, insn.rm, insn.imm);
            case BlockDecoder.IMUL_RR -> call(code, "imulRR", insn.reg, insn.rm);
            case BlockDecoder.PUSH_R -> call(code, "pushReg", insn.reg);
            case BlockDecoder.PUSH_I -> call(code, "push", insn.imm);
            case BlockDecoder.POP_R -> call(code, "popReg", insn.reg);
            case BlockDecoder.LEAVE -> call(code, "leave");
            case BlockDecoder.CDQ -> call(code, "cdq");
            case BlockDecoder.NOP -> { }
            default -> throw new IllegalStateException("no emitter for instruction kind " + insn.kind);
        }
    }

    /** A memory form: the leading constants, then segment, base, index, scale and displacement. */
    private static void memory(CodeBuilder code, String name, BlockDecoder.Instruction insn, int... leading) {
        int[] all = java.util.Arrays.copyOf(leading, leading.length + 5);
        all[leading.length] = insn.seg;
        all[leading.length + 1] = insn.base;
        all[leading.length + 2] = insn.index;
        all[leading.length + 3] = insn.scale;
        all[leading.length + 4] = insn.disp;
        call(code, name, all);
    }

    /** {@code CompiledOps.name(c, constants...)}, every operand an int constant. */
    private static void call(CodeBuilder code, String name, int... constants) {
        code.aload(CPU_SLOT);
        ClassDesc[] parameters = new ClassDesc[constants.length + 1];
        parameters[0] = CPU;
        for (int i = 0; i < constants.length; i++) {
            code.loadConstant(constants[i]);
            parameters[i + 1] = CD_int;
        }
        code.invokestatic(OPS, name, MethodTypeDesc.of(CD_void, parameters));
    }

    /** ESP written as a general register: a later fault must not roll it back (c.startEsp = reg[ESP]). */
    private static void stackPointerCommitted(CodeBuilder code) {
        code.aload(CPU_SLOT);
        code.aload(REG_SLOT);
        code.loadConstant(Cpu.ESP);
        code.iaload();
        code.putfield(CPU, "startEsp", CD_int);
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

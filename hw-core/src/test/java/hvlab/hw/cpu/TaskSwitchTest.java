package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Hardware task switching: SDM Vol. 3A 7.3 (steps), Table 7-1 (faults), Table 7-2 (busy, NT, back link). */
class TaskSwitchTest {
    private static final int TSS = CpuBench.TSS, TSS_SEL = CpuBench.TSS_SEL;
    private static final int TSS2 = 0x5000, TSS2_SEL = 0x30, GATE_SEL = 0x38;
    private static final int TASK2_CODE = 0x20000, TASK2_STACK = 0x60000;
    private static final int TSS3 = 0x7000, TSS3_SEL = 0x40, TASK3_CODE = 0x21000, TASK3_STACK = 0x68000;
    private static final int AVAILABLE32 = Descriptors.TSS32_AVAILABLE, BUSY32 = Descriptors.TSS32_BUSY;
    /** jmp far 0x30:0 and call far 0x30:0 (the offset is ignored for a task). */
    private static final String JMP_TSS2 = "ea 00 00 00 00 30 00", CALL_TSS2 = "9a 00 00 00 00 30 00";

    private final CpuBench bench = new CpuBench().flatProtectedMode();
    private final Cpu cpu = bench.cpu;

    TaskSwitchTest() {
        bench.task(TSS2_SEL, TSS2, TASK2_CODE, TASK2_STACK);
    }

    private int tss(int address, int offset) {
        return bench.memory.readU32(address + offset);
    }

    private int savedRegister(int address, int register) {
        return tss(address, TaskSwitch.REGS32 + register * 4);
    }

    /** Lets a test go on after a HLT that stopped the CPU. */
    private void resume() {
        cpu.halted = false;
        cpu.run(100_000);
    }

    @Test
    void jmpToTssSavesTheOldTaskAndLoadsTheNew_sdm7_3() {
        bench.memory.writeU32(TSS2 + TaskSwitch.REGS32 + Cpu.EAX * 4, 0x1234);
        bench.code("b8 78 56 00 00 " + JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(cpu.eip()).isEqualTo(TASK2_CODE + 1);
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(0x1234);
        assertThat(cpu.register(Cpu.ESP)).isEqualTo(TASK2_STACK);
        assertThat(cpu.trSel).isEqualTo(TSS2_SEL);
        assertThat(tss(TSS, TaskSwitch.EIP32)).as("old EIP: after the JMP").isEqualTo(CpuBench.CODE + 12);
        assertThat(savedRegister(TSS, Cpu.EAX)).isEqualTo(0x5678);
        assertThat(savedRegister(TSS, Cpu.ESP)).isEqualTo(CpuBench.STACK_TOP);
        assertThat(tss(TSS, TaskSwitch.SELECTORS32 + Cpu.CS * 4)).isEqualTo(CpuBench.CODE0);
        assertThat(cpu.cr(0) & Cpu.CR0_TS).as("CR0.TS after a task switch").isNotZero();
    }

    @Test
    void jmpClearsTheOldBusyBitAndLeavesNtAndLinkAlone_sdm7_3_table7_2() {
        bench.memory.writeU32(TSS2 + TaskSwitch.LINK, 0x7777);
        bench.code(JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(bench.descriptorType(TSS_SEL)).isEqualTo(AVAILABLE32);
        assertThat(bench.descriptorType(TSS2_SEL)).isEqualTo(BUSY32);
        assertThat(cpu.eflags() & Cpu.NT).isZero();
        assertThat(tss(TSS2, TaskSwitch.LINK) & 0xFFFF).isEqualTo(0x7777);
    }

    @Test
    void callNestsTheNewTaskAndIretReturnsThroughTheBackLink_sdm7_3_table7_2() {
        // old task: call the task, then hlt; new task: hlt, then mov eax,0x55; iret
        bench.code(CALL_TSS2 + " f4").codeAt(TASK2_CODE, "f4  b8 55 00 00 00  cf");
        bench.run();
        assertThat(cpu.trSel).isEqualTo(TSS2_SEL);
        assertThat(cpu.eflags() & Cpu.NT).as("NT in the called task").isNotZero();
        assertThat(tss(TSS2, TaskSwitch.LINK) & 0xFFFF).as("back link").isEqualTo(TSS_SEL);
        assertThat(bench.descriptorType(TSS_SEL)).as("caller stays busy").isEqualTo(BUSY32);
        assertThat(bench.descriptorType(TSS2_SEL)).isEqualTo(BUSY32);

        resume();
        assertThat(cpu.trSel).isEqualTo(TSS_SEL);
        assertThat(cpu.eip()).isEqualTo(CpuBench.CODE + 8);
        assertThat(cpu.register(Cpu.EAX)).as("the caller's EAX, from its TSS").isZero();
        assertThat(bench.descriptorType(TSS2_SEL)).as("IRET frees the nested task").isEqualTo(AVAILABLE32);
        assertThat(bench.descriptorType(TSS_SEL)).isEqualTo(BUSY32);
        assertThat(savedRegister(TSS2, Cpu.EAX)).isEqualTo(0x55);
        assertThat(tss(TSS2, TaskSwitch.EIP32)).as("resumes after its IRET").isEqualTo(TASK2_CODE + 7);
        assertThat(tss(TSS2, TaskSwitch.EFLAGS32) & Cpu.NT).as("step 7: NT cleared in the saved image").isZero();
    }

    @Test
    void jmpThroughATaskGateInTheGdt_sdm7_3_2() {
        bench.taskGate(CpuBench.GDT + GATE_SEL, TSS2_SEL, 0);
        cpu.gdtLimit = GATE_SEL + 7;
        bench.code("ea 00 00 00 00 38 00").codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(cpu.trSel).isEqualTo(TSS2_SEL);
        assertThat(cpu.eip()).isEqualTo(TASK2_CODE + 1);
    }

    @Test
    void doubleFaultThroughATaskGateRunsTheHandlerTaskWithTheErrorCode_sdm6_15_vector8() {
        bench.taskGate(CpuBench.IDT + Exceptions.DF * 8, TSS2_SEL, 0);
        bench.descriptor(CpuBench.IDT + Exceptions.UD * 8, 0, 0); // #UD gate invalid -> #GP ...
        bench.descriptor(CpuBench.IDT + Exceptions.GP * 8, 0, 0); // ... #GP gate invalid too -> #DF
        bench.code("0f 0b").codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(cpu.trSel).isEqualTo(TSS2_SEL);
        assertThat(cpu.eip()).isEqualTo(TASK2_CODE + 1);
        assertThat(cpu.register(Cpu.ESP)).as("error code pushed on the new task's stack").isEqualTo(TASK2_STACK - 4);
        assertThat(bench.memory.readU32(TASK2_STACK - 4)).isZero();
        assertThat(tss(TSS, TaskSwitch.EIP32)).as("the faulting instruction").isEqualTo(CpuBench.CODE);
        assertThat(tss(TSS2, TaskSwitch.LINK) & 0xFFFF).isEqualTo(TSS_SEL);
        assertThat(cpu.eflags() & Cpu.NT).isNotZero();
    }

    @Test
    void softwareInterruptThroughATaskGateChecksTheGateDpl_sdm7_3_step2() {
        bench.taskGate(CpuBench.IDT + 0x40 * 8, TSS2_SEL, 0);
        bench.code(CpuBench.ENTER_RING3).codeAt(CpuBench.RING3_CODE, "cd 40");
        bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).isEqualTo(0x40 * 8 + 2);
        assertThat(cpu.trSel).isEqualTo(TSS_SEL);
    }

    @Test
    void tssLimitBelow67hIsTsInTheOldTask_sdm7_3_table7_1() {
        int hi = bench.memory.readU32(CpuBench.GDT + TSS2_SEL + 4);
        bench.descriptor(CpuBench.GDT + TSS2_SEL, hi, (TSS2 & 0xFFFF) << 16 | 0x60);
        bench.code(JMP_TSS2);
        bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.TS));
        assertThat(bench.stackDword(0)).isEqualTo(TSS2_SEL);
        assertThat(bench.stackDword(1)).as("EIP of the JMP, in the old task").isEqualTo(CpuBench.CODE);
        assertThat(cpu.trSel).isEqualTo(TSS_SEL);
        assertThat(bench.descriptorType(TSS_SEL)).isEqualTo(BUSY32);
        assertThat(bench.descriptorType(TSS2_SEL)).isEqualTo(AVAILABLE32);
    }

    @Test
    void badDataSegmentInTheNewTaskIsTsInTheNewTask_sdm7_3_table7_1() {
        bench.memory.writeU32(TSS2 + TaskSwitch.SELECTORS32 + Cpu.DS * 4, TSS_SEL); // a system descriptor
        bench.code(JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.TS));
        assertThat(cpu.trSel).as("the switch is committed").isEqualTo(TSS2_SEL);
        assertThat(bench.stackDword(0)).isEqualTo(TSS_SEL);
        assertThat(bench.stackDword(1)).as("EIP of the new task").isEqualTo(TASK2_CODE);
        assertThat(cpu.register(Cpu.ESP)).as("on the new task's stack").isEqualTo(TASK2_STACK - 16);
    }

    /**
     * A third task that handles #TS through a task gate: a fault while the new task's segments are checked comes
     * before its stack is usable, so only a task gate can deliver it (SDM 7.3 step 13).
     */
    private void invalidTssHandledByATask() {
        bench.task(TSS3_SEL, TSS3, TASK3_CODE, TASK3_STACK);
        bench.taskGate(CpuBench.IDT + Exceptions.TS * 8, TSS3_SEL, 0);
        bench.codeAt(TASK3_CODE, "f4");
    }

    private void assertTsInTheNewTask(int errorCode) {
        assertThat(cpu.trSel).isEqualTo(TSS3_SEL);
        assertThat(cpu.eip()).isEqualTo(TASK3_CODE + 1);
        assertThat(bench.memory.readU32(TASK3_STACK - 4)).as("#TS error code").isEqualTo(errorCode);
        assertThat(tss(TSS3, TaskSwitch.LINK) & 0xFFFF).isEqualTo(TSS2_SEL);
        assertThat(tss(TSS2, TaskSwitch.EIP32)).as("the faulting task is the new one").isEqualTo(TASK2_CODE);
    }

    @Test
    void stackSegmentDplOtherThanCplIsTsInTheNewTask_sdm7_3_table7_1() {
        invalidTssHandledByATask();
        bench.memory.writeU32(TSS2 + TaskSwitch.SELECTORS32 + Cpu.SS * 4, CpuBench.DATA3);
        bench.code(JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertTsInTheNewTask(CpuBench.DATA3 & 0xFFFC);
        assertThat(bench.descriptorType(TSS_SEL)).as("left by the JMP").isEqualTo(AVAILABLE32);
    }

    @Test
    void anLdtSelectorThatNamesNoLdtIsTsInTheNewTask_sdm7_3_table7_1() {
        invalidTssHandledByATask();
        bench.memory.writeU32(TSS2 + TaskSwitch.LDT32, CpuBench.DATA0);
        bench.code(JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertTsInTheNewTask(CpuBench.DATA0);
    }

    @Test
    void jmpToTheBusyCurrentTaskIsGp_sdmJmp() {
        bench.code("ea 00 00 00 00 28 00");
        bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).isEqualTo(TSS_SEL);
    }

    @Test
    void iretWithNtToANotBusyTaskIsTsWithTheLink_sdmIret() {
        bench.memory.writeU32(TSS + TaskSwitch.LINK, TSS2_SEL);
        bench.code("9c  81 0c 24 00 40 00 00  9d  cf"); // pushf; or dword [esp],NT; popf; iret
        bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.TS));
        assertThat(bench.stackDword(0)).isEqualTo(TSS2_SEL);
    }

    @Test
    void sixteenBitTssLoadsWordRegistersWithTheUpperHalvesSet_sdm7_6() {
        int tss16 = 0x6000;
        bench.descriptor(CpuBench.GDT + TSS2_SEL, 0x00008100, (tss16 & 0xFFFF) << 16 | TaskSwitch.MIN_LIMIT16);
        bench.memory.writeU16(tss16 + TaskSwitch.IP16, TASK2_CODE & 0xFFFF);
        bench.memory.writeU16(tss16 + TaskSwitch.FLAGS16, 2);
        bench.memory.writeU16(tss16 + TaskSwitch.REGS16 + Cpu.EAX * 2, 0x1234);
        bench.memory.writeU16(tss16 + TaskSwitch.REGS16 + Cpu.ESP * 2, 0x8000);
        bench.memory.writeU16(tss16 + TaskSwitch.SELECTORS16 + Cpu.CS * 2, 0x40);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS}) {
            bench.memory.writeU16(tss16 + TaskSwitch.SELECTORS16 + s * 2, CpuBench.DATA0);
        }
        bench.descriptor(CpuBench.GDT + 0x40, 0x00009A02, 0x0000FFFF); // 16-bit code, base 0x20000
        cpu.gdtLimit = 0x47;
        bench.code(JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(cpu.trSel).isEqualTo(TSS2_SEL);
        assertThat(bench.descriptorType(TSS2_SEL)).isEqualTo(Descriptors.TSS16_BUSY);
        assertThat(cpu.eip()).isEqualTo(1);
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(0xFFFF1234);
        assertThat(cpu.segmentSelector(Cpu.FS)).isZero();
    }

    @Test
    void withPagingCr3IsLoadedFromTheNewTss_sdm7_3_step10() {
        int directory = 0x30000, newDirectory = 0x31000;
        bench.memory.writeU32(directory, 0x83); // 0-4 MiB identity, one 4 MiB page (P, W, PS)
        bench.memory.writeU32(newDirectory, 0x83);
        cpu.cr4 = Cpu.CR4_PSE;
        cpu.cr3 = directory;
        SystemOps.writeCr0(cpu, cpu.cr0 | Cpu.CR0_PG);
        bench.memory.writeU32(TSS2 + TaskSwitch.CR3, newDirectory);
        bench.code(JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(cpu.eip()).isEqualTo(TASK2_CODE + 1);
        assertThat(cpu.cr(3)).isEqualTo(newDirectory);
    }

    @Test
    void ldtrIsLoadedFromTheNewTssAndItsSelectorsUseIt_sdm7_3_step10() {
        int ldt = 0x8000, ldtSel = 0x40, ldtDataSel = 0x0C; // LDT entry 1, TI = 1
        bench.descriptor(CpuBench.GDT + ldtSel, 0x00008200, (ldt & 0xFFFF) << 16 | 0x0F);
        bench.descriptor(ldt + 8, 0x00409200 | 0x01, 0x0000FFFF); // data, base 0x10000, limit 0xFFFF
        cpu.gdtLimit = ldtSel + 7;
        bench.memory.writeU32(TSS2 + TaskSwitch.LDT32, ldtSel);
        bench.memory.writeU32(TSS2 + TaskSwitch.SELECTORS32 + Cpu.DS * 4, ldtDataSel);
        bench.code(JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(cpu.eip()).isEqualTo(TASK2_CODE + 1);
        assertThat(cpu.ldtSel).isEqualTo(ldtSel);
        assertThat(cpu.ldtBase).isEqualTo(ldt);
        assertThat(cpu.segmentBase(Cpu.DS)).isEqualTo(0x10000);
    }

    @Test
    void withoutPagingCr3IsNotLoadedFromTheTss_sdm7_3_step10() {
        bench.memory.writeU32(TSS2 + TaskSwitch.CR3, 0x12345000);
        bench.code(JMP_TSS2).codeAt(TASK2_CODE, "f4");
        bench.run();
        assertThat(cpu.trSel).isEqualTo(TSS2_SEL);
        assertThat(cpu.cr(3)).isZero();
    }
}

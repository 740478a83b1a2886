package hvlab.hv.vtx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.Exceptions;
import hvlab.hw.cpu.TaskSwitch;
import hvlab.hw.machine.RunOutcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static hvlab.hv.vtx.TaskGuest.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exit 9 (SDM Vol. 3C 25.4.2, qualification 27.2.1 Table 27-3): the hypervisor performs the guest's task switch as
 * the processor would outside VMX (SDM Vol. 3A 7.3), in both memory modes, with the faults of Table 7-1 injected in
 * the old or the new task and the double-fault rules of Table 6-5.
 */
class TaskSwitchExitTest {
    private static final int AVAILABLE = 9, BUSY = 11;
    private static final String JMP_B = "ea 00 00 00 00 20 00", CALL_B = "9a 00 00 00 00 20 00";
    private static final String PERFORMED = "performed for the guest", FAULTED = "faulted, exception injected";

    private static int tss(TaskGuest.Run run, int tss, int offset) {
        return run.read32(tss + offset);
    }

    private static long switches(TaskGuest.Run run, String key) {
        return run.count("task switches", key);
    }

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void jmpToATssSavesTheOldTaskAndRunsTheNew_sdm7_3(MemoryMode mode) throws Exception {
        TaskGuest guest = new TaskGuest().put32(TSS_B + TaskSwitch.REGS32, 0x5678);
        guest.emit("b8 34 12 00 00").emit(JMP_B); // mov eax, 1234H; jmp 20H:0
        int afterJmp = guest.here();
        try (TaskGuest.Run run = guest.run(mode)) {
            assertThat(run.guest().general().eip()).isEqualTo(TASK_B_CODE + 1);
            assertThat(run.guest().general().eax()).isEqualTo(0x5678);
            assertThat(run.guest().general().esp()).isEqualTo(STACK_B);
            assertThat(run.guest().system().tr().selector()).isEqualTo(SEL_B);
            assertThat(tss(run, TSS_A, TaskSwitch.EIP32)).as("the old task resumes after the JMP").isEqualTo(afterJmp);
            assertThat(tss(run, TSS_A, TaskSwitch.REGS32)).isEqualTo(0x1234);
            assertThat(tss(run, TSS_A, TaskSwitch.REGS32 + 4 * Cpu.ESP)).isEqualTo(STACK_A);
            assertThat(run.descriptorType(SEL_A)).as("JMP frees the old task (Table 7-2)").isEqualTo(AVAILABLE);
            assertThat(run.descriptorType(SEL_B)).isEqualTo(BUSY);
            assertThat(run.guest().system().cr0() & Cpu.CR0_TS).as("CR0.TS as the guest reads it").isNotZero();
            assertThat(switches(run, PERFORMED)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void callNestsTheTaskAndIretReturnsByTheBackLink_sdm7_3_table7_2(MemoryMode mode) throws Exception {
        int iret = TASK_B_CODE + 0x25;
        TaskGuest guest = new TaskGuest().put32(TSS_B + TaskSwitch.EIP32, TASK_B_CODE + 0x20)
                .bytesAt(TASK_B_CODE + 0x20, "b8 55 00 00 00  cf"); // mov eax, 55H; iret
        guest.emit("b8 11 00 00 00").emit(CALL_B); // mov eax, 11H; call 20H:0; (hlt)
        int afterCall = guest.here();
        try (TaskGuest.Run run = guest.run(mode)) {
            assertThat(run.guest().general().eip()).as("back after the CALL, past its HLT").isEqualTo(afterCall + 1);
            assertThat(run.guest().general().eax()).as("the caller's EAX, from its TSS").isEqualTo(0x11);
            assertThat(run.guest().system().tr().selector()).isEqualTo(SEL_A);
            assertThat(run.guest().general().eflags() & Cpu.NT).isZero();
            assertThat(tss(run, TSS_B, TaskSwitch.LINK) & 0xFFFF).as("back link").isEqualTo(SEL_A);
            assertThat(tss(run, TSS_B, TaskSwitch.REGS32)).isEqualTo(0x55);
            assertThat(tss(run, TSS_B, TaskSwitch.EIP32)).as("resumes after its IRET").isEqualTo(iret + 1);
            assertThat(tss(run, TSS_B, TaskSwitch.EFLAGS32) & Cpu.NT).as("step 7: NT cleared in the image").isZero();
            assertThat(run.descriptorType(SEL_B)).as("IRET frees the nested task").isEqualTo(AVAILABLE);
            assertThat(run.descriptorType(SEL_A)).isEqualTo(BUSY);
            assertThat(switches(run, PERFORMED)).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void intNThroughATaskGateResumesTheOldTaskAfterTheInstruction_sdm6_12_2(MemoryMode mode) throws Exception {
        TaskGuest guest = new TaskGuest().taskGate(0x40, SEL_B);
        guest.emit("cd 40"); // int 40H
        int afterInt = guest.here();
        try (TaskGuest.Run run = guest.run(mode)) {
            assertThat(run.guest().system().tr().selector()).isEqualTo(SEL_B);
            assertThat(run.guest().general().eip()).isEqualTo(TASK_B_CODE + 1);
            assertThat(run.guest().general().esp()).as("no error code").isEqualTo(STACK_B);
            assertThat(run.guest().general().eflags() & Cpu.NT).isNotZero();
            assertThat(tss(run, TSS_A, TaskSwitch.EIP32)).isEqualTo(afterInt);
            assertThat(tss(run, TSS_B, TaskSwitch.LINK) & 0xFFFF).isEqualTo(SEL_A);
            assertThat(run.descriptorType(SEL_A)).as("an interrupt keeps the old task busy").isEqualTo(BUSY);
        }
    }

    /** ud2 with the #UD and #GP gates invalid: a #GP while delivering a #GP makes a #DF (SDM 6.15, Table 6-5). */
    private static TaskGuest doubleFaultThroughTaskC() {
        TaskGuest guest = new TaskGuest().taskGate(Exceptions.DF, SEL_C)
                .descriptor(IDT + Exceptions.UD * 8, 0, 0).descriptor(IDT + Exceptions.GP * 8, 0, 0);
        guest.emit("0f 0b");
        return guest;
    }

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void aDoubleFaultThroughATaskGateRunsItsTaskWithErrorCodeZero_sdm6_15(MemoryMode mode) throws Exception {
        TaskGuest guest = doubleFaultThroughTaskC();
        int ud2 = guest.here() - 2;
        try (TaskGuest.Run run = guest.run(mode)) {
            assertThat(run.guest().system().tr().selector()).isEqualTo(SEL_C);
            assertThat(run.guest().general().eip()).isEqualTo(TASK_C_CODE + 1);
            assertThat(run.guest().general().esp()).as("the error code on the new stack").isEqualTo(STACK_C - 4);
            assertThat(run.stack(0)).isZero();
            assertThat(tss(run, TSS_A, TaskSwitch.EIP32)).as("the faulting instruction").isEqualTo(ud2);
            assertThat(tss(run, TSS_C, TaskSwitch.LINK) & 0xFFFF).isEqualTo(SEL_A);
        }
    }

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void aFaultWhileADoubleFaultSwitchesTasksIsATripleFault_sdm6_15_table6_5(MemoryMode mode) throws Exception {
        TaskGuest guest = doubleFaultThroughTaskC().put32(TSS_C + TaskSwitch.SELECTORS32 + 4 * Cpu.CS, 0);
        try (TaskGuest.Run run = guest.run(mode)) {
            assertThat(run.outcome()).isInstanceOf(RunOutcome.Shutdown.class);
            assertThat(((RunOutcome.Shutdown) run.outcome()).reason()).as("the hypervisor's, not a later one")
                    .contains("triple fault in the guest: #TS while its #DF switched tasks");
        }
    }

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void aBadDataSegmentIsTsInjectedInTheNewTask_sdm7_3_table7_1(MemoryMode mode) throws Exception {
        TaskGuest guest = new TaskGuest().put32(TSS_B + TaskSwitch.SELECTORS32 + 4 * Cpu.DS, SEL_A);
        guest.emit(JMP_B);
        try (TaskGuest.Run run = guest.run(mode)) {
            assertThat(run.guest().general().eip()).isEqualTo(stub(Exceptions.TS) + 1);
            assertThat(run.guest().system().tr().selector()).as("the switch is committed").isEqualTo(SEL_B);
            assertThat(run.stack(0)).as("#TS error code: the selector").isEqualTo(SEL_A);
            assertThat(run.stack(1)).as("EIP of the new task").isEqualTo(TASK_B_CODE);
            assertThat(run.guest().general().esp()).as("on the new task's stack").isEqualTo(STACK_B - 16);
            assertThat(switches(run, FAULTED)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void aPageFaultOnTheNewTssIsInjectedInTheOldTaskWithCr2_sdm7_3_step5(MemoryMode mode) throws Exception {
        int unmapped = 0x00400000; // beyond the guest's one 4 MiB page
        TaskGuest guest = new TaskGuest().tssDescriptor(SEL_B, unmapped).paging();
        int jmp = guest.here();
        guest.emit(JMP_B);
        try (TaskGuest.Run run = guest.run(mode)) {
            assertThat(run.guest().general().eip()).isEqualTo(stub(Exceptions.PF) + 1);
            assertThat(run.stack(0)).as("not present, read, supervisor").isZero();
            assertThat(run.stack(1)).as("EIP of the JMP, in the old task").isEqualTo(jmp);
            assertThat(run.guest().system().cr2() >>> 12).as("CR2 in the new TSS").isEqualTo(unmapped >>> 12);
            assertThat(run.guest().system().tr().selector()).isEqualTo(SEL_A);
            assertThat(run.descriptorType(SEL_A)).as("busy bits untouched").isEqualTo(BUSY);
            assertThat(run.descriptorType(SEL_B)).isEqualTo(AVAILABLE);
        }
    }
}

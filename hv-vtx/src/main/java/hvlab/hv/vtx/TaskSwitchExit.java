package hvlab.hv.vtx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.Exceptions;
import hvlab.hw.cpu.TaskSwitch;
import hvlab.hw.cpu.vmx.InterruptionInfo;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;

import static hvlab.hw.cpu.vmx.VmcsField.*;

/**
 * Exit 9: a task switch the guest attempted, which VMX non-root operation never performs (SDM Vol. 3C 25.4.2). The
 * processor made the checks that come before the exit (the gate, the TSS descriptor and its limit); the hypervisor
 * performs the rest for the guest with the processor's own task-switch code ({@link TaskSwitch}) on the guest's
 * state, and VMRESUMEs in the new task, as KVM and Xen emulate it.
 *
 * <p>What the exit tells (27.2.1 Table 27-3, 27.2.4): the new TSS selector and the source (CALL, IRET, JMP, or a task
 * gate in the IDT); for a task gate, the event that came through it in the IDT-vectoring fields. The old task resumes
 * after CALL, JMP, IRET and INT n (RIP plus the instruction length); after an exception or interrupt, at the RIP the
 * exit saved. The event is delivered by the switch (its error code pushed on the new task's stack), so nothing is
 * re-injected. A fault of the switch is injected: in the old task before the new one is loaded, in the new task
 * after (SDM Vol. 3A Table 7-1); raised while delivering an exception, it makes a double fault as Table 6-5 says.
 */
final class TaskSwitchExit {
    /** Takes the exception the guest must see next (vector, error code). */
    @FunctionalInterface
    interface Injection {
        void fault(int vector, int errorCode);
    }

    private static final int BLOCKING_BY_STI_OR_MOV_SS = 3;

    private final Cpu cpu;
    private final CurrentVmcs vmcs;
    private final GuestTaskState guest;
    private final TaskSwitch taskSwitch;
    private final Counter performed, faulted;

    TaskSwitchExit(Cpu cpu, PhysicalMemory memory, CurrentVmcs vmcs, MemoryVirtualization memoryMode,
                   GuestRam ram, Counters counters) {
        this.cpu = cpu;
        this.vmcs = vmcs;
        this.guest = new GuestTaskState(cpu, memory, vmcs, memoryMode, ram);
        this.taskSwitch = new TaskSwitch(guest);
        this.performed = counters.counter("task switches", "performed for the guest");
        this.faulted = counters.counter("task switches", "faulted, exception injected");
    }

    /** Performs the switch the exit reports; false when the guest shut down (a fault while delivering #DF). */
    boolean emulate(Injection injection) {
        long qualification = vmcs.read(EXIT_QUALIFICATION) & 0xFFFFFFFFL;
        int selector = (int) qualification & 0xFFFF;
        TaskSwitch.Source source = switch ((int) (qualification >>> 30)) {
            case 0 -> TaskSwitch.Source.CALL;
            case 1 -> TaskSwitch.Source.IRET;
            case 2 -> TaskSwitch.Source.JMP;
            default -> TaskSwitch.Source.INTERRUPT;
        };
        int event = source == TaskSwitch.Source.INTERRUPT ? vmcs.read(IDT_VECTORING_INFO) : 0;
        int type = InterruptionInfo.isValid(event) ? InterruptionInfo.type(event) : InterruptionInfo.EXTERNAL_INTERRUPT;
        boolean fromInstruction = source != TaskSwitch.Source.INTERRUPT || InterruptionInfo.isSoftware(type);
        int errorCode = InterruptionInfo.hasErrorCode(event) ? vmcs.read(IDT_VECTORING_ERROR_CODE) : -1;
        // EXT: an event from outside the program, which INT n, INT3 and INTO are not (SDM 6.13)
        int ext = fromInstruction && type != InterruptionInfo.PRIVILEGED_SOFTWARE_EXCEPTION ? 0 : 1;
        int rip = vmcs.read(GUEST_RIP);
        guest.begin(fromInstruction ? rip + vmcs.read(VM_EXIT_INSTRUCTION_LENGTH) : rip);
        try {
            taskSwitch.perform(selector, source, errorCode, ext);
            performed.increment();
        } catch (GuestFault fault) {
            faulted.increment();
            int vector = fault.vector, error = fault.errorCode;
            if (InterruptionInfo.isValid(event) && type == InterruptionInfo.HARDWARE_EXCEPTION) {
                int delivered = Exceptions.duringDelivery(InterruptionInfo.vector(event), vector);
                if (delivered == Exceptions.TRIPLE_FAULT) {
                    cpu.shutdown("triple fault in the guest: " + Exceptions.name(vector) + " while its #DF"
                            + " switched tasks");
                    return false;
                }
                if (delivered != vector) {
                    vector = Exceptions.DF;
                    error = 0;
                }
            }
            injection.fault(vector, error);
        }
        // the instruction or event is over: no STI or MOV SS shadow outlives it (26.3.1.5)
        int interruptibility = vmcs.read(GUEST_INTERRUPTIBILITY_STATE);
        if ((interruptibility & BLOCKING_BY_STI_OR_MOV_SS) != 0) {
            vmcs.write(GUEST_INTERRUPTIBILITY_STATE, interruptibility & ~BLOCKING_BY_STI_OR_MOV_SS);
        }
        return true;
    }
}

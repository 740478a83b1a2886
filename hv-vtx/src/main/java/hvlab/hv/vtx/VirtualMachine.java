package hvlab.hv.vtx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.cpu.vmx.InterruptionInfo;
import hvlab.spi.DomainConsole;


/**
 * One VM under the hypervisor: its VMCS and the hypervisor's structures for it ({@link VmmLayout}), its RAM ({@link
 * GuestRam}), how its memory is virtualized, its own virtual devices, its counters, and what the processor does not
 * keep in the VMCS while another VM runs: the general registers a VM exit leaves alone (all but ESP), CR2 and the
 * FPU (SDM Vol. 3C 27.3: a VM exit saves and loads neither).
 */
final class VirtualMachine {
    /** 1 for the first VM: the "dN" of its console prefix and counters. */
    final int id;
    final VmmLayout layout;
    final GuestRam ram;
    final MemoryVirtualization memoryMode;
    final DeviceExits devices;
    final TaskSwitchExit taskSwitches;
    final VtxCounters counters;

    /** An event for the next VM entry (an interrupted delivery, a fault for the guest), when its info is valid. */
    int pendingInfo, pendingError, pendingLength;
    /** Whether the VMCS's launch state is "launched" (VMCLEAR makes it "clear", SDM Vol. 3C 24.1). */
    boolean launched;
    /** As its VMCS said when it was switched out: halted (activity state HLT), and with RFLAGS.IF set. */
    boolean halted, interruptible;

    private boolean ended;
    /** What the machine does when this VM is the first one and every VM has ended (its exit value, its shutdown). */
    private Runnable ending;
    private final int[] registers = new int[8];
    private int cr2;
    private CpuState.FpuState fpu;

    /** Its COM1 beside other VMs: whole lines behind "(dN) ". */
    final DomainConsole console;

    VirtualMachine(int id, VmmLayout layout, GuestRam ram, MemoryVirtualization memoryMode, DeviceExits devices,
            DomainConsole console, TaskSwitchExit taskSwitches, VtxCounters counters) {
        this.id = id;
        this.console = console;
        this.layout = layout;
        this.ram = ram;
        this.memoryMode = memoryMode;
        this.devices = devices;
        this.taskSwitches = taskSwitches;
        this.counters = counters;
    }

    int vmcsRegion() {
        return layout.at(VmmLayout.VMCS);
    }

    boolean alive() {
        return !ended;
    }

    /** The VM ends for good; false when it had already. */
    boolean end(Runnable ending) {
        if (ended) {
            return false;
        }
        ended = true;
        this.ending = ending;
        return true;
    }

    /** Performs what this VM's end means for the machine. */
    void performEnding() {
        ending.run();
    }

    /** Whether the VM could run now, were it switched in: not halted, or woken by an event it can take. */
    boolean ready() {
        return !ended && (!halted || InterruptionInfo.isValid(pendingInfo)
                || interruptible && devices.interruptPending());
    }

    /** The state a loader left for this VM, for its first switch in. */
    void startWith(CpuState state) {
        CpuState.GeneralRegisters g = state.general();
        int[] loaded = {g.eax(), g.ecx(), g.edx(), g.ebx(), g.esp(), g.ebp(), g.esi(), g.edi()};
        System.arraycopy(loaded, 0, registers, 0, 8);
        cr2 = state.system().cr2();
        fpu = state.fpu();
    }

    /** The processor's state that is this VM's and not in its VMCS, kept while another VM runs. */
    void saveProcessorState(Cpu cpu) {
        for (int r = 0; r < 8; r++) {
            registers[r] = cpu.register(r);
        }
        cr2 = cpu.cr(2);
        fpu = cpu.saveFpu();
    }

    void restoreProcessorState(Cpu cpu) {
        for (int r = 0; r < 8; r++) {
            if (r != Cpu.ESP) {
                cpu.setRegister(r, registers[r]);
            }
        }
        cpu.writeControlRegister(2, cr2);
        cpu.restoreFpu(fpu);
    }
}

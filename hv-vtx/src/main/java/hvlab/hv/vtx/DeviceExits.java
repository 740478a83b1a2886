package hvlab.hv.vtx;

import hvlab.hv.vtx.devices.DeviceMove;
import hvlab.hv.vtx.devices.HostDevices;
import hvlab.hv.vtx.devices.VirtualDevices;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.memory.PhysicalMemory;

import static hvlab.hw.cpu.vmx.VmcsField.*;

/**
 * The exits that reach the VM's devices: port I/O (exit 30), accesses to the APIC pages (an EPT violation, or a #PF
 * under shadow paging: neither page is mapped for the guest; under EPT the local APIC's page is the APIC-access page,
 * whose accesses but the TPR's exit as APIC accesses, exit 44), RDMSR and WRMSR of IA32_APIC_BASE, and the
 * machine's own interrupts (exit 1), which belong to the hypervisor. Under EPT the guest's TPR lives on the
 * virtual-APIC page (SDM Vol. 3C 29.1): it is taken into the virtual local APIC after each exit, and the TPR
 * threshold makes the guest exit when it lowers its TPR under an interrupt it masked (exit 43). The guest's I/O goes to {@link VirtualDevices}
 * only; nothing it does reaches a device of the machine.
 */
final class DeviceExits {
    static final int IA32_APIC_BASE = 0x1B;
    private static final long APIC_BASE_WRITABLE = LocalApic.MSR_BASE_MASK | LocalApic.MSR_GLOBAL_ENABLE;
    private static final int MAX_INSTRUCTION = 15;
    private static final int CS = 1, SS = 2, CS_DEFAULT_32 = 1 << 14;

    private final Cpu cpu;
    private final CurrentVmcs vmcs;
    private final PhysicalMemory memory;
    private final MemoryVirtualization memoryMode;
    private final GuestPageWalk walk;
    private final VirtualDevices devices;
    private final HostDevices host;
    private final int[] registers = new int[8];
    /** The virtual-APIC page holding the guest's TPR when its memory mode virtualizes APIC accesses, else -1. */
    private int virtualApicPage = -1;
    private int tprThreshold;
    private final byte[] code = new byte[MAX_INSTRUCTION];

    DeviceExits(Cpu cpu, CurrentVmcs vmcs, PhysicalMemory memory, MemoryVirtualization memoryMode,
            GuestPageWalk walk, VirtualDevices devices, HostDevices host) {
        this.cpu = cpu;
        this.vmcs = vmcs;
        this.memory = memory;
        this.memoryMode = memoryMode;
        this.walk = walk;
        this.devices = devices;
        this.host = host;
    }

    // ---- exits

    /** IN or OUT (qualification: Table 27-5) on the virtual devices, after the instruction retires. */
    void io() {
        int qualification = vmcs.read(EXIT_QUALIFICATION);
        int size = (qualification & 7) + 1, port = qualification >>> 16;
        boolean in = (qualification & 8) != 0;
        if ((qualification & 16) != 0) {
            throw new UnsupportedGuestOperation("string I/O (INS/OUTS) on port 0x" + Integer.toHexString(port));
        }
        vmcs.advanceGuestRip(vmcs.read(VM_EXIT_INSTRUCTION_LENGTH));
        devices.advanceTo(cpu.nanos());
        int eax = cpu.register(Cpu.EAX);
        if (in) {
            int mask = size == 4 ? -1 : (1 << size * 8) - 1;
            cpu.setRegister(Cpu.EAX, eax & ~mask | devices.in(port, size) & mask);
        } else {
            devices.out(port, size, eax);
        }
    }

    /**
     * The guest's access to a device page at guest-physical {@code address}, emulated: the MOV at the guest's RIP is
     * decoded and performed on the virtual device, and RIP moves past it.
     */
    void deviceMemory(int address, boolean write) {
        int length = fetchInstruction();
        boolean code32 = (vmcs.read(guestAccessRights(CS)) & CS_DEFAULT_32) != 0;
        DeviceMove move = length < 0 ? null : DeviceMove.decode(code, code32);
        if (move == null || move.write() != write) {
            throw new UnsupportedGuestOperation("an instruction the hypervisor does not emulate "
                    + (write ? "writes" : "reads") + " device memory at 0x" + Integer.toHexString(address));
        }
        devices.advanceTo(cpu.nanos());
        for (int r = 0; r < 8; r++) {
            registers[r] = r == Cpu.ESP ? vmcs.read(GUEST_RSP) : cpu.register(r);
        }
        if (write) {
            devices.write(address, move.size(), move.storedValue(registers));
        } else {
            move.load(registers, devices.read(address, move.size()));
            int r = move.register() & (move.registerSize() == 1 ? 3 : 7);
            if (r == Cpu.ESP) {
                vmcs.write(GUEST_RSP, registers[r] & 0xFFFFFFFFL);
            } else {
                cpu.setRegister(r, registers[r]);
            }
        }
        vmcs.advanceGuestRip(move.length());
    }

    /** An APIC-access exit (44): the access's page offset and type are in the qualification (27.2.1, Table 27-6). */
    void apicAccess() {
        int qualification = vmcs.read(EXIT_QUALIFICATION);
        int type = qualification >>> 12 & 0xF;
        if (type > LINEAR_WRITE) {
            throw new UnsupportedGuestOperation("the guest " + (type == LINEAR_FETCH ? "executes from" : "reaches")
                    + " its local APIC page (APIC-access type " + type + ")");
        }
        deviceMemory((int) LocalApic.DEFAULT_BASE + (qualification & 0xFFF), type == LINEAR_WRITE);
    }

    private static final int LINEAR_WRITE = 1, LINEAR_FETCH = 2;

    /** Reads up to 15 bytes at CS:EIP through the guest's paging; the count read, or -1 if none is in its RAM. */
    private int fetchInstruction() {
        int linear = vmcs.read(GUEST_CS_BASE) + vmcs.read(GUEST_RIP);
        boolean user = (vmcs.read(guestAccessRights(SS)) >>> 5 & 3) == 3;
        int cr0 = memoryMode.guestCr0(vmcs.read(GUEST_CR0)), cr3 = memoryMode.guestCr3(vmcs.read(GUEST_CR3));
        int cr4 = memoryMode.guestCr4(vmcs.read(GUEST_CR4));
        int count = 0;
        while (count < MAX_INSTRUCTION) {
            int at = linear + count;
            long t = walk.translate(at, false, user, cr0, cr3, cr4);
            int physical = (int) t & ~0xFFF | at & 0xFFF;
            if (t < 0 || !walk.isGuestRam(physical)) {
                break;
            }
            code[count++] = (byte) memory.readU8(walk.machineAddress(physical));
        }
        for (int i = count; i < MAX_INSTRUCTION; i++) {
            code[i] = 0;
        }
        return count == 0 ? -1 : count;
    }

    /**
     * RDMSR or WRMSR that exited: IA32_APIC_BASE is the virtual local APIC's (reserved bits #GP, SDM Vol. 3A 11.4.4);
     * any other MSR the bitmap denies does not exist on the guest's processor. Returns false for #GP(0).
     */
    boolean msr(boolean write) {
        if (cpu.register(Cpu.ECX) != IA32_APIC_BASE) {
            return false;
        }
        LocalApic apic = devices.localApic();
        if (write) {
            long value = (long) cpu.register(Cpu.EDX) << 32 | cpu.register(Cpu.EAX) & 0xFFFFFFFFL;
            if ((value & ~(APIC_BASE_WRITABLE | LocalApic.MSR_BSP)) != 0) {
                return false;
            }
            apic.setApicBaseMsr(value & APIC_BASE_WRITABLE | apic.apicBaseMsr() & LocalApic.MSR_BSP);
        } else {
            cpu.setRegister(Cpu.EAX, (int) apic.apicBaseMsr());
            cpu.setRegister(Cpu.EDX, (int) (apic.apicBaseMsr() >>> 32));
        }
        vmcs.advanceGuestRip(vmcs.read(VM_EXIT_INSTRUCTION_LENGTH));
        return true;
    }

    /** An interrupt of the machine's, acknowledged on exit: the hypervisor's own business. */
    void externalInterrupt(int vector) {
        host.interrupted(vector);
    }

    // ---- APIC virtualization (chapter 29)

    /**
     * For the current VMCS, when the memory mode maps the APIC-access page: the APIC-virtualization fields, VTPR on
     * {@code page} starting as the virtual local APIC's TPR.
     */
    void startApicVirtualization(int page) {
        int apicAccessPage = memoryMode.apicAccessPage();
        if (apicAccessPage < 0) {
            return;
        }
        virtualApicPage = page;
        for (int offset = 0; offset < 0x1000; offset += 4) {
            memory.writeU32(page + offset, 0);
        }
        memory.writeU32(page + LocalApic.TPR, devices.localApic().taskPriority());
        vmcs.write(APIC_ACCESS_ADDRESS, apicAccessPage);
        vmcs.write(VIRTUAL_APIC_ADDRESS, page);
        vmcs.write(TPR_THRESHOLD, 0);
        tprThreshold = 0;
    }

    /** After each VM exit: what the guest wrote to its TPR without an exit reaches the virtual local APIC. */
    void takeTaskPriority() {
        if (virtualApicPage >= 0) {
            devices.localApic().setTaskPriority(memory.readU8(virtualApicPage + LocalApic.TPR));
        }
    }

    /**
     * Before each VM entry: the threshold is the priority class of the highest interrupt the guest's TPR holds back,
     * so lowering the TPR under it exits and the interrupt is injected; 0 (no exit) when the TPR holds none back.
     */
    void setTprThreshold() {
        if (virtualApicPage < 0) {
            return;
        }
        LocalApic apic = devices.localApic();
        int request = Math.max(apic.highestRequest(), 0) >>> 4;
        int threshold = request > 0 && apic.taskPriority() >>> 4 >= request ? request : 0;
        if (threshold != tprThreshold) {
            vmcs.write(TPR_THRESHOLD, threshold);
            tprThreshold = threshold;
        }
    }

    // ---- before each VM entry

    /** Brings the virtual devices up to now, raising what came due. */
    void advance() {
        devices.advanceTo(cpu.nanos());
    }

    /** The VM's virtual devices. */
    VirtualDevices virtualDevices() {
        return devices;
    }

    /** Whether the virtual local APIC has an interrupt for the guest's processor now. */
    boolean interruptPending() {
        return devices.interruptPending();
    }

    /** The INTA cycle on the virtual local APIC: the vector to inject. */
    int acknowledge() {
        return devices.acknowledge();
    }
}

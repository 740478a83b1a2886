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
 * under shadow paging: neither page is ever mapped for the guest), RDMSR and WRMSR of IA32_APIC_BASE, and the
 * machine's own interrupts (exit 1), which belong to the hypervisor. The guest's I/O goes to {@link VirtualDevices}
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

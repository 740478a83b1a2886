package hvlab.hv.vtx;

import hvlab.hv.vtx.devices.HostDevices;
import hvlab.hv.vtx.devices.VirtualDevices;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.cpu.HypervisorEntry;
import hvlab.hw.cpu.Vmx;
import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.cpu.vmx.InterruptionInfo;
import hvlab.hw.cpu.vmx.VmcsField;
import hvlab.hw.cpu.vmx.VmxCapabilities;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.spi.DomainConsole;
import hvlab.spi.GuestImage;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;
import hvlab.spi.VirtualizationLimit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntConsumer;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;

/**
 * The VT-x hypervisor: VMX-root software in Java. It boots the guest kernel as a Multiboot loader would, captures
 * that state into the guest-state area of its VMCS, and VMLAUNCHes it; every VM exit lands at the host-state RIP in
 * its entry page, where {@link #enter} handles the exit and VMRESUMEs.
 *
 * <p>What exits and why: port I/O (unconditional I/O exiting) and the APIC pages, emulated on the VM's own virtual
 * devices ({@link DeviceExits}); the machine's interrupts (external-interrupt exiting, acknowledged on exit), which
 * are the hypervisor's own; HLT; CPUID (VMX is hidden from the guest); the VMX instructions (#UD, as on the guest's
 * processor without VMX); the VMX MSRs through the MSR bitmap (#GP) and IA32_APIC_BASE (the virtual APIC's); triple
 * faults and task switches; plus what the memory mode asks for (shadow paging: CR3 loads and stores, INVLPG, #PF;
 * EPT: violations in the hypervisor's RAM and the APIC pages, and CR0.NE or CR4.VMXE writes). The virtual devices'
 * interrupts are injected on VM entry when the guest's RFLAGS.IF and interruptibility allow (SDM Vol. 3C 26.6),
 * with interrupt-window exiting otherwise (25.2).
 *
 * <p>Several VMs ({@link #boot(List)}): each has its own VMCS, RAM, memory virtualization and virtual devices
 * ({@link VirtualMachine}); the hypervisor switches VMCSs with VMCLEAR and VMPTRLD and time-slices the VMs round robin
 * on its own timer ({@link #SLICE_NANOS} of virtual time); a VM that halts with nothing pending yields. Each VM's
 * console lines go out behind "(dN) " and its debug exit or triple fault ends it alone; when every VM has ended the
 * machine ends as the first one did.
 */
final class VtxHypervisor implements Hypervisor, HypervisorEntry {
    private static final int ACTIVE = 0, HLT = 1;
    private static final int BLOCKING_BY_STI_OR_MOV_SS = CurrentVmcs.BLOCKING_BY_STI_OR_MOV_SS;
    private static final int CPUID_VMX = 1 << 5;
    private static final int P = 1, RW = 2, PS = 0x80;
    private static final int ROOT_CR0 = VmxCapabilities.CR0_FIXED0 | Cpu.CR0_ET | Cpu.CR0_WP;
    private static final int ROOT_CR4 = Cpu.CR4_PSE | VmxCapabilities.CR4_FIXED0;

    /** A VM's time slice beside others, in virtual time. */
    static final long SLICE_NANOS = 10_000_000;
    /** At most this many VMs: each takes 4 MiB of hypervisor memory and at least {@link #MINIMUM_VM_RAM}. */
    static final int MAXIMUM_VMS = 16;
    /** The RAM a VM gets at least: the lab kernel wants 8 MiB. */
    static final int MINIMUM_VM_RAM = 8 << 20;
    private static final int VM_RAM_ALIGNMENT = 4 << 20;

    private final Machine machine;
    private final HostContext context;
    private final MemoryMode mode;
    private final Cpu cpu;
    private final Vmx vmx;
    private final PhysicalMemory memory;
    /** The first VM's region, which also holds the host's structures. */
    private final VmmLayout layout;
    private final CurrentVmcs vmcs;
    private final HostDevices host;
    private final List<VirtualMachine> vms = new ArrayList<>();
    /** The VM whose VMCS is current. */
    private VirtualMachine vm;
    private long sliceEnd;
    /** VMs that have not ended. */
    private int aliveVms;
    private int pinControls, processorControls;
    private VirtualizationLimit limitReached;

    VtxHypervisor(HostContext context, MemoryMode mode) {
        this.machine = context.machine();
        this.context = context;
        this.mode = mode;
        this.cpu = context.cpu();
        this.vmx = cpu.vmx();
        this.memory = context.memory();
        this.layout = VmmLayout.atTopOf(memory.ramSize());
        this.vmcs = new CurrentVmcs(vmx);
        this.host = new HostDevices(cpu, context.counters());
        cpu.setVmxSupported(true);
    }

    /** VM {@code index} of {@code count}, with its RAM at {@code ram}. */
    private VirtualMachine createVm(int index, int count, GuestRam ram) {
        int id = index + 1;
        VmmLayout region = VmmLayout.forVm(memory.ramSize(), index);
        MemoryVirtualization memoryMode = switch (mode) {
            case SHADOW -> new ShadowPaging(memory, cpu, vmcs, region, ram, context.counters());
            case EPT -> new ExtendedPageTables(memory, vmcs, region, ram, id, context.counters());
        };
        VirtualMachine[] self = new VirtualMachine[1];
        DomainConsole console = new DomainConsole(id, host::transmit);
        IntConsumer transmit = count == 1 ? host::transmit : console::write;
        IntConsumer debugExit = count == 1 ? host::debugExit
                : value -> end(self[0], "exit value 0x" + Integer.toHexString(value), () -> host.debugExit(value));
        Runnable softOff = count == 1 ? host::powerOff : () -> end(self[0], "ACPI soft off (S5)", host::powerOff);
        VirtualDevices virtualDevices = new VirtualDevices(context.clock(), ram.size(), transmit, debugExit, softOff,
                context.counters());
        DeviceExits devices = new DeviceExits(cpu, vmcs, memory, memoryMode, new GuestPageWalk(memory, cpu, ram),
                virtualDevices, host);
        self[0] = new VirtualMachine(id, region, ram, memoryMode, devices, console,
                new TaskSwitchExit(cpu, memory, vmcs, memoryMode, ram, context.counters()),
                new VtxCounters(context.counters(), count == 1 ? null : VtxCounters.vmFamily(id)));
        return self[0];
    }

    // =====================================================================================================
    // Boot: the loader's state becomes the guest-state area
    // =====================================================================================================

    @Override
    public void boot(GuestImage image) throws BootImageException {
        boot(List.of(image));
    }

    /**
     * One VM per image, d1 first. Alone, a VM has all RAM below the hypervisor's 4 MiB; beside others each has an
     * equal share of what the hypervisor's 4 MiB per VM leave (whole 4 MiB), d1's at machine address 0, d2's after
     * it, and so on. Each image is loaded as a Multiboot loader would into RAM as it was before any, then moved into
     * its VM's range; the loader's state becomes that VM's guest-state area.
     */
    @Override
    public void boot(List<GuestImage> images) throws BootImageException {
        int count = images.size();
        if (count < 1 || count > MAXIMUM_VMS) {
            throw new BootImageException("vtx runs 1 to " + MAXIMUM_VMS + " VMs, not " + count);
        }
        for (GuestImage image : images) {
            if (image instanceof GuestImage.Firmware) {
                throw new BootImageException("vtx boots Multiboot and Linux kernels; " + image.name() + " starts in"
                        + " real mode at the reset vector, which this hypervisor does not run");
            }
        }
        int ramSize = memory.ramSize();
        long available = (long) ramSize - (long) count * VmmLayout.SIZE;
        int share = count == 1 ? (int) available : (int) (available / count) & -VM_RAM_ALIGNMENT;
        if (available < MINIMUM_VM_RAM || share < MINIMUM_VM_RAM) {
            throw new BootImageException(count + " VMs need " + (((long) MINIMUM_VM_RAM + VmmLayout.SIZE) * count >> 20)
                    + " MiB of RAM (" + (MINIMUM_VM_RAM >> 20) + " MiB each and 4 MiB each for the hypervisor); this"
                    + " machine has " + (ramSize >> 20) + " MiB: give it more --memory");
        }
        for (int k = 0; k < count; k++) {
            vms.add(createVm(k, count, new GuestRam(k * share, share, ramSize)));
        }
        aliveVms = count;
        CpuState[] guests = new CpuState[count];
        byte[] pristine = count == 1 ? null : java.util.Arrays.copyOf(memory.ram(), share);
        for (int k = count - 1; k >= 0; k--) { // d1 last: its RAM is where the loader writes
            if (pristine != null) {
                System.arraycopy(pristine, 0, memory.ram(), 0, share);
            }
            machine.boot(images.get(k), share); // told of its share only, never of others' RAM or ours
            guests[k] = cpu.captureState();
            if (k > 0) {
                System.arraycopy(memory.ram(), 0, memory.ram(), vms.get(k).ram.base(), share);
            }
        }
        buildHost();
        memory.writeU32(layout.at(VmmLayout.VMXON_REGION), VmxCapabilities.REVISION_ID);
        require(vmx.vmxon(layout.at(VmmLayout.VMXON_REGION)), "VMXON");
        for (int k = count - 1; k >= 0; k--) {
            VirtualMachine next = vms.get(k);
            memory.writeU32(next.vmcsRegion(), VmxCapabilities.REVISION_ID);
            require(vmx.vmclear(next.vmcsRegion()), "VMCLEAR");
            require(vmx.vmptrld(next.vmcsRegion()), "VMPTRLD");
            vm = next;
            writeControls();
            writeHostState();
            writeGuestState(guests[k]);
            next.devices.startApicVirtualization(next.layout.at(VmmLayout.VIRTUAL_APIC_PAGE));
            if (k > 0) {
                next.startWith(guests[k]);
                require(vmx.vmclear(next.vmcsRegion()), "VMCLEAR");
            }
        }
        cpu.setHypervisorEntryPage(layout.at(VmmLayout.ENTRY_PAGE), this);
        host.takeOver();
        sliceEnd = cpu.nanos() + SLICE_NANOS;
        vm.counters.slice();
        beforeEntry();
        vm.launched = true;
        int status = vmx.vmlaunch();
        if (status != Vmx.SUCCEED) {
            throw new IllegalStateException("VMLAUNCH failed: " + describe(status));
        }
    }

    /**
     * The hypervisor's ring-0 world in its own memory: a page directory mapping all physical space one to one with
     * 4 MiB pages, a GDT (flat code and data, a TSS), and an IDT whose every gate leads into the entry page, so an
     * exception in root operation reaches {@link #enter} rather than the guest's handlers.
     */
    private void buildHost() {
        int directory = layout.at(VmmLayout.HOST_PAGE_DIRECTORY);
        for (int slot = 0; slot < 1024; slot++) {
            memory.writeU32(directory + slot * 4, slot << 22 | P | RW | PS);
        }
        int gdt = layout.at(VmmLayout.HOST_GDT), tss = layout.at(VmmLayout.HOST_TSS);
        descriptor(gdt, 0, 0);
        descriptor(gdt + VmmLayout.HOST_CODE, 0x00CF9B00, 0x0000FFFF);
        descriptor(gdt + VmmLayout.HOST_DATA, 0x00CF9300, 0x0000FFFF);
        descriptor(gdt + VmmLayout.HOST_TSS_SELECTOR, (tss & 0xFF000000) | 0x8900 | (tss >>> 16 & 0xFF),
                tss << 16 | 0x67);
        memory.writeU32(tss + 4, layout.at(VmmLayout.STACK_TOP));
        memory.writeU32(tss + 8, VmmLayout.HOST_DATA);
        int idt = layout.at(VmmLayout.HOST_IDT), entry = layout.at(VmmLayout.ENTRY_PAGE);
        for (int vector = 0; vector < 256; vector++) {
            int handler = entry + VmmLayout.hostVectorOffset(vector);
            descriptor(idt + vector * 8, (handler & 0xFFFF0000) | 0x8E00, VmmLayout.HOST_CODE << 16 | handler & 0xFFFF);
        }
        cpu.writeMsr(VmxCapabilities.IA32_FEATURE_CONTROL,
                VmxCapabilities.FEATURE_CONTROL_LOCK | VmxCapabilities.FEATURE_CONTROL_VMX_OUTSIDE_SMX);
        cpu.loadGdtr(gdt, 4 * 8 - 1);
        cpu.loadIdtr(idt, 256 * 8 - 1);
        cpu.loadTaskRegister(VmmLayout.HOST_TSS_SELECTOR);
        cpu.writeControlRegister(3, directory);
        cpu.writeControlRegister(4, ROOT_CR4);
        cpu.writeControlRegister(0, ROOT_CR0);
    }

    private void descriptor(int address, int hi, int lo) {
        memory.writeU32(address, lo);
        memory.writeU32(address + 4, hi);
    }

    private static void require(int status, String instruction) {
        if (status != Vmx.SUCCEED) {
            throw new IllegalStateException(instruction + " failed: " + describe(status));
        }
    }

    private static String describe(int status) {
        return status == Vmx.FAIL_INVALID ? "VMfailInvalid" : "VM-instruction error " + status;
    }

    private void writeControls() {
        pinControls = VmxCapabilities.PIN_MUST_BE_1 | PIN_EXTERNAL_INTERRUPT_EXITING;
        processorControls = VmxCapabilities.PROC_MUST_BE_1 | PROC_HLT_EXITING | PROC_UNCONDITIONAL_IO_EXITING
                | PROC_MSR_BITMAPS | vm.memoryMode.processorControls();
        vmcs.write(PIN_BASED_CONTROLS, pinControls);
        vmcs.write(PRIMARY_PROCESSOR_CONTROLS, processorControls);
        if ((processorControls & PROC_SECONDARY_CONTROLS) != 0) {
            vmcs.write(SECONDARY_PROCESSOR_CONTROLS, vm.memoryMode.secondaryControls());
        }
        vmcs.write(VM_EXIT_CONTROLS, VmxCapabilities.EXIT_MUST_BE_1 | EXIT_ACKNOWLEDGE_INTERRUPT);
        vmcs.write(VM_ENTRY_CONTROLS, VmxCapabilities.ENTRY_MUST_BE_1);
        vmcs.write(EXCEPTION_BITMAP, vm.memoryMode.exceptionBitmap());
        vmcs.write(PAGE_FAULT_ERROR_CODE_MASK, 0);
        vmcs.write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
        int bitmap = vm.layout.at(VmmLayout.MSR_BITMAP);
        for (int msr : new int[] {VmxCapabilities.IA32_FEATURE_CONTROL, DeviceExits.IA32_APIC_BASE}) {
            denyMsr(bitmap, msr);
        }
        for (int msr = VmxCapabilities.IA32_VMX_BASIC; msr <= VmxCapabilities.IA32_VMX_VMFUNC; msr++) {
            denyMsr(bitmap, msr);
        }
        vmcs.write(MSR_BITMAP, bitmap);
        vmcs.write(VMCS_LINK_POINTER, -1L);
    }

    /** RDMSR and WRMSR of a low MSR exit (24.6.9: read bitmap at 0, write bitmap at 800H). */
    private void denyMsr(int bitmap, int msr) {
        for (int half : new int[] {0, 0x800}) {
            int address = bitmap + half + (msr >>> 3);
            memory.writeU8(address, memory.readU8(address) | 1 << (msr & 7));
        }
    }

    private void writeHostState() {
        vmcs.write(HOST_CR0, ROOT_CR0);
        vmcs.write(HOST_CR3, layout.at(VmmLayout.HOST_PAGE_DIRECTORY));
        vmcs.write(HOST_CR4, ROOT_CR4);
        vmcs.write(HOST_CS_SELECTOR, VmmLayout.HOST_CODE);
        for (int field : new int[] {HOST_ES_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR, HOST_FS_SELECTOR,
            HOST_GS_SELECTOR}) {
            vmcs.write(field, VmmLayout.HOST_DATA);
        }
        vmcs.write(HOST_TR_SELECTOR, VmmLayout.HOST_TSS_SELECTOR);
        vmcs.write(HOST_TR_BASE, layout.at(VmmLayout.HOST_TSS));
        vmcs.write(HOST_GDTR_BASE, layout.at(VmmLayout.HOST_GDT));
        vmcs.write(HOST_IDTR_BASE, layout.at(VmmLayout.HOST_IDT));
        vmcs.write(HOST_RSP, layout.at(VmmLayout.STACK_TOP));
        vmcs.write(HOST_RIP, layout.at(VmmLayout.ENTRY_PAGE) + VmmLayout.EXIT_OFFSET);
    }

    /** The state the Multiboot loader left, as guest state (24.4); CR0, CR3 and CR4 go through the memory mode. */
    private void writeGuestState(CpuState state) {
        for (int s = Cpu.ES; s <= Cpu.GS; s++) {
            writeGuestSegment(s, state.segments().get(s));
        }
        CpuState.SystemRegisters system = state.system();
        writeGuestSegment(6, system.ldt());
        writeGuestSegment(7, system.tr());
        vmcs.write(GUEST_GDTR_BASE, system.gdt().base());
        vmcs.write(GUEST_GDTR_LIMIT, system.gdt().limit());
        vmcs.write(GUEST_IDTR_BASE, system.idt().base());
        vmcs.write(GUEST_IDTR_LIMIT, system.idt().limit());
        vmcs.write(GUEST_DR7, 0x400);
        vmcs.write(GUEST_RSP, state.general().esp());
        vmcs.write(GUEST_RIP, state.general().eip());
        vmcs.write(GUEST_RFLAGS, state.general().eflags());
        vmcs.write(GUEST_ACTIVITY_STATE, ACTIVE);
        vmcs.write(GUEST_INTERRUPTIBILITY_STATE, 0);
        vm.memoryMode.start(system.cr0(), system.cr3(), system.cr4());
    }

    /** A segment register in the VMCS's order ES..GS, LDTR, TR; a register with no descriptor loaded is unusable. */
    private void writeGuestSegment(int register, CpuState.SegmentRegister segment) {
        vmcs.write(VmcsField.guestSelector(register), segment.selector());
        vmcs.write(VmcsField.guestBase(register), segment.base() & 0xFFFFFFFFL);
        vmcs.write(VmcsField.guestLimit(register), segment.limit() & 0xFFFFFFFFL);
        vmcs.write(VmcsField.guestAccessRights(register),
                segment.attributes() == 0 ? UNUSABLE : segment.attributes() & 0xF0FF);
    }

    private static final int UNUSABLE = 0x10000;
    /** EPT-violation qualification: the access was a write, an instruction fetch (Table 27-7). */
    private static final int EPT_WRITE = 2, EPT_FETCH = 4;

    @Override
    public RunOutcome run(long maxInstructions) {
        return machine.run(maxInstructions);
    }

    // =====================================================================================================
    // VM exits (SDM Vol. 3C chapter 27; handling as in ../shared/reference/vtx-ept.md)
    // =====================================================================================================

    @Override
    public void enter(Cpu cpu, int offset) {
        if (offset != VmmLayout.EXIT_OFFSET) {
            cpu.shutdown("vtx: the hypervisor took vector " + VmmLayout.hostVector(offset) + " in VMX root operation");
            return;
        }
        boolean runOn;
        try {
            int reason = vmcs.read(EXIT_REASON);
            vm.counters.exit(reason);
            if ((reason & ExitReason.ENTRY_FAILURE) != 0) {
                stop("VM entry failed: " + ExitReason.name(reason) + ", qualification "
                        + vmcs.read(EXIT_QUALIFICATION));
                runOn = false;
            } else {
                vm.devices.takeTaskPriority();
                keepInterruptedDelivery();
                runOn = handle(reason & 0xFFFF);
            }
        } catch (UnsupportedGuestOperation unsupported) {
            if (limitReached == null) {
                limitReached = unsupported.limit;
            }
            stop(unsupported.getMessage());
            runOn = false;
        }
        if (vms.size() == 1 ? runOn : aliveVms > 0) {
            resume();
        } else if (vms.size() > 1) {
            vms.getFirst().performEnding(); // the machine ends as d1 did
        }
    }

    /** Handles one exit; false when the guest must not run on. */
    private boolean handle(int reason) {
        switch (reason) {
            case ExitReason.EXCEPTION_OR_NMI -> exception();
            case ExitReason.EXTERNAL_INTERRUPT -> vm.devices.externalInterrupt(
                    InterruptionInfo.vector(vmcs.read(VM_EXIT_INTERRUPTION_INFO)));
            case ExitReason.INTERRUPT_WINDOW -> { } // resume() injects what the virtual devices raised
            case ExitReason.TRIPLE_FAULT -> {
                if (vms.size() == 1) {
                    cpu.shutdown("triple fault in the guest");
                } else {
                    end(vm, "triple fault", () -> cpu.shutdown("triple fault in the guest"));
                }
                return false;
            }
            case ExitReason.TASK_SWITCH -> {
                vm.pendingInfo = 0; // an event that reached a task gate is delivered by the switch, not again
                return vm.taskSwitches.emulate(this::fault);
            }
            case ExitReason.CPUID -> cpuid();
            case ExitReason.HLT -> {
                skipInstruction();
                vmcs.write(GUEST_ACTIVITY_STATE, HLT);
            }
            case ExitReason.INVD -> skipInstruction();
            case ExitReason.INVLPG -> {
                vm.memoryMode.invalidatePage(vmcs.read(EXIT_QUALIFICATION));
                skipInstruction();
            }
            case ExitReason.CONTROL_REGISTER_ACCESS -> controlRegisterAccess();
            case ExitReason.IO_INSTRUCTION -> vm.devices.io();
            case ExitReason.EPT_VIOLATION -> {
                int gpa = vmcs.read(GUEST_PHYSICAL_ADDRESS), qualification = vmcs.read(EXIT_QUALIFICATION);
                if (VirtualDevices.isDevicePage(gpa) && (qualification & EPT_FETCH) == 0) {
                    vm.devices.deviceMemory(gpa, (qualification & EPT_WRITE) != 0);
                } else if (!vm.memoryMode.eptViolation(gpa, qualification & 0xFFFFFFFFL)) {
                    stop("an EPT violation at guest-physical 0x" + Integer.toHexString(gpa) + ", which is mapped");
                    return false;
                }
            }
            case ExitReason.APIC_ACCESS -> vm.devices.apicAccess();
            case ExitReason.TPR_BELOW_THRESHOLD -> { } // trap-like; resume() injects what the lower TPR lets through
            case ExitReason.EPT_MISCONFIGURATION -> {
                stop("an EPT misconfiguration at guest-physical 0x"
                        + Integer.toHexString(vmcs.read(GUEST_PHYSICAL_ADDRESS)));
                return false;
            }
            case ExitReason.RDMSR, ExitReason.WRMSR -> {
                if (!vm.devices.msr(reason == ExitReason.WRMSR)) {
                    fault(13, 0); // the guest's processor has no VMX MSRs
                }
            }
            case ExitReason.GETSEC, ExitReason.VMCALL, ExitReason.VMCLEAR, ExitReason.VMLAUNCH,
                 ExitReason.VMPTRLD, ExitReason.VMPTRST, ExitReason.VMREAD, ExitReason.VMRESUME,
                 ExitReason.VMWRITE, ExitReason.VMXOFF, ExitReason.VMXON, ExitReason.INVEPT, ExitReason.INVVPID,
                 ExitReason.VMFUNC, ExitReason.XSETBV -> fault(6, -1); // not offered to the guest: #UD
            default -> throw new UnsupportedGuestOperation("VM exit '" + ExitReason.name(reason) + "'");
        }
        return true;
    }

    /** An event whose delivery the exit interrupted is delivered again on the next entry (SDM Vol. 3C 27.2.4). */
    private void keepInterruptedDelivery() {
        int info = vmcs.read(IDT_VECTORING_INFO);
        if (!InterruptionInfo.isValid(info)) {
            return;
        }
        vm.pendingInfo = info & ~InterruptionInfo.NMI_UNBLOCKING;
        vm.pendingError = vmcs.read(IDT_VECTORING_ERROR_CODE);
        vm.pendingLength = InterruptionInfo.isSoftware(InterruptionInfo.type(info))
                ? vmcs.read(VM_EXIT_INSTRUCTION_LENGTH) : 0;
    }

    private void exception() {
        int info = vmcs.read(VM_EXIT_INTERRUPTION_INFO);
        int vector = InterruptionInfo.vector(info);
        if (vector != 14) {
            throw new UnsupportedGuestOperation("an exit for exception " + vector);
        }
        int linear = vmcs.read(EXIT_QUALIFICATION);
        int error = vm.memoryMode.pageFault(linear, vmcs.read(VM_EXIT_INTERRUPTION_ERROR_CODE));
        if (error == MemoryVirtualization.RESOLVED) {
            return; // a hidden fault: the interrupted delivery, if any, is retried
        }
        if (error == MemoryVirtualization.DEVICE_ACCESS) {
            if (InterruptionInfo.isValid(vm.pendingInfo)) {
                throw new UnsupportedGuestOperation("an event delivery touches an APIC page");
            }
            vm.devices.deviceMemory(vm.memoryMode.deviceAddress(),
                    (vmcs.read(VM_EXIT_INTERRUPTION_ERROR_CODE) & GuestPageWalk.PF_WRITE) != 0);
            return;
        }
        int pending = vm.pendingInfo;
        boolean duringPageFault = InterruptionInfo.isValid(pending) && InterruptionInfo.vector(pending) == 14
                && InterruptionInfo.type(pending) == InterruptionInfo.HARDWARE_EXCEPTION;
        if (duringPageFault) {
            fault(8, 0); // a #PF while delivering a #PF is a double fault (SDM Vol. 3A Table 6-5)
            return;
        }
        cpu.writeControlRegister(2, linear);
        fault(14, error);
    }

    /** The next entry delivers a hardware exception ({@code errorCode} -1: none). */
    private void fault(int vector, int errorCode) {
        vm.pendingInfo = InterruptionInfo.of(vector, InterruptionInfo.HARDWARE_EXCEPTION, errorCode >= 0);
        vm.pendingError = Math.max(errorCode, 0);
        vm.pendingLength = 0;
        vm.counters.injected(vector);
    }

    private void cpuid() {
        int[] result = cpu.cpuid(cpu.register(Cpu.EAX));
        if (cpu.register(Cpu.EAX) == 1) {
            result[2] &= ~CPUID_VMX;
        }
        cpu.setRegister(Cpu.EAX, result[0]);
        cpu.setRegister(Cpu.EBX, result[1]);
        cpu.setRegister(Cpu.ECX, result[2]);
        cpu.setRegister(Cpu.EDX, result[3]);
        skipInstruction();
    }

    /** MOV to or from CR0/CR3/CR4, CLTS, LMSW that exited (qualification: Table 27-3). */
    private void controlRegisterAccess() {
        int qualification = vmcs.read(EXIT_QUALIFICATION);
        int cr = qualification & 15, type = qualification >>> 4 & 3, register = qualification >>> 8 & 15;
        switch (type) {
            case 0 -> {
                int value = guestRegister(register) | (cr == 0 ? Cpu.CR0_ET : 0);
                if (!ControlRegisterShadows.isValid(cr, value)) {
                    fault(13, 0);
                    return;
                }
                vm.memoryMode.writeControlRegister(cr, value);
            }
            case 1 -> setGuestRegister(register, vm.memoryMode.guestCr3(vmcs.read(GUEST_CR3)));
            case 3 -> { // LMSW: loads MP, EM, TS and sets PE, never clears it
                int cr0 = vm.memoryMode.guestCr0(vmcs.read(GUEST_CR0));
                int msw = qualification >>> 16;
                vm.memoryMode.writeControlRegister(0, cr0 & ~0xE | msw & 0xF | cr0 & 1); // always valid
            }
            default -> throw new UnsupportedGuestOperation("CLTS exited (TS is not in the CR0 mask)");
        }
        skipInstruction();
    }

    private int guestRegister(int register) {
        return register == Cpu.ESP ? vmcs.read(GUEST_RSP) : cpu.register(register);
    }

    private void setGuestRegister(int register, int value) {
        if (register == Cpu.ESP) {
            vmcs.write(GUEST_RSP, value & 0xFFFFFFFFL);
        } else {
            cpu.setRegister(register, value);
        }
    }

    private void skipInstruction() {
        vmcs.advanceGuestRip(vmcs.read(VM_EXIT_INSTRUCTION_LENGTH));
    }

    // =====================================================================================================
    // Back to the guest: event injection (26.5) and interrupt windows (25.2)
    // =====================================================================================================

    private void resume() {
        if (vms.size() > 1) {
            schedule();
        }
        int pin = pinControls & ~PIN_EXTERNAL_INTERRUPT_EXITING, processor = processorControls;
        int flags = vmcs.read(GUEST_RFLAGS);
        boolean interruptible = (flags & Cpu.IF) != 0
                && (vmcs.read(GUEST_INTERRUPTIBILITY_STATE) & BLOCKING_BY_STI_OR_MOV_SS) == 0;
        beforeEntry();
        if (InterruptionInfo.isValid(vm.pendingInfo)) {
            inject(vm.pendingInfo, vm.pendingError, vm.pendingLength);
            vm.pendingInfo = 0;
        } else if (interruptible && vm.devices.interruptPending()) {
            int vector = vm.devices.acknowledge();
            inject(InterruptionInfo.of(vector, InterruptionInfo.EXTERNAL_INTERRUPT, false), 0, 0);
            vm.counters.injectedInterrupt(vector);
        }
        if (vm.devices.interruptPending()) {
            processor |= PROC_INTERRUPT_WINDOW_EXITING;
        }
        vm.devices.setTprThreshold();
        boolean haltedForGood = vmcs.read(GUEST_ACTIVITY_STATE) == HLT && (flags & Cpu.IF) == 0;
        if (!haltedForGood || aliveVms > 1) {
            pin |= PIN_EXTERNAL_INTERRUPT_EXITING; // a HLT with IF clear waits for nothing, as on the bare machine
        }
        if (vmcs.read(PIN_BASED_CONTROLS) != pin) {
            vmcs.write(PIN_BASED_CONTROLS, pin);
        }
        if (vmcs.read(PRIMARY_PROCESSOR_CONTROLS) != processor) {
            vmcs.write(PRIMARY_PROCESSOR_CONTROLS, processor);
        }
        boolean launched = vm.launched;
        vm.launched = true;
        int status = launched ? vmx.vmresume() : vmx.vmlaunch();
        if (status != Vmx.SUCCEED) {
            cpu.shutdown("vtx: " + (launched ? "VMRESUME" : "VMLAUNCH") + " of d" + vm.id + " failed: "
                    + describe(status));
        }
    }

    /**
     * Brings the current VM's virtual devices up to now, hands d1's COM1 the console's input, and arms the machine's
     * timer for the next virtual timer event of any VM (and, beside others, the end of the slice), so that the
     * hypervisor has control again when it is due.
     */
    private void beforeEntry() {
        vm.devices.advance();
        host.forwardConsoleInput(vms.getFirst().devices.virtualDevices());
        long deadline = vm.devices.virtualDevices().nextEventNanos();
        if (aliveVms > 1) {
            deadline = Math.min(deadline, sliceEnd);
            for (VirtualMachine other : vms) {
                if (other.alive()) {
                    deadline = Math.min(deadline, other.devices.virtualDevices().nextEventNanos());
                }
            }
        }
        host.armTimer(deadline);
    }

    // =====================================================================================================
    // Several VMs: round robin on the hypervisor's timer
    // =====================================================================================================

    /**
     * Before an entry: the current VM runs on until its slice is over or it cannot run (ended, or halted with nothing
     * to wake it); then the next VM in order that can run gets a slice. When none can, a halted VM stays in its
     * HLT activity state until the hypervisor's timer brings an event due.
     */
    private void schedule() {
        long now = cpu.nanos();
        vm.devices.advance();
        boolean halted = vmcs.read(GUEST_ACTIVITY_STATE) == HLT;
        vm.halted = halted;
        vm.interruptible = (vmcs.read(GUEST_RFLAGS) & Cpu.IF) != 0;
        if (vm.ready() && now < sliceEnd) {
            return;
        }
        int count = vms.size(), at = vm.id - 1;
        VirtualMachine next = null, parked = null;
        for (int k = 1; k <= count && next == null; k++) {
            VirtualMachine candidate = vms.get((at + k) % count);
            if (candidate != vm) {
                candidate.devices.advance();
            }
            if (candidate.ready()) {
                next = candidate;
            } else if (parked == null && candidate.alive()) {
                parked = candidate;
            }
        }
        boolean runnable = next != null;
        if (!runnable) {
            next = vm.alive() ? vm : parked; // nothing can run: wait, halted, for the timer
        }
        if (next != vm) {
            switchTo(next);
        }
        sliceEnd = now + SLICE_NANOS;
        if (runnable) {
            vm.counters.slice();
        }
    }

    /** VMCLEAR of the current VMCS (its launch state becomes clear), VMPTRLD of the next (SDM Vol. 3C 24.11.3). */
    private void switchTo(VirtualMachine next) {
        vm.saveProcessorState(cpu);
        require(vmx.vmclear(vm.vmcsRegion()), "VMCLEAR");
        vm.launched = false;
        require(vmx.vmptrld(next.vmcsRegion()), "VMPTRLD");
        next.restoreProcessorState(cpu);
        vm = next;
    }

    /** Beside other VMs, a VM ends alone; {@code ending} is what the machine does if it is d1 once all have ended. */
    private void end(VirtualMachine ended, String why, Runnable ending) {
        if (!ended.end(ending)) {
            return;
        }
        aliveVms--;
        ended.console.flush();
        hostConsole("(VTX) domain " + ended.id + " ended: " + why + "\n");
    }

    private void hostConsole(String text) {
        for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
            host.transmit(b & 0xFF);
        }
    }

    private void inject(int info, int errorCode, int length) {
        vmcs.write(VM_ENTRY_INTERRUPTION_INFO, info & 0xFFFFFFFFL);
        vmcs.write(VM_ENTRY_EXCEPTION_ERROR_CODE, errorCode & 0xFFFFFFFFL);
        vmcs.write(VM_ENTRY_INSTRUCTION_LENGTH, length);
        vmcs.write(GUEST_ACTIVITY_STATE, ACTIVE); // an event wakes a halted guest
    }

    /** The guest cannot go on under this hypervisor: alone, the machine stops; beside others, its VM ends. */
    private void stop(String why) {
        String message = "vtx: " + why + " (guest EIP 0x" + Integer.toHexString(guestEip()) + ")";
        if (vms.size() == 1) {
            cpu.shutdown(message);
        } else {
            end(vm, why, () -> cpu.shutdown(message));
        }
    }

    private int guestEip() {
        try {
            return vmcs.read(GUEST_RIP);
        } catch (IllegalStateException noVmcs) {
            return cpu.eip();
        }
    }

    // =====================================================================================================
    // The state the guest sees
    // =====================================================================================================

    @Override
    public Optional<CpuState> guestCpuState() {
        CpuState real = cpu.captureState();
        if (vmx.inNonRootOperation()) {
            CpuState.SystemRegisters r = real.system();
            CpuState.SystemRegisters system = new CpuState.SystemRegisters(vm.memoryMode.guestCr0(r.cr0()), r.cr2(),
                    vm.memoryMode.guestCr3(r.cr3()), vm.memoryMode.guestCr4(r.cr4()), r.gdt(), r.idt(), r.ldt(), r.tr(),
                    r.cpl(), r.halted());
            return Optional.of(new CpuState(real.general(), real.segments(), system, real.fpu(),
                    real.retiredInstructions()));
        }
        if (!vmx.inVmxOperation()) {
            return Optional.empty(); // not booted
        }
        return Optional.of(fromGuestStateArea(real));
    }

    /** After an exit: the guest-state area, with the registers a VM exit leaves alone from the processor. */
    private CpuState fromGuestStateArea(CpuState real) {
        CpuState.GeneralRegisters g = real.general();
        CpuState.GeneralRegisters general = new CpuState.GeneralRegisters(g.eax(), g.ecx(), g.edx(), g.ebx(),
                vmcs.read(GUEST_RSP), g.ebp(), g.esi(), g.edi(), vmcs.read(GUEST_RIP), vmcs.read(GUEST_RFLAGS));
        List<CpuState.SegmentRegister> segments = new ArrayList<>(6);
        for (int s = Cpu.ES; s <= Cpu.GS; s++) {
            segments.add(guestSegment(s));
        }
        CpuState.SegmentRegister ss = segments.get(Cpu.SS);
        CpuState.SystemRegisters system = new CpuState.SystemRegisters(vm.memoryMode.guestCr0(vmcs.read(GUEST_CR0)),
                real.system().cr2(), vm.memoryMode.guestCr3(vmcs.read(GUEST_CR3)),
                vm.memoryMode.guestCr4(vmcs.read(GUEST_CR4)),
                new CpuState.TableRegister(vmcs.read(GUEST_GDTR_BASE), vmcs.read(GUEST_GDTR_LIMIT)),
                new CpuState.TableRegister(vmcs.read(GUEST_IDTR_BASE), vmcs.read(GUEST_IDTR_LIMIT)),
                guestSegment(6), guestSegment(7), ss.attributes() >>> 5 & 3,
                vmcs.read(GUEST_ACTIVITY_STATE) == HLT);
        return new CpuState(general, List.copyOf(segments), system, real.fpu(), real.retiredInstructions());
    }

    private CpuState.SegmentRegister guestSegment(int register) {
        int rights = vmcs.read(VmcsField.guestAccessRights(register));
        return new CpuState.SegmentRegister(vmcs.read(VmcsField.guestSelector(register)),
                vmcs.read(VmcsField.guestBase(register)), vmcs.read(VmcsField.guestLimit(register)),
                (rights & UNUSABLE) != 0 ? 0 : rights);
    }

    @Override
    public Optional<VirtualizationLimit> limitReached() {
        return Optional.ofNullable(limitReached);
    }

    @Override
    public void close() {
        cpu.setHypervisorEntryPage(0, null);
    }
}

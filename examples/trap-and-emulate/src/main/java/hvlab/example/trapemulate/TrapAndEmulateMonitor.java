package hvlab.example.trapemulate;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.InterruptFrame;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.cpu.HypervisorEntry;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;
import hvlab.spi.VirtualizationLimit;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A classic trap-and-emulate monitor (Popek & Goldberg 1974) on IA-32: the guest kernel runs deprivileged in ring 1,
 * its processes in ring 3, the monitor in ring 0. Every trap lands here: privileged instructions are emulated
 * against the virtual CPU, page faults fill the shadow page tables or go to the guest, interrupts and exceptions are
 * reflected to the guest's own IDT handlers. What IA-32 does not trap — the sensitive but unprivileged instructions
 * (Robin & Irvine 2000) — runs on the real CPU, and the guest sees the difference.
 */
final class TrapAndEmulateMonitor implements Hypervisor, HypervisorEntry {
    static final int IF = 1 << 9, TF = 1 << 8, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17;

    private final Machine machine;
    private final Cpu cpu;
    private final PhysicalMemory memory;
    private final MonitorLayout layout;
    private final VirtualCpu vcpu = new VirtualCpu();
    private final GuestMemory guest;
    private final ShadowPageTables shadow;
    private final ShadowDescriptorTables tables;
    private final PrivilegedInstructions instructions;
    private final InterruptFrame frame;
    private final Exits exits;
    /** External interrupts taken while the guest had IF clear, in arrival order. */
    private final int[] held = new int[64];
    private int heldCount;
    /** A write to a traced frame is being single-stepped. */
    private boolean stepping;
    /** The guest executed HLT: once back in the guest, the CPU waits for an interrupt. */
    private boolean halting;
    private VirtualizationLimit limitReached;

    TrapAndEmulateMonitor(HostContext context) {
        this.machine = context.machine();
        this.cpu = context.cpu();
        this.memory = context.memory();
        this.layout = MonitorLayout.atTopOf(memory.ramSize());
        this.guest = new GuestMemory(memory, cpu, vcpu, layout.guestRamBytes());
        this.shadow = new ShadowPageTables(memory, cpu, layout, vcpu, guest, context.counters());
        this.tables = new ShadowDescriptorTables(memory, cpu, layout, vcpu, guest);
        this.frame = new InterruptFrame(cpu);
        this.exits = new Exits(context.counters());
        this.instructions = new PrivilegedInstructions(this, cpu, vcpu, guest);
    }

    // ---- boot ----

    @Override
    public void boot(GuestImage image) throws BootImageException {
        if (!(image instanceof GuestImage.Multiboot)) {
            throw new BootImageException("trap-and-emulate boots Multiboot kernels; " + image.name() + " is "
                    + (image instanceof GuestImage.Firmware ? "a firmware ROM" : "a Linux bzImage"));
        }
        machine.boot(image, layout.guestRamBytes()); // never told of our RAM
        vcpu.takeOver(cpu.captureState().system());
        int entry = cpu.eip(), stack = cpu.register(Cpu.ESP);
        vcpu.interruptsEnabled = (cpu.eflags() & IF) != 0;
        shadow.build();
        cpu.writeControlRegister(4, 0); // the shadow maps 4 KiB pages only
        cpu.writeControlRegister(3, shadow.directoryPhysical());
        cpu.writeControlRegister(0, cpu.cr(0) | VirtualCpu.CR0_PG | VirtualCpu.CR0_WP);
        tables.rebuild(); // the monitor's tables are reached through its own mapping from here on
        cpu.setHypervisorEntryPage(MonitorLayout.linear(MonitorLayout.ENTRY_PAGE), this);
        for (int segment : new int[] {Cpu.ES, Cpu.DS, Cpu.FS, Cpu.GS}) {
            cpu.loadSegmentRegister(segment, ShadowDescriptorTables.BOOT_DATA); // the compressed, ring-1 copy
        }
        // Enter the guest at ring 1 through an IRET frame, as the monitor leaves every trap.
        frame.enter(MonitorLayout.linear(MonitorLayout.STACK_TOP), entry, ShadowDescriptorTables.BOOT_CODE | 1,
                (cpu.eflags() & ~(IOPL | NT)) | IF, stack, ShadowDescriptorTables.BOOT_DATA | 1);
    }

    @Override
    public RunOutcome run(long maxInstructions) {
        return machine.run(maxInstructions);
    }

    // ---- every trap ----

    @Override
    public void enter(Cpu cpu, int offset) {
        frame.read(offset / MonitorLayout.ENTRY_STRIDE);
        if (frame.fromRingZero()) {
            cpu.shutdown("trap-and-emulate: the monitor trapped on vector " + frame.vector + " at 0x"
                    + Integer.toHexString(frame.eip));
            return;
        }
        if (frame.fromRingThree()) {
            vcpu.interruptsEnabled = true; // ring 3 cannot clear IF at IOPL 0: the kernel's IRET set it
        }
        try {
            if (stepping && finishStep()) {
                deliverHeldInterrupt();
                frame.resume();
                return;
            }
            dispatch();
            deliverHeldInterrupt();
        } catch (GuestFault fault) {
            reflectFault(fault);
        } catch (Unsupported unsupported) {
            stop(unsupported);
            return;
        }
        boolean halt = halting;
        halting = false;
        if (halt && !vcpu.interruptsEnabled) {
            frame.eflags &= ~IF; // HLT with IF clear: nothing but NMI wakes the guest, as on native
        }
        frame.resume();
        if (halt) {
            cpu.halt();
        }
    }

    /** The guest needs what this monitor does not virtualize: the machine stops, saying what and where. */
    private void stop(Unsupported unsupported) {
        limitReached = unsupported.limit;
        cpu.shutdown("trap-and-emulate: " + unsupported.getMessage() + " (guest EIP 0x"
                + Integer.toHexString(frame.eip) + ")");
    }

    boolean hasHeldInterrupt() {
        return heldCount > 0;
    }

    void haltAfterResume() {
        halting = true;
    }

    private void dispatch() throws GuestFault, Unsupported {
        int vector = frame.vector;
        if (vector >= 32) {
            exits.externalInterrupt.increment();
            if (vcpu.interruptsEnabled) {
                reflect(vector, GuestFault.NO_ERROR_CODE, Event.EXTERNAL, frame.eip);
            } else if (heldCount < held.length) {
                held[heldCount++] = vector;
                exits.heldInterrupt.increment();
            }
            return;
        }
        switch (vector) {
            case 14 -> pageFault();
            case 13 -> {
                exits.generalProtection.increment();
                instructions.emulate(frame);
            }
            case 10 -> {
                exits.generalProtection.increment();
                if ((frame.eflags & NT) != 0 && instructions.isIret(frame)) {
                    instructions.emulate(frame); // the IRET of a reflected handler: see reflect()
                } else {
                    reflect(10, frame.errorCode, Event.EXCEPTION, frame.eip);
                }
            }
            case 11 -> {
                exits.reflectedException.increment();
                if ((frame.errorCode & 3) == 0) {
                    instructions.refuseTaskSwitch(frame.errorCode); // TSS descriptors are not present in the copy
                }
                reflect(vector, frame.errorCode, Event.EXCEPTION, frame.eip);
            }
            default -> {
                exits.reflectedException.increment();
                reflect(vector, frame.errorCode, Event.EXCEPTION, frame.eip);
            }
        }
    }

    private void pageFault() throws GuestFault {
        int linear = cpu.cr(2);
        boolean write = (frame.errorCode & GuestMemory.PF_WRITE) != 0;
        boolean user = (frame.errorCode & GuestMemory.PF_USER) != 0;
        try {
            if (shadow.fill(linear, write, user)) {
                exits.shadowFill.increment();
                return;
            }
        } catch (GuestFault guestsOwn) {
            exits.reflectedPageFault.increment();
            throw guestsOwn;
        }
        // A write to a frame holding the guest's GDT or TSS: let this one instruction write, then refresh the copy.
        exits.tracedWrite.increment();
        shadow.openForOneWrite(linear, user);
        frame.eflags |= TF;
        stepping = true;
    }

    /** Ends a single-stepped traced write; true when this trap was the step's #DB and nothing else is to do. */
    private boolean finishStep() {
        stepping = false;
        frame.eflags &= ~TF;
        shadow.closeOpenedFrame();
        tables.rebuild();
        return frame.vector == 1;
    }

    void tablesChanged() {
        tables.rebuild();
        tables.traceGuestTables(shadow);
    }

    ShadowPageTables shadow() {
        return shadow;
    }

    ShadowDescriptorTables tables() {
        return tables;
    }

    Exits exits() {
        return exits;
    }

    // ---- events to the guest ----

    enum Event { EXTERNAL, EXCEPTION, SOFTWARE }

    private void reflectFault(GuestFault fault) {
        try {
            if (fault.vector == 14) {
                vcpu.cr2 = fault.address;
            }
            reflect(fault.vector, fault.errorCode, Event.EXCEPTION, frame.eip);
        } catch (GuestFault second) {
            cpu.shutdown("trap-and-emulate: the guest's handler for vector " + fault.vector
                    + " cannot be reached (vector " + second.vector + ")");
        } catch (Unsupported unsupported) {
            stop(unsupported);
        }
    }

    /** Delivers the oldest held interrupt once the guest has IF set again. */
    void deliverHeldInterrupt() throws GuestFault, Unsupported {
        if (heldCount > 0 && vcpu.interruptsEnabled && !frame.fromRingZero()) {
            halting = false;
            int vector = held[0];
            System.arraycopy(held, 1, held, 0, --heldCount);
            reflect(vector, GuestFault.NO_ERROR_CODE, Event.EXTERNAL, frame.eip);
        }
    }

    /**
     * Delivers an event through the guest's IDT as the CPU would (SDM Vol. 3A 6.12): checks the gate, switches to
     * the guest kernel's stack from its TSS when the guest was in ring 3, pushes the guest-visible frame, and points
     * the monitor's return frame at the handler, in ring 1. The handler runs with the real EFLAGS.NT set, so its
     * IRET — which IA-32 would let change IF silently at ring 1 — traps as a task return and is emulated.
     */
    void reflect(int vector, int errorCode, Event event, int returnEip) throws GuestFault, Unsupported {
        int ext = event == Event.EXTERNAL ? 1 : 0;
        int gateError = vector * 8 + 2 + ext;
        if (vector * 8 + 7 > vcpu.idtLimit) {
            throw GuestFault.gp(gateError);
        }
        int lo = guest.read32(vcpu.idtBase + vector * 8), hi = guest.read32(vcpu.idtBase + vector * 8 + 4);
        int type = (hi >>> 8) & 0x1F, dpl = (hi >>> 13) & 3;
        int guestCpl = frame.fromRingThree() ? 3 : 0;
        if (event == Event.SOFTWARE && dpl < guestCpl) {
            throw GuestFault.gp(vector * 8 + 2);
        }
        if ((hi & 0x8000) == 0) {
            throw new GuestFault(11, gateError, 0);
        }
        if (type == 0x05) {
            throw new Unsupported(VirtualizationLimit.HARDWARE_TASK_SWITCH,
                    "a task gate in the guest's IDT (vector " + vector + ")");
        }
        if (type != 0x0E && type != 0x0F) {
            throw GuestFault.gp(gateError);
        }
        if (frame.fromVirtual8086()) {
            throw new Unsupported(VirtualizationLimit.VIRTUAL_8086_MODE, "an event in virtual-8086 mode");
        }
        int selector = lo >>> 16, offset = (hi & 0xFFFF0000) | (lo & 0xFFFF);
        long target = tables.guestDescriptor(selector & 0xFFF8);
        int targetHi = (int) (target >>> 32);
        if ((selector & 0xFFFC) == 0 || (targetHi & 0x1800) != 0x1800) {
            throw GuestFault.gp(ext);
        }
        int targetDpl = (targetHi >>> 13) & 3;
        int flags = guestVisibleFlags(frame.eflags);
        int esp = frame.esp, ss = frame.ss;
        if (targetDpl < guestCpl) {
            int stackSelector = guest.read16(vcpu.trBase + 8), stackTop = guest.read32(vcpu.trBase + 4);
            int base = tables.guestBase(stackSelector);
            esp = push(base, stackTop, ss, true);
            esp = push(base, esp, frame.esp, true);
            ss = stackSelector | 1;
            esp = pushFrame(base, esp, flags, errorCode, returnEip);
        } else {
            esp = pushFrame(tables.guestBase(ss), esp, flags, errorCode, returnEip);
        }
        if (type == 0x0E) {
            vcpu.interruptsEnabled = false;
        }
        frame.eip = offset;
        frame.cs = (selector & 0xFFFC) | Math.max(targetDpl, 1);
        frame.eflags = (frame.eflags & ~(TF | RF | VM | IOPL)) | IF | NT;
        frame.esp = esp;
        frame.ss = ss;
        exits.reflected.increment();
    }

    private int pushFrame(int base, int esp, int flags, int errorCode, int returnEip) throws GuestFault {
        esp = push(base, esp, flags, false);
        esp = push(base, esp, frame.cs, false);
        esp = push(base, esp, returnEip, false);
        return errorCode == GuestFault.NO_ERROR_CODE ? esp : push(base, esp, errorCode, false);
    }

    private int push(int base, int esp, int value, boolean first) throws GuestFault {
        esp -= 4;
        guest.write32(base + esp, value, false);
        return esp;
    }

    /** EFLAGS as the guest believes them: its own IF and IOPL in place of the real ones. */
    int guestVisibleFlags(int real) {
        return (real & ~(IF | IOPL)) | (vcpu.interruptsEnabled ? IF : 0) | vcpu.iopl << 12;
    }

    // ---- state the guest sees ----

    @Override
    public Optional<CpuState> guestCpuState() {
        CpuState real = cpu.captureState();
        CpuState.GeneralRegisters g = real.general();
        CpuState.GeneralRegisters general = new CpuState.GeneralRegisters(g.eax(), g.ecx(), g.edx(), g.ebx(),
                g.esp(), g.ebp(), g.esi(), g.edi(), g.eip(), guestVisibleFlags(g.eflags()));
        List<CpuState.SegmentRegister> segments = new ArrayList<>();
        int cpl = real.system().cpl() == 3 ? 3 : 0;
        for (CpuState.SegmentRegister s : real.segments()) {
            segments.add(guestSegment(s, cpl));
        }
        CpuState.SystemRegisters r = real.system();
        CpuState.SystemRegisters system = new CpuState.SystemRegisters(vcpu.cr0, vcpu.cr2, vcpu.cr3, vcpu.cr4,
                new CpuState.TableRegister(vcpu.gdtBase, vcpu.gdtLimit),
                new CpuState.TableRegister(vcpu.idtBase, vcpu.idtLimit),
                vcpu.ldt,
                new CpuState.SegmentRegister(vcpu.trSelector, vcpu.trBase, vcpu.trLimit, vcpu.trAttributes), cpl,
                r.halted());
        return Optional.of(new CpuState(general, List.copyOf(segments), system, real.fpu(),
                real.retiredInstructions()));
    }

    /** A segment register as the guest loaded it: its own RPL and its own descriptor, not the compressed copy. */
    private CpuState.SegmentRegister guestSegment(CpuState.SegmentRegister real, int cpl) {
        int selector = real.selector();
        if ((selector & 3) == 1) {
            selector &= ~3;
        }
        if ((selector & 0xFFFC) == 0 || !vcpu.gdtLoaded) {
            return new CpuState.SegmentRegister(selector, real.base(), real.limit(), real.attributes());
        }
        long d = tables.guestDescriptor(selector & 0xFFF8);
        int hi = (int) (d >>> 32), lo = (int) d;
        int limit = (hi & 0xF0000) | (lo & 0xFFFF);
        if ((hi & 0x800000) != 0) {
            limit = limit << 12 | 0xFFF;
        }
        return new CpuState.SegmentRegister(selector, tables.guestBase(selector), limit, (hi >>> 8) & 0xF0FF);
    }

    @Override
    public void close() {
        cpu.setHypervisorEntryPage(0, null);
    }

    /** Guest behaviour this monitor does not virtualize: the run stops with a message naming it. */
    static final class Unsupported extends Exception {
        final VirtualizationLimit limit;

        Unsupported(VirtualizationLimit limit, String what) {
            super(what + " is not virtualized by trap-and-emulate", null, false, false);
            this.limit = limit;
        }

        Unsupported(String what) {
            this(null, what);
        }
    }

    @Override
    public Optional<VirtualizationLimit> limitReached() {
        return Optional.ofNullable(limitReached);
    }

    /** Exits by reason, counted in the machine's registry. */
    static final class Exits {
        final Counter externalInterrupt, heldInterrupt, generalProtection, reflectedException, shadowFill,
                reflectedPageFault, tracedWrite, reflected;
        final Counters counters;

        Exits(Counters counters) {
            this.counters = counters;
            externalInterrupt = counters.counter(Counters.EXITS, "external interrupt");
            heldInterrupt = counters.counter(Counters.EXITS, "external interrupt held (guest IF clear)");
            generalProtection = counters.counter(Counters.EXITS, "#GP: privileged instruction or IRET");
            reflectedException = counters.counter(Counters.EXITS, "exception reflected");
            shadowFill = counters.counter(Counters.EXITS, "#PF: shadow entry filled");
            reflectedPageFault = counters.counter(Counters.EXITS, "#PF: reflected to the guest");
            tracedWrite = counters.counter(Counters.EXITS, "#PF: write to a traced GDT/TSS frame");
            reflected = counters.counter("reflections", "events delivered through the guest's IDT");
        }

        Counter emulated(String mnemonic) {
            return counters.counter("emulated instructions", mnemonic);
        }
    }
}

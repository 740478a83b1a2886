package hvlab.hv.xenpv;

import hvlab.hv.xenpv.domain.Domain;
import hvlab.hv.xenpv.domain.DomainBuilder;
import hvlab.hv.xenpv.domain.PvKernelImage;
import hvlab.hv.xenpv.events.EventChannels;
import hvlab.hv.xenpv.mm.FrameTable;
import hvlab.hv.xenpv.mm.MemoryManager;
import hvlab.hv.xenpv.sched.CreditScheduler;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.HypervisorEntry;
import hvlab.hw.cpu.InterruptFrame;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.device.debugexit.DebugExit;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.hw.cpu.Exceptions;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;
import hvlab.hw.stats.HypervisorEvents;
import hvlab.spi.DomainConfig;
import hvlab.spi.DomainConsole;
import hvlab.spi.GuestImage;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;

import java.nio.charset.StandardCharsets;

import java.util.ArrayList;
import java.util.List;

/**
 * Xen for PV domains on the machine: it owns ring 0 and the top 64 MiB, runs each guest kernel in ring 1, and gets
 * control where the hardware gives it to ring 0 — hypercalls through {@code int 0x82}, exceptions, interrupts —
 * leaving by IRET (../shared/design/architecture.md, paravirtual). Several domains share the CPU under the credit
 * scheduler: at a switch Xen saves the vCPU's registers, frame and segments and loads the next one's page tables,
 * GDT entries, kernel stack, system-call gate and registers, so nothing of one domain is left for the other.
 */
final class Xen implements Hypervisor, HypervisorEntry, EventChannels.Directory {
    static final int HYPERCALL_VECTOR = 0x82;
    static final int DOMAIN_PAGES = 8192; // 32 MiB
    /** The least a lab PV kernel needs: its 4 MiB boot region and the scratch frames its workloads map. */
    static final int MINIMUM_DOMAIN_PAGES = 2048;
    /** Shared_info frames follow one another in Xen's memory: at most this many domains. */
    static final int MAXIMUM_DOMAINS = 64;
    /** The data segment registers a vCPU's context holds besides CS and SS (which the frame has). */
    private static final int[] DATA_SEGMENTS = {Cpu.ES, Cpu.DS, Cpu.FS, Cpu.GS};
    private static final int IF = 1 << 9, TF = 1 << 8, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17, IOPL = 3 << 12;

    private final Machine machine;
    private final Cpu cpu;
    private final PhysicalMemory memory;
    private final XenLayout layout;
    private final FrameTable frames;
    private final MemoryManager mm;
    private final Counters counters;
    private final Counter[] hypercallCounts = new Counter[64];
    /** Bounces by vector, and int n bounced through Xen (a DPL-3 gate of the guest's that is not the fast one). */
    private final Counter[] bounced = new Counter[32];
    private final Counter softwareInterrupts, interrupts, upcalls;
    private final PrivilegedOps privilegedOps;
    private final Counter domainSwitches;
    private final CreditScheduler scheduler = new CreditScheduler();
    private final List<Domain> domains = new ArrayList<>();
    /** The domain whose context is on the CPU (it may be blocked or dead while the CPU idles in it). */
    private Domain current;
    /** The scheduler must choose again before Xen returns to a guest (a timeslice ended, a block, a wake...). */
    private boolean rescheduleDue;
    /** No domain is runnable: Xen returns to the loaded context and halts until the next interrupt. */
    private boolean idle;
    /** The domain whose FPU registers are in the FPU (lazy switching, as Xen's): null for none. */
    private Domain fpuOwner;
    /** Some domain's destruction waits for Xen's next entry (set from the toolstack's thread of control). */
    private volatile boolean destroyRequested;
    /** Guest entries of Xen's GDT installed now (the loaded domain's set_gdt). */
    private int installedGdtEntries;
    static final int TIMER_VECTOR = 0x20;
    /** The local APIC timer's vector: Xen's one-shot timer for set_timer_op deadlines (its singleshot_timer). */
    static final int DEADLINE_VECTOR = 0xF0;
    private static final int LOCAL_APIC = 0xFEE00000;
    /** set_timer_op: a deadline more than 2^50 ns ahead or negative becomes now + 100 ms ([X32] do_set_timer_op). */
    private static final long FAR_DEADLINE = 1L << 50, SUBSTITUTE_DEADLINE = 100_000_000L;
    /** Xen's periodic tick, as PV vCPUs get by default: 10 ms ([X32] domain.c), from the PIT (1193182 / 11932). */
    private static final int PIT_DIVISOR = 11932;
    /** Event-channel operations refused on an interdomain or unbound port: a reach for another domain's channel. */
    final Counter refusedEventChannelOps;
    final Hypercalls hypercalls;
    final InterruptFrame frame;

    Xen(HostContext context) {
        this.machine = context.machine();
        this.cpu = context.cpu();
        this.memory = context.memory();
        this.layout = XenLayout.of(memory.ramSize());
        this.frames = new FrameTable(memory.ramSize() >>> 12);
        this.mm = new MemoryManager(memory, frames);
        this.counters = context.counters();
        this.softwareInterrupts = counters.counter(Counters.EXITS, CostModel.PV_BOUNCE_PREFIX + "int n");
        this.interrupts = counters.counter(Counters.EXITS, "external interrupt");
        this.upcalls = counters.counter(Counters.EVENTS, CostModel.UPCALL_KEY);
        this.domainSwitches = counters.counter(Counters.WORLD_SWITCHES, CostModel.DOMAIN_SWITCH_KEY);
        this.refusedEventChannelOps = counters.counter(Counters.EVENTS, "interdomain channel ops refused");
        this.frame = new InterruptFrame(cpu);
        this.hypercalls = new Hypercalls(this);
        this.privilegedOps = new PrivilegedOps(this, counters);
    }

    Cpu cpu() {
        return cpu;
    }

    PhysicalMemory memory() {
        return memory;
    }

    MemoryManager mm() {
        return mm;
    }

    /** The domain on the CPU: the one a hypercall or trap came from. */
    Domain domain() {
        return current;
    }

    XenLayout layout() {
        return layout;
    }

    // ---- boot ----

    @Override
    public void boot(GuestImage image) throws BootImageException {
        boot(List.of(image));
    }

    /**
     * One domain per image, d1 first, each with its own frames (an equal share of the domain area, at most 32 MiB),
     * P2M, start_info, shared_info, page tables and event channels; then d1 starts. Console lines of several domains
     * carry their domain's prefix.
     */
    @Override
    public void boot(List<GuestImage> images) throws BootImageException {
        boot(images, java.util.Collections.nCopies(images.size(), DomainConfig.DEFAULT));
    }

    /** As {@link #boot(List)}, each domain with its credit-scheduler weight (xl.cfg cpu_weight). */
    @Override
    public void boot(List<GuestImage> images, List<DomainConfig> configs) throws BootImageException {
        if (configs.size() != images.size()) {
            throw new IllegalArgumentException(images.size() + " images but " + configs.size() + " domain configs");
        }
        if (images.isEmpty() || images.size() > MAXIMUM_DOMAINS) {
            throw new BootImageException("xen-pv runs 1 to " + MAXIMUM_DOMAINS + " domains, not " + images.size());
        }
        List<PvKernelImage> kernels = new ArrayList<>();
        for (GuestImage image : images) {
            if (!(image instanceof GuestImage.Multiboot kernel)) {
                throw new BootImageException("xen-pv boots PV kernel images (ELF with __xen_guest); " + image.name()
                        + " is " + (image instanceof GuestImage.Firmware ? "a firmware ROM" : "a Linux bzImage"));
            }
            kernels.add(PvKernelImage.parse(image.name(), kernel.image()));
        }
        int available = layout.lastDomainFrame() + 1 - XenLayout.FIRST_DOMAIN_FRAME;
        int pages = Math.min(DOMAIN_PAGES, available / images.size() & ~0xFF);
        if (pages < MINIMUM_DOMAIN_PAGES) {
            throw new BootImageException(images.size() + " domains need " + (images.size() * MINIMUM_DOMAIN_PAGES >> 8)
                    + " MiB for domains; this machine has " + (Math.max(available, 0) >> 8)
                    + " MiB (RAM above 16 MiB less Xen's 8): give it more --memory");
        }
        cpu.enterFlatProtectedMode(0, 0, 0);
        machine.platform().localApic().enterVirtualWireMode(); // what the firmware before a Multiboot loader leaves
        startTimer();
        cpu.writePhysical32(LOCAL_APIC + LocalApic.TIMER_DIVIDE, 0xB); // divide by 1: a count per ns
        cpu.writePhysical32(LOCAL_APIC + LocalApic.LVT_TIMER, DEADLINE_VECTOR); // one-shot, idle until a deadline
        buildXen();
        DomainBuilder builder = new DomainBuilder(memory, frames, mm);
        for (int k = 0; k < images.size(); k++) {
            GuestImage.Multiboot kernel = (GuestImage.Multiboot) images.get(k);
            Domain domain = new Domain(k + 1, XenLayout.FIRST_DOMAIN_FRAME + k * pages, pages,
                    layout.physical(XenLayout.SHARED_INFO) + k * 4096 >>> 12, counters,
                    new DomainConsole(k + 1, this::serialOut));
            domain.events = new EventChannels(memory, domain.sharedInfoFrame << 12, domain.id, this);
            DomainBuilder.Start start = builder.build(domain, kernel.name(), kernels.get(k), kernel.commandLine());
            for (int pfn = 0; pfn < pages; pfn++) {
                memory.writeU32(layout.physical(XenLayout.M2P) + domain.machineFrame(pfn) * 4, pfn);
            }
            domain.baseTable = start.baseTable();
            domain.registers[Cpu.ESI] = start.startInfo();
            domain.eip = start.entry();
            domain.cs = XenLayout.KERNEL_CS;
            domain.eflags = IF | 2;
            domain.esp = start.stackTop();
            domain.ss = XenLayout.KERNEL_DS;
            for (int segment : DATA_SEGMENTS) {
                domain.segments[segment] = XenLayout.KERNEL_DS;
            }
            domain.vcpu = scheduler.add(domain.id, configs.get(k).cpuWeight());
            domains.add(domain);
        }
        Domain first = domains.getFirst();
        cpu.writeControlRegister(3, first.baseTable << 12);
        cpu.writeControlRegister(0, cpu.cr(0) | (1 << 31) | (1 << 16)); // paging, and WP: ring 1 honours read-only
        cpu.loadGdtr(XenLayout.linear(XenLayout.GDT), 7177 * 8 - 1);
        cpu.loadIdtr(XenLayout.linear(XenLayout.IDT), 256 * 8 - 1);
        cpu.loadTaskRegister(XenLayout.TSS_SELECTOR);
        cpu.setHypervisorEntryPage(XenLayout.linear(XenLayout.ENTRY_PAGE), this);
        scheduler.schedule();
        load(first);
        fpuOwner = first;
        cpu.writeControlRegister(0, cpu.cr(0) & ~8);
        frame.enter(XenLayout.linear(XenLayout.STACK_TOP), first.eip, first.cs, first.eflags, first.esp, first.ss);
    }

    /** Xen owns the PICs and the PIT: the 8259s at vectors 20h-2Fh, only IRQ0 open, the PIT ticking at 100 Hz. */
    private void startTimer() {
        int[][] init = {{0x20, 0x11}, {0xA0, 0x11}, {0x21, 0x20}, {0xA1, 0x28}, {0x21, 0x04}, {0xA1, 0x02},
                {0x21, 0x01}, {0xA1, 0x01}, {0x21, 0xFE}, {0xA1, 0xFF}, {0x43, 0x34}, {0x40, PIT_DIVISOR & 0xFF},
                {0x40, PIT_DIVISOR >>> 8}};
        for (int[] write : init) {
            cpu.outPort(write[0], 1, write[1]);
        }
    }

    /** Xen's GDT, IDT, TSS and its slots of every address space. */
    private void buildXen() {
        int gdt = layout.physical(XenLayout.GDT);
        for (int k = 0; k < 0x10000; k += 4) {
            memory.writeU32(gdt + k, 0);
        }
        descriptor(gdt, XenLayout.XEN_CS, 0x0000FFFF, 0x00CF9B00);
        descriptor(gdt, XenLayout.XEN_DS, 0x0000FFFF, 0x00CF9300);
        // Guest segments end at FC3FFFFF: limit FC3FF pages ([X32] x86_32.S gdt_table).
        descriptor(gdt, XenLayout.KERNEL_CS, 0x0000C3FF, 0x00CFBB00);
        descriptor(gdt, XenLayout.KERNEL_DS, 0x0000C3FF, 0x00CFB300);
        descriptor(gdt, XenLayout.USER_CS, 0x0000C3FF, 0x00CFFB00);
        descriptor(gdt, XenLayout.USER_DS, 0x0000C3FF, 0x00CFF300);
        int tss = XenLayout.linear(XenLayout.TSS);
        descriptor(gdt, XenLayout.TSS_SELECTOR, tss << 16 | 0x67, (tss & 0xFF000000) | (tss >>> 16 & 0xFF) | 0x8900);
        int idt = layout.physical(XenLayout.IDT);
        int entry = XenLayout.linear(XenLayout.ENTRY_PAGE);
        for (int vector = 0; vector < 256; vector++) {
            int offset = entry + vector * 16;
            int dpl = vector == HYPERCALL_VECTOR ? 1 : vector == 3 || vector == 4 ? 3 : 0;
            memory.writeU32(idt + vector * 8, XenLayout.XEN_CS << 16 | (offset & 0xFFFF));
            memory.writeU32(idt + vector * 8 + 4, (offset & 0xFFFF0000) | 0x8E00 | dpl << 13);
        }
        int tssPhysical = layout.physical(XenLayout.TSS);
        memory.writeU32(tssPhysical + 4, XenLayout.linear(XenLayout.STACK_TOP));
        memory.writeU32(tssPhysical + 8, XenLayout.XEN_DS);
        memory.writeU16(tssPhysical + 0x66, 0x68);
        // Slot 1020: Xen's direct map, supervisor read-write. Slot 1008: the M2P, read-only.
        int directMap = layout.physical(XenLayout.DIRECT_MAP_TABLE);
        for (int page = 0; page < 1024; page++) {
            memory.writeU32(directMap + page * 4, (page << 12 < XenLayout.SIZE ? layout.physical(page << 12) | 3 : 0));
        }
        int m2pTable = layout.physical(XenLayout.M2P_TABLE);
        int m2pPages = (layout.ramBytes() >>> 12) * 4 / 4096;
        for (int page = 0; page < 1024; page++) {
            memory.writeU32(m2pTable + page * 4, page < m2pPages ? layout.physical(XenLayout.M2P + page * 4096) | 1 : 0);
        }
        for (int k = 0; k < m2pPages * 4096; k += 4) {
            memory.writeU32(layout.physical(XenLayout.M2P) + k, -1); // INVALID_M2P_ENTRY
        }
        mm.setXenSlot(XenLayout.DIRECT_MAP_SLOT, directMap | 3);
        mm.setXenSlot(XenLayout.M2P_SLOT, m2pTable | 3);
        int idle = layout.physical(XenLayout.IDLE_PAGE_TABLE) >>> 12;
        mm.clearFrame(idle);
        mm.installXenSlots(idle);
    }

    private void descriptor(int gdt, int selector, int lo, int hi) {
        memory.writeU32(gdt + (selector & 0xFFF8), lo);
        memory.writeU32(gdt + (selector & 0xFFF8) + 4, hi);
    }

    /**
     * Entry {@code index} of Xen's GDT from the guest's descriptor at a machine address, as Xen checks it (DPL
     * raised, limit cut); -1 clears it.
     */
    void installGuestDescriptor(int index, int machineAddress) {
        int gdt = layout.physical(XenLayout.GDT) + index * 8;
        long checked = machineAddress < 0 ? 0 : hvlab.hv.xenpv.mm.DescriptorCheck.check(
                memory.readU32(machineAddress), memory.readU32(machineAddress + 4));
        memory.writeU32(gdt, (int) checked);
        memory.writeU32(gdt + 4, (int) (checked >>> 32));
    }

    /** A free frame of the domain area for a balloon that inflates again, zeroed, owned by the domain. */
    int allocateFrame(int domainId) {
        for (int mfn = XenLayout.FIRST_DOMAIN_FRAME; mfn <= layout.lastDomainFrame(); mfn++) {
            if (frames.owner(mfn) == FrameTable.FREE) {
                frames.assign(mfn, domainId);
                mm.clearFrame(mfn);
                return mfn;
            }
        }
        return -1;
    }

    /** The ring-1 stack for entries from ring 3 (stack_switch), in the real TSS. */
    void setKernelStack(int segment, int pointer) {
        current.kernelStackSegment = segment;
        current.kernelStackPointer = pointer;
        memory.writeU32(layout.physical(XenLayout.TSS) + 12, pointer);
        memory.writeU32(layout.physical(XenLayout.TSS) + 16, segment);
    }

    @Override
    public RunOutcome run(long maxInstructions) {
        return machine.run(maxInstructions);
    }

    // ---- every entry ----

    @Override
    public void enter(Cpu cpu, int offset) {
        int vector = offset / 16;
        frame.read(vector);
        if (frame.fromRingZero()) {
            cpu.shutdown("xen: fault in Xen itself, vector " + vector + " at 0x" + Integer.toHexString(frame.eip));
            return;
        }
        if (destroyRequested) {
            destroyRequestedDomains();
        }
        try {
            if (current.alive() || vector >= 32 && vector != HYPERCALL_VECTOR) {
                dispatch(vector);
            } else {
                rescheduleDue = true; // the domain on the CPU was destroyed: none of its requests is served
            }
        } catch (DomainCrash crash) {
            crash(current, crash.getMessage());
        }
        while (true) {
            if (rescheduleDue) {
                reschedule();
            }
            if (idle || !current.events.upcallDue() || current.eventAddress == 0) {
                break;
            }
            try {
                upcalls.increment();
                current.eventsDelivered.increment();
                bounceTo(current.eventAddress, current.eventSelector, -1, frame.eip, true, false);
                break;
            } catch (DomainCrash crash) {
                crash(current, crash.getMessage());
            }
        }
        frame.resume();
        if (idle) {
            cpu.halt(); // every domain blocked (or ended): the CPU waits, interrupts on, for the next event
        }
    }

    // ---- domains on the CPU ----

    /** The credit scheduler's choice runs next: a switch if it is another domain, idle if none is runnable. */
    private void reschedule() {
        rescheduleDue = false;
        CreditScheduler.Vcpu next = scheduler.schedule();
        idle = next == null;
        if (next != null && domains.get(next.id - 1) != current) {
            switchTo(domains.get(next.id - 1));
        }
    }

    /** The context switch: the running vCPU's state saved, the next one's loaded; returns through the frame. */
    private void switchTo(Domain next) {
        domainSwitches.increment();
        Domain previous = current;
        for (int r = 0; r < 8; r++) {
            previous.registers[r] = cpu.register(r);
        }
        previous.eip = frame.eip;
        previous.cs = frame.cs;
        previous.eflags = frame.eflags;
        previous.esp = frame.esp;
        previous.ss = frame.ss;
        for (int segment : DATA_SEGMENTS) {
            previous.segments[segment] = cpu.segmentSelector(segment);
        }
        previous.cr2 = cpu.cr(2);
        load(next);
        frame.eip = next.eip;
        frame.cs = next.cs;
        frame.eflags = next.eflags;
        frame.esp = next.esp;
        frame.ss = next.ss;
    }

    /**
     * Puts a domain's vCPU on the CPU (all but the frame): its GDT entries in Xen's GDT, its system-call gate, its
     * ring-1 stack in the TSS, its page tables, CR2, CR0.TS for lazy FPU switching, its segments and registers.
     */
    private void load(Domain next) {
        current = next;
        int entries = Math.max(installedGdtEntries, next.gdtEntries);
        for (int i = 0; i < entries; i++) {
            installGuestDescriptor(i, i < next.gdtEntries ? next.gdtFrames[i / 512] << 12 | (i % 512) * 8 : -1);
        }
        installedGdtEntries = next.gdtEntries;
        updateSystemCallGate();
        setKernelStack(next.kernelStackSegment, next.kernelStackPointer);
        cpu.writeControlRegister(3, next.baseTable << 12);
        cpu.writeControlRegister(2, next.cr2);
        int cr0 = cpu.cr(0);
        cpu.writeControlRegister(0, next == fpuOwner && !next.virtualTaskSwitched ? cr0 & ~8 : cr0 | 8);
        for (int segment : DATA_SEGMENTS) {
            try {
                cpu.loadSegmentRegister(segment, next.segments[segment]);
            } catch (RuntimeException unusable) {
                cpu.loadSegmentRegister(segment, 0); // a selector its own GDT no longer backs: null, as Xen's failsafe
            }
        }
        for (int r = 0; r < 8; r++) {
            if (r != Cpu.ESP) {
                cpu.setRegister(r, next.registers[r]);
            }
        }
    }

    /**
     * #NM with the FPU another domain's (or the guest's virtual TS set): Xen loads this domain's FPU registers
     * lazily, and bounces #NM only when the guest itself had set TS, clearing that virtual TS ([X32] traps.c
     * do_device_not_available).
     */
    private void deviceNotAvailable() throws DomainCrash {
        cpu.writeControlRegister(0, cpu.cr(0) & ~8);
        if (fpuOwner != current) {
            if (fpuOwner != null) {
                fpuOwner.fpu = cpu.saveFpu();
            }
            cpu.restoreFpu(current.fpu);
            fpuOwner = current;
        }
        if (current.virtualTaskSwitched) {
            current.virtualTaskSwitched = false;
            bounce(7, -1, frame.eip);
        }
    }

    /** fpu_taskswitch: the virtual CR0.TS; the real one set with it, cleared only while this domain's FPU is loaded. */
    /** MMUEXT_NEW_BASEPTR or a MOV to CR3: the frame becomes the current domain's base table; 0 or -EINVAL. */
    int newBaseTable(int mfn) {
        Domain d = current;
        int result = mm().newBase(d.id, mfn, d.baseTable);
        if (result == 0) {
            d.baseTable = mfn;
            cpu.writeControlRegister(3, mfn << 12);
        }
        return result;
    }

    /** A MOV to CR2 in the domain's kernel: its CR2, and vcpu_info.arch.cr2 as Xen keeps them ([X32] traps.c). */
    void setGuestCr2(int value) {
        cpu.writeControlRegister(2, value);
        memory.writeU32((current.sharedInfoFrame << 12) + 8, value);
    }

    void setTaskSwitched(boolean set) {
        current.virtualTaskSwitched = set;
        int cr0 = cpu.cr(0);
        cpu.writeControlRegister(0, set || fpuOwner != current ? cr0 | 8 : cr0 & ~8);
    }

    @Override
    public EventChannels channelsOf(int domainId) {
        return domainId >= 1 && domainId <= domains.size() && domains.get(domainId - 1).alive()
                ? domains.get(domainId - 1).events : null;
    }

    /** An event for the domain: a blocked vCPU wakes, and preempts the running one if the scheduler says so. */
    @Override
    public void kick(int domainId) {
        Domain domain = domains.get(domainId - 1);
        domain.events.stopPolling();
        domain.pollDeadline = 0;
        if (domain.alive() && scheduler.wake(domain.vcpu)) {
            rescheduleDue = true;
        }
    }

    /**
     * The fast system call ([X32] x86_32/traps.c init_int80_direct_trap; the paper's "fast handler"): when the
     * guest's vector 80h handler is reachable from ring 3 and does not mask events, Xen's IDT gets a real DPL-3
     * trap gate to it, so int 0x80 goes from ring 3 to the guest kernel in ring 1 without entering Xen. Otherwise
     * vector 80h leads to Xen like every other.
     */
    void updateSystemCallGate() {
        int vector = 0x80, gate = layout.physical(XenLayout.IDT) + vector * 8;
        int flags = current.trapFlags[vector], handler = current.trapAddress[vector];
        if (handler != 0 && (flags & 3) == 3 && (flags & 4) == 0) {
            memory.writeU32(gate, current.trapSelector[vector] << 16 | (handler & 0xFFFF));
            memory.writeU32(gate + 4, (handler & 0xFFFF0000) | 0xEF00); // present, DPL 3, 32-bit trap gate
        } else {
            int offset = XenLayout.linear(XenLayout.ENTRY_PAGE) + vector * 16;
            memory.writeU32(gate, XenLayout.XEN_CS << 16 | (offset & 0xFFFF));
            memory.writeU32(gate + 4, (offset & 0xFFFF0000) | 0x8E00);
        }
    }

    /** SCHEDOP_block: events unmasked, and the vCPU sleeps unless one is already pending (no lost wakeup). */
    void block() {
        memory.writeU8((current.sharedInfoFrame << 12) + 1, 0);
        if (!current.events.upcallPending()) {
            scheduler.block(current.vcpu);
            rescheduleDue = true;
        }
    }

    /**
     * SCHEDOP_poll: unless one of the ports is pending already, the vCPU sleeps, events left masked, until one of
     * them goes pending (masked or not), any event would wake a blocked vCPU, or system time passes the timeout
     * (0 = none); the guest checks again after ([X32] public/sched.h, common/schedule.c do_poll).
     */
    void poll(int[] ports, long timeout) {
        if (current.events.pollPending(ports)) {
            return;
        }
        scheduler.block(current.vcpu);
        rescheduleDue = true;
        current.pollDeadline = timeout;
        programDeadlineTimer(cpu.nanos());
    }

    /** SCHEDOP_yield: the vCPU stays runnable behind the others of its priority. */
    void yield() {
        rescheduleDue = true;
    }

    /** The periodic tick: VIRQ_TIMER, and the one-shot timer of set_timer_op when it is due; the PIC acknowledged. */
    private void timerTick() {
        cpu.outPort(0x20, 1, 0x20); // EOI
        long now = cpu.nanos();
        CreditScheduler.Vcpu running = scheduler.current();
        if (running != null) {
            domains.get(running.id - 1).scheduledMs.add(10);
        }
        if (scheduler.tick()) {
            rescheduleDue = true;
        }
        for (Domain domain : domains) {
            if (!domain.alive()) {
                continue;
            }
            writeSystemTime(domain, now);
            domain.events.raiseVirq(EventChannels.VIRQ_TIMER);
        }
    }

    /**
     * set_timer_op: a one-shot VIRQ_TIMER when system time passes {@code deadline} (ns), besides the periodic tick;
     * 0 cancels, a deadline already past fires at once, a negative or absurdly far one becomes now + 100 ms ([X32]
     * common/schedule.c do_set_timer_op; ../shared/reference/xen-pv-abi.md section 12).
     */
    void setTimer(long deadline) {
        long now = cpu.nanos();
        if (deadline < 0 || deadline - now > FAR_DEADLINE) {
            deadline = now + SUBSTITUTE_DEADLINE;
        }
        current.timerDeadline = deadline;
        if (deadline != 0 && deadline <= now) {
            fireDeadline(current, now);
        }
        programDeadlineTimer(now);
    }

    /**
     * The local APIC timer fired: each domain whose deadline has passed gets its VIRQ_TIMER (and wakes); each whose
     * poll timed out wakes.
     */
    private void deadlinesDue() {
        cpu.writePhysical32(LOCAL_APIC + LocalApic.EOI, 0);
        long now = cpu.nanos();
        for (Domain domain : domains) {
            if (domain.alive() && domain.timerDeadline != 0 && now >= domain.timerDeadline) {
                fireDeadline(domain, now);
            }
            if (domain.alive() && domain.pollDeadline != 0 && now >= domain.pollDeadline) {
                kick(domain.id); // the poll timed out: the vCPU wakes without an event
            }
        }
        programDeadlineTimer(now);
    }

    private void fireDeadline(Domain domain, long now) {
        domain.timerDeadline = 0;
        writeSystemTime(domain, now);
        domain.events.raiseVirq(EventChannels.VIRQ_TIMER);
    }

    /** The local APIC's one-shot count runs to the earliest deadline of any domain; 0 stops it when there is none. */
    private void programDeadlineTimer(long now) {
        long earliest = Long.MAX_VALUE;
        for (Domain domain : domains) {
            if (domain.alive() && domain.timerDeadline != 0) {
                earliest = Math.min(earliest, domain.timerDeadline);
            }
            if (domain.alive() && domain.pollDeadline != 0) {
                earliest = Math.min(earliest, domain.pollDeadline);
            }
        }
        long count = earliest == Long.MAX_VALUE ? 0 : Math.clamp(earliest - now, 1, 0xFFFF_FFFFL);
        cpu.writePhysical32(LOCAL_APIC + LocalApic.TIMER_INITIAL_COUNT, (int) count);
    }

    /** vcpu_info.time: system time in ns at a TSC value, and the TSC's scale (1 tick per ns here). */
    private void writeSystemTime(Domain domain, long now) {
        int info = domain.sharedInfoFrame << 12;
        int version = memory.readU32(info + 32);
        memory.writeU32(info + 32, version + 1);
        memory.writeU32(info + 40, (int) now);
        memory.writeU32(info + 44, (int) (now >>> 32));
        memory.writeU32(info + 48, (int) now);
        memory.writeU32(info + 52, (int) (now >>> 32));
        memory.writeU32(info + 56, 0x80000000); // 0.5 in 32.32, shifted left by 1: one TSC tick is one ns
        memory.writeU8(info + 60, 1);
        memory.writeU32(info + 32, version + 2);
    }

    private void dispatch(int vector) throws DomainCrash {
        if (vector == HYPERCALL_VECTOR) {
            int number = cpu.register(Cpu.EAX);
            if (number >= 0 && number < hypercallCounts.length) {
                if (hypercallCounts[number] == null) {
                    hypercallCounts[number] = counters.counter(Counters.HYPERCALLS,
                            number + " " + Hypercalls.name(number)); // by number, as Xen's perf counters
                }
                hypercallCounts[number].increment();
            }
            current.hypercalls.increment();
            HypervisorEvents.hypercall(number, frame.eip);
            cpu.setRegister(Cpu.EAX, hypercalls.call(number));
            return;
        }
        if (vector >= 32) {
            interrupts.increment();
            if (vector == TIMER_VECTOR) {
                timerTick();
            } else if (vector == DEADLINE_VECTOR) {
                deadlinesDue();
            }
            return;
        }
        if (vector == 7 && (fpuOwner != current || current.virtualTaskSwitched)) {
            deviceNotAvailable();
            return;
        }
        if (vector == 13 && frame.errorCode != 0 && (frame.errorCode & 7) == 2 && isIntN(frame.errorCode >>> 3)) {
            int n = frame.errorCode >>> 3;
            softwareInterrupts.increment();
            if ((current.trapFlags[n] & 3) < (frame.cs & 3)) {
                bounce(13, frame.errorCode, frame.eip);
            } else {
                bounce(n, -1, frame.eip + 2);
            }
            return;
        }
        if (vector == 13 && frame.errorCode == 0 && privilegedOps.emulate(frame, current)) {
            return;
        }
        if (bounced[vector] == null) {
            bounced[vector] = counters.counter(Counters.EXITS, CostModel.PV_BOUNCE_PREFIX + Exceptions.name(vector));
        }
        bounced[vector].increment();
        bounce(vector, frame.errorCode, frame.eip);
    }

    private boolean isIntN(int vector) {
        try {
            return guestRead8(frame.eip) == 0xCD && guestRead8(frame.eip + 1) == vector;
        } catch (DomainCrash unreadable) {
            return false;
        }
    }

    /**
     * Bounces an exception to the guest's handler ([X32] x86_32/entry.S create_bounce_frame): on the current ring-1
     * stack, or the kernel stack from stack_switch when the guest was in ring 3 (SS and ESP pushed first); then
     * EFLAGS with IF = not the saved event mask, CS with that mask in bits 23:16, EIP, the error code if any; a page
     * fault also pushes CR2 below it, the paper's extended frame, and writes it to vcpu_info.arch.cr2 (Xen 3).
     */
    void bounce(int vector, int errorCode, int returnEip) throws DomainCrash {
        current.bouncedTraps.increment();
        int handler = current.trapAddress[vector];
        if (handler == 0) {
            throw new DomainCrash("no handler for vector " + vector + " (error 0x" + Integer.toHexString(errorCode)
                    + ") at 0x" + Integer.toHexString(frame.eip));
        }
        bounceTo(handler, current.trapSelector[vector], errorCode, returnEip, (current.trapFlags[vector] & 4) != 0,
                vector == 14);
    }

    /** A bounce frame to {@code handler} (see {@link #bounce}); the event callback's too, which masks events. */
    private void bounceTo(int handler, int selector, int errorCode, int returnEip, boolean maskEvents,
            boolean pageFault) throws DomainCrash {
        int sharedInfo = current.sharedInfoFrame << 12;
        int mask = memory.readU8(sharedInfo + 1);
        int esp = frame.esp, ss = frame.ss;
        if ((frame.cs & 3) == 3) {
            esp = push(current.kernelStackPointer, ss);
            esp = push(esp, frame.esp);
            ss = current.kernelStackSegment;
        }
        esp = push(esp, (frame.eflags & ~(IF | IOPL)) | (mask == 0 ? IF : 0));
        esp = push(esp, frame.cs | mask << 16);
        esp = push(esp, returnEip);
        if (errorCode != -1) {
            esp = push(esp, errorCode);
        }
        if (pageFault) {
            int cr2 = cpu.cr(2);
            esp = push(esp, cr2);
            memory.writeU32(sharedInfo + 8, cr2);
        }
        if (maskEvents) {
            memory.writeU8(sharedInfo + 1, 1);
        }
        frame.eip = handler;
        frame.cs = selector | 1;
        frame.eflags = (frame.eflags & ~(TF | VM | RF | NT | IOPL)) | IF;
        frame.esp = esp;
        frame.ss = ss;
    }

    private int push(int esp, int value) throws DomainCrash {
        esp -= 4;
        guestWrite32(esp, value);
        return esp;
    }

    // ---- guest memory through the domain's own page tables ----

    /** The machine address of a guest virtual address, walked through the current L2; null-like -1 if unmapped. */
    int translate(int virtual, boolean write) {
        if (Integer.compareUnsigned(virtual, XenLayout.HYPERVISOR_VIRT_START) >= 0) {
            return -1;
        }
        int l2 = cpu.cr(3) & ~0xFFF;
        int pde = memory.readU32(l2 + (virtual >>> 22) * 4);
        if ((pde & 1) == 0) {
            return -1;
        }
        int pte = memory.readU32((pde & ~0xFFF) + ((virtual >>> 12) & 0x3FF) * 4);
        if ((pte & 1) == 0 || write && (pte & 2) == 0) {
            return -1;
        }
        return (pte & ~0xFFF) | (virtual & 0xFFF);
    }

    int guestRead32(int virtual) throws DomainCrash {
        if ((virtual & 0xFFF) <= 0xFFC) {
            return memory.readU32(checked(virtual, false));
        }
        return guestRead8(virtual) | guestRead8(virtual + 1) << 8 | guestRead8(virtual + 2) << 16
                | guestRead8(virtual + 3) << 24;
    }

    int guestRead8(int virtual) throws DomainCrash {
        return memory.readU8(checked(virtual, false));
    }

    void guestWrite32(int virtual, int value) throws DomainCrash {
        int machine = checked(virtual, true);
        if ((virtual & 0xFFF) > 0xFFC) {
            throw new DomainCrash("a split write at 0x" + Integer.toHexString(virtual));
        }
        cpu.writePhysical32(machine, value);
    }

    private int checked(int virtual, boolean write) throws DomainCrash {
        int machine = translate(virtual, write);
        if (machine == -1) {
            throw new DomainCrash("guest address 0x" + Integer.toHexString(virtual) + " is not "
                    + (write ? "writable" : "mapped"));
        }
        return machine;
    }

    // ---- ending ----

    /**
     * SCHEDOP_shutdown: the domain ends; its ports close (its peers' ends become unbound) and it never runs again.
     * With several domains Xen says so on its console. When the last one ends the machine powers off with the
     * first domain's lab exit value for its reason (poweroff 10h, crash 12h, other 11h).
     */
    void shutdown(int reason) {
        end(current, reason);
    }

    private void end(Domain domain, int reason) {
        if (!domain.alive()) {
            return;
        }
        domain.console.flush();
        domain.shutdownReason = reason;
        domain.events.closeAll();
        scheduler.remove(domain.vcpu);
        rescheduleDue = true;
        if (domains.size() > 1) {
            xenConsole("(XEN) domain " + domain.id + " shut down: " + switch (reason) {
                case 0 -> "poweroff";
                case 1 -> "reboot";
                case 2 -> "suspend";
                case Domain.SHUTDOWN_CRASH -> "crash";
                default -> "reason " + reason;
            } + "\n");
        }
        if (domains.stream().anyMatch(Domain::alive)) {
            relinquishResources(domain);
        } else {
            int first = domains.getFirst().shutdownReason;
            cpu.outPort(DebugExit.DEFAULT_IOBASE, 1, first == 0 ? 0x10 : first == Domain.SHUTDOWN_CRASH ? 0x12 : 0x11);
        }
    }

    /**
     * A dead domain's frames back to Xen's free pool while others run (domain_kill, domain_relinquish_resources in
     * [X32] xen/common/domain.c and xen/arch/x86/domain.c): its references let go, its M2P entries invalid again.
     * If its tables are loaded, the CPU first moves to Xen's idle_pg_table, as Xen's idle vCPU runs on it.
     */
    private void relinquishResources(Domain domain) {
        if (domain == current) {
            cpu.writeControlRegister(3, layout.physical(XenLayout.IDLE_PAGE_TABLE));
        }
        int m2p = layout.physical(XenLayout.M2P);
        int freed = mm.relinquish(domain.id, domain.baseTable, domain.gdtFrames,
                mfn -> memory.writeU32(m2p + mfn * 4, -1)); // INVALID_M2P_ENTRY
        domain.baseTable = -1;
        domain.gdtFrames = new int[0];
        domain.gdtEntries = 0;
        domain.currentPages = 0;
        domain.framesFreed.add(freed);
    }

    /** Xen kills a domain (a fault with no handler, a bad kernel stack): the others run on. */
    private void crash(Domain domain, String why) {
        domain.console.flush();
        xenConsole("(XEN) domain " + domain.id + " crashed: " + why + "\n");
        end(domain, Domain.SHUTDOWN_CRASH);
    }

    /**
     * Destroys a domain, as {@code xl destroy} does from the toolstack: at Xen's next entry (the next tick at the
     * latest) it ends as crashed, and the others run on.
     */
    void destroy(int domainId) {
        domains.get(domainId - 1).destroyRequested = true;
        destroyRequested = true;
    }

    private void destroyRequestedDomains() {
        destroyRequested = false;
        for (Domain doomed : domains) {
            if (doomed.destroyRequested) {
                doomed.destroyRequested = false;
                if (doomed.alive()) {
                    xenConsole("(XEN) domain " + doomed.id + " destroyed\n");
                    end(doomed, Domain.SHUTDOWN_CRASH);
                }
            }
        }
    }

    /**
     * CONSOLEIO_write of the current domain. Alone, its bytes go to the console as they come; beside others each
     * line goes out whole behind "(dN) " ({@link DomainConsole}).
     */
    void consoleWrite(int b) {
        if (domains.size() == 1) {
            serialOut(b);
        } else {
            current.console.write(b);
        }
    }

    private void serialOut(int b) {
        cpu.outPort(0x3F8, 1, b);
    }

    private void xenConsole(String text) {
        for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
            serialOut(b & 0xFF);
        }
    }

    /** The domain did something Xen kills it for (no handler, a bad kernel stack). */
    static final class DomainCrash extends Exception {
        DomainCrash(String why) {
            super(why, null, false, false);
        }
    }
}

package hvlab.example.trapemulate;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.memory.PhysicalMemory;

/**
 * The GDT, IDT and TSS the real CPU uses while the guest runs. The GDT is the guest's, rewritten for ring
 * compression: its ring-0 segments become ring-1 segments cut below the monitor, its task-state segments and task
 * gates become not-present so every task switch traps; the monitor's own code, data and TSS descriptors follow the
 * guest's. Every IDT vector leads to the monitor. The guest's GDT and TSS frames are traced, so this copy follows
 * every write to them.
 */
final class ShadowDescriptorTables {
    static final int BOOT_CODE = 0x08, BOOT_DATA = 0x10;
    private static final int TSS_SS0 = 8, TSS_ESP0 = 4, TSS_SS1 = 16, TSS_ESP1 = 12, TSS_IOMAP = 0x66;

    private final PhysicalMemory memory;
    private final Cpu cpu;
    private final MonitorLayout layout;
    private final VirtualCpu vcpu;
    private final GuestMemory guest;
    private int guestEntries;

    ShadowDescriptorTables(PhysicalMemory memory, Cpu cpu, MonitorLayout layout, VirtualCpu vcpu, GuestMemory guest) {
        this.memory = memory;
        this.cpu = cpu;
        this.layout = layout;
        this.vcpu = vcpu;
        this.guest = guest;
    }

    int monitorCode() {
        return guestEntries * 8;
    }

    int monitorData() {
        return guestEntries * 8 + 8;
    }

    private int monitorTss() {
        return guestEntries * 8 + 16;
    }

    /** Copies the guest's GDT (or, before its first LGDT, the flat boot segments) and loads GDTR, IDTR and TR. */
    void rebuild() {
        int entries = !vcpu.gdtLoaded ? 3 : Math.min((vcpu.gdtLimit + 1) >>> 3, 8189);
        boolean moved = entries != guestEntries;
        guestEntries = entries;
        int gdt = layout.physical(MonitorLayout.GDT);
        for (int i = 0; i < entries; i++) {
            long descriptor = !vcpu.gdtLoaded ? bootDescriptor(i) : guestDescriptor(i * 8);
            writeDescriptor(gdt + i * 8, compress(descriptor));
        }
        writeDescriptor(gdt + monitorCode(), 0x00CF9B000000FFFFL);
        writeDescriptor(gdt + monitorData(), 0x00CF93000000FFFFL);
        int tssLinear = MonitorLayout.linear(MonitorLayout.TSS);
        writeDescriptor(gdt + monitorTss(), segmentDescriptor(tssLinear, 0x67, 0x0089));
        cpu.loadGdtr(MonitorLayout.linear(MonitorLayout.GDT), entries * 8 + 24 - 1);
        if (moved) {
            buildIdt();
            cpu.loadTaskRegister(monitorTss());
        }
        syncStacks();
    }

    private void buildIdt() {
        int idt = layout.physical(MonitorLayout.IDT);
        int entry = MonitorLayout.linear(MonitorLayout.ENTRY_PAGE);
        for (int vector = 0; vector < 256; vector++) {
            int offset = entry + vector * MonitorLayout.ENTRY_STRIDE;
            memory.writeU32(idt + vector * 8, monitorCode() << 16 | (offset & 0xFFFF));
            memory.writeU32(idt + vector * 8 + 4, (offset & 0xFFFF0000) | 0x8E00); // interrupt gate, DPL 0
        }
        cpu.loadIdtr(MonitorLayout.linear(MonitorLayout.IDT), 256 * 8 - 1);
    }

    /** The real TSS: ring 0 is the monitor's stack; ring 1 is the guest kernel's, from the guest's TSS. */
    void syncStacks() {
        int tss = layout.physical(MonitorLayout.TSS);
        memory.writeU32(tss + TSS_ESP0, MonitorLayout.linear(MonitorLayout.STACK_TOP));
        memory.writeU32(tss + TSS_SS0, monitorData());
        if (vcpu.trSelector != 0 && vcpu.trLimit >= 0x67) {
            try {
                memory.writeU32(tss + TSS_ESP1, guest.read32(vcpu.trBase + TSS_ESP0));
                memory.writeU32(tss + TSS_SS1, guest.read16(vcpu.trBase + TSS_SS0) | 1);
            } catch (GuestFault unmapped) {
                memory.writeU32(tss + TSS_SS1, 0); // a ring-1 entry through a call gate then faults, as it would
            }
        }
        memory.writeU16(tss + TSS_IOMAP, 0x68); // no I/O bitmap: every port access below IOPL traps
    }

    /** The guest's descriptor at a GDT offset, or 0 when its GDT is not mapped there. */
    long guestDescriptor(int offset) {
        try {
            return (guest.read32(vcpu.gdtBase + offset) & 0xFFFFFFFFL)
                    | (long) guest.read32(vcpu.gdtBase + offset + 4) << 32;
        } catch (GuestFault unmapped) {
            return 0;
        }
    }

    private static long bootDescriptor(int index) {
        return switch (index) {
            case 1 -> 0x00CF9B000000FFFFL; // what a Multiboot loader leaves in CS and DS
            case 2 -> 0x00CF93000000FFFFL;
            default -> 0;
        };
    }

    /** Ring compression of one descriptor (the guest's DPL 0 becomes DPL 1; see the class comment). */
    static long compress(long descriptor) {
        int hi = (int) (descriptor >>> 32), lo = (int) descriptor;
        if ((hi & 0x8000) == 0) {
            return descriptor;
        }
        if ((hi & 0x1000) == 0) { // system descriptor
            int type = (hi >>> 8) & 0xF;
            boolean tss = type == 1 || type == 3 || type == 9 || type == 11;
            return tss || type == 5 ? descriptor & ~(1L << 47) : descriptor;
        }
        if ((hi & 0x6000) == 0) {
            hi |= 0x2000;
        }
        long base = (hi & 0xFF000000L) | (hi & 0xFF) << 16 | (lo >>> 16);
        long limit = (hi & 0xF0000) | (lo & 0xFFFF);
        boolean pageGranular = (hi & 0x800000) != 0;
        long last = base + (pageGranular ? (limit << 12 | 0xFFF) : limit);
        boolean expandDown = (hi & 0x0C00) == 0x0400;
        if (!expandDown && last >= (MonitorLayout.LINEAR_BASE & 0xFFFFFFFFL)) {
            if (base >= (MonitorLayout.LINEAR_BASE & 0xFFFFFFFFL)) {
                hi &= ~0x8000; // wholly inside the monitor: not present
            } else {
                long allowed = (MonitorLayout.LINEAR_BASE & 0xFFFFFFFFL) - 1 - base;
                limit = pageGranular ? ((allowed + 1) >>> 12) - 1 : allowed;
                if (!pageGranular && limit > 0xFFFFF) {
                    hi |= 0x800000;
                    limit = ((allowed + 1) >>> 12) - 1;
                }
                hi = (hi & ~0xF0000) | (int) (limit & 0xF0000);
                lo = (lo & 0xFFFF0000) | (int) (limit & 0xFFFF);
            }
        }
        return (lo & 0xFFFFFFFFL) | (long) hi << 32;
    }

    static long segmentDescriptor(int base, int limit, int attributes) {
        int lo = base << 16 | (limit & 0xFFFF);
        int hi = (base & 0xFF000000) | (base >>> 16 & 0xFF) | (attributes & 0xF0FF) << 8 | (limit & 0xF0000);
        return (lo & 0xFFFFFFFFL) | (long) hi << 32;
    }

    private void writeDescriptor(int physical, long descriptor) {
        memory.writeU32(physical, (int) descriptor);
        memory.writeU32(physical + 4, (int) (descriptor >>> 32));
    }

    /** The base of a guest segment selector as the guest's own GDT gives it (0 for a null or unreadable one). */
    int guestBase(int selector) {
        if ((selector & 0xFFFC) == 0 || (selector & 4) != 0 || (selector | 7) > (vcpu.gdtLoaded ? vcpu.gdtLimit : 23)) {
            return 0;
        }
        long d = !vcpu.gdtLoaded ? bootDescriptor(selector >>> 3) : guestDescriptor(selector & 0xFFF8);
        int hi = (int) (d >>> 32), lo = (int) d;
        return (hi & 0xFF000000) | (hi & 0xFF) << 16 | (lo >>> 16);
    }

    /** Traces the frames holding the guest's GDT and TSS: a write to them is stepped and this copy refreshed. */
    void traceGuestTables(ShadowPageTables shadow) {
        shadow.untraceAll();
        if (vcpu.gdtLoaded) {
            traceRange(shadow, vcpu.gdtBase, vcpu.gdtLimit);
        }
        if (vcpu.trSelector != 0) {
            traceRange(shadow, vcpu.trBase, Math.max(vcpu.trLimit, 0x67));
        }
        shadow.flush();
    }

    private void traceRange(ShadowPageTables shadow, int base, int limit) {
        if (limit == 0) {
            return;
        }
        for (long page = base & ~0xFFFL; page <= ((base & 0xFFFFFFFFL) + limit); page += 0x1000) {
            try {
                shadow.trace(guest.physical((int) page, false, false) & ~0xFFF);
            } catch (GuestFault unmapped) {
                // not mapped yet: nothing to trace until the guest maps it and loads the register again
            }
        }
    }
}

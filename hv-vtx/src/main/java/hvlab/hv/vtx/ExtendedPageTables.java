package hvlab.hv.vtx;

import hvlab.hv.vtx.devices.VirtualDevices;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.vmx.VmxCapabilities;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;

/**
 * EPT (../shared/reference/vtx-ept.md; SDM Vol. 3C 28.2): the processor walks the guest's own page tables and then
 * these, which map guest-physical to physical. The guest owns its CR3, its paging bits and its #PFs; nothing about
 * its paging exits. With unrestricted guest (26.3.1.1) it also runs with paging off as the loader left it.
 *
 * <p>The map, built once in the hypervisor's memory: guest RAM onto the VM's range of machine RAM ({@link
 * GuestRam}) with 2-MByte pages (write-back), the
 * device space above RAM one to one and uncacheable except the two APIC pages, which belong to the VM's virtual
 * APICs: the I/O APIC's stays unmapped, and each access there is an EPT violation the hypervisor emulates ({@link
 * DeviceExits}); the local APIC's maps to the APIC-access page, where the processor virtualizes the guest's TPR
 * accesses and makes every other access an APIC-access exit (SDM Vol. 3C 29.4; "FlexPriority"); and the rest of the machine's RAM (other VMs', the hypervisor's) not mapped at all. A guest access
 * there is an EPT violation, resolved as the shadow mode resolves such a mapping: the page becomes {@link
 * GuestRam#NOTHING_THERE}'s, so the guest reads all ones and its writes go nowhere, as on a machine without that RAM,
 * and the other VMs and the hypervisor's structures stay out of its reach. A 2-MByte region that hidden RAM or an
 * APIC page shares with mapped space has 4-KByte pages.
 *
 * <p>CR0 and CR4 keep what VMX operation fixes: the masks give the hypervisor NE and VMXE, whose read shadows show
 * the guest its own values; every other bit is the guest's.
 */
final class ExtendedPageTables implements MemoryVirtualization {
    static final int CR0_MASK = Cpu.CR0_NE; // PE and PG are exempt with unrestricted guest (26.3.1.1)
    static final int CR4_MASK = VmxCapabilities.CR4_FIXED0;
    // EPT entry bits (28.2.2, Tables 28-1 to 28-6) and memory types (28.2.6).
    private static final long RWX = 7, PAGE = 1 << 7, WB = 6 << 3, UC = 0;
    private static final int LARGE = 2 << 20, SMALL = 0x1000;
    /** The EPTP (24.6.11): write-back paging structures, a 4-level walk, accessed and dirty flags. */
    private static final long EPTP_WB = 6, EPTP_WALK_4 = 3 << 3, EPTP_ACCESSED_DIRTY = 1 << 6;
    /** INVVPID types (30.3). */
    private static final int SINGLE_CONTEXT = 1, SINGLE_CONTEXT_RETAINING_GLOBALS = 3;
    /**
     * CR0 and CR4 bits whose change invalidates the guest's translations (SDM Vol. 3A 4.10.4.1): a write the
     * hypervisor emulates (it exited for NE or VMXE) does for the guest's VPID what the guest's MOV would have done.
     */
    private static final int PAGING_CR0 = Cpu.CR0_PG | Cpu.CR0_WP | Cpu.CR0_PE,
            PAGING_CR4 = Cpu.CR4_PGE | Cpu.CR4_PSE | Cpu.CR4_PAE;

    private final PhysicalMemory memory;
    private final CurrentVmcs vmcs;
    private final GuestRam ram;
    /** The VM's own VPID (24.6.2): its translations are tagged, so no VM entry or exit flushes them. */
    private final int vpid;
    private final int area, areaPages, apicAccessPage;
    private int used;
    /** The page directories for guest-physical 0-1, 1-2, 2-3 and 3-4 GiB. */
    private final int[] directories = new int[4];
    private final ControlRegisterShadows shadows;
    private final Counter hiddenPages;

    ExtendedPageTables(PhysicalMemory memory, CurrentVmcs vmcs, VmmLayout layout, GuestRam ram, int vpid,
            Counters counters) {
        if (vpid < 1 || vpid > 0xFFFF) {
            throw new IllegalArgumentException("VPID " + vpid + " (1 to FFFFh; 0 is the host's)");
        }
        this.memory = memory;
        this.vmcs = vmcs;
        this.ram = ram;
        this.vpid = vpid;
        this.area = layout.at(VmmLayout.MEMORY_MODE_AREA);
        this.apicAccessPage = layout.at(VmmLayout.APIC_ACCESS_PAGE);
        this.areaPages = (VmmLayout.SIZE - VmmLayout.MEMORY_MODE_AREA) / SMALL;
        this.shadows = new ControlRegisterShadows(vmcs, CR0_MASK, CR4_MASK);
        this.hiddenPages = counters.counter("EPT", "violations: RAM not the VM's, mapped to nothing");
    }

    @Override
    public int processorControls() {
        return PROC_SECONDARY_CONTROLS | PROC_TPR_SHADOW;
    }

    /** With a VPID the guest's cached translations survive its exits (SDM Vol. 3C 28.3.3.3). */
    @Override
    public int secondaryControls() {
        return PROC2_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_VPID | PROC2_VIRTUALIZE_APIC_ACCESSES;
    }

    @Override
    public int apicAccessPage() {
        return apicAccessPage;
    }

    @Override
    public int exceptionBitmap() {
        return 0;
    }

    @Override
    public void start(int cr0, int cr3, int cr4) {
        vmcs.write(EPT_POINTER, build());
        vmcs.write(VPID, vpid);
        shadows.writeMasks();
        vmcs.write(GUEST_CR3, cr3 & 0xFFFFFFFFL);
        shadows.loadCr0(cr0, cr0 | CR0_MASK);
        shadows.loadCr4(cr4, cr4 | CR4_MASK);
    }

    /** Builds the map and returns its EPTP. PML4 entry 0, PDPT entries 0-3: 32 bits need no more (28.2.2). */
    long build() {
        used = 0;
        int pml4 = table(), pdpt = table();
        writeEntry(pml4, pdpt | RWX);
        for (int d = 0; d < 4; d++) {
            directories[d] = table();
            writeEntry(pdpt + d * 8, directories[d] | RWX);
        }
        long guestEnd = ram.size() & 0xFFFFFFFFL, machineEnd = ram.machineRam() & 0xFFFFFFFFL;
        for (long region = 0; region < 1L << 32; region += LARGE) {
            boolean whole = (region + LARGE <= guestEnd || region >= machineEnd) && !holdsDevicePage(region);
            if (whole) {
                writeEntry(directoryEntry((int) region), (ram.machineAddress((int) region) & 0xFFFFFFFFL) | PAGE
                        | memoryType((int) region) | RWX);
                continue;
            }
            for (long page = region; page < region + LARGE; page += SMALL) {
                if (page == LocalApic.DEFAULT_BASE) {
                    map((int) page, apicAccessPage);
                } else if (!ram.isHidden((int) page) && !VirtualDevices.isDevicePage((int) page)) {
                    map((int) page, ram.machineAddress((int) page));
                }
            }
        }
        return pml4 | EPTP_WB | EPTP_WALK_4 | EPTP_ACCESSED_DIRTY;
    }

    private static boolean holdsDevicePage(long region) {
        for (long page = region; page < region + LARGE; page += SMALL) {
            if (VirtualDevices.isDevicePage((int) page)) {
                return true;
            }
        }
        return false;
    }

    private long memoryType(int guestPhysical) {
        return Integer.compareUnsigned(guestPhysical, memory.ramSize()) < 0 ? WB : UC;
    }

    private int directoryEntry(int guestPhysical) {
        return directories[guestPhysical >>> 30] + (guestPhysical >>> 21 & 0x1FF) * 8;
    }

    /** Maps one 4-KByte page, giving its 2-MByte region a page table if it has none. */
    private void map(int guestPhysical, int physical) {
        int pde = directoryEntry(guestPhysical);
        long entry = readEntry(pde);
        if ((entry & RWX) == 0) {
            entry = table() | RWX;
            writeEntry(pde, entry);
        } else if ((entry & PAGE) != 0) {
            throw new IllegalStateException("a 2-MByte EPT page over 0x" + Integer.toHexString(guestPhysical));
        }
        int pt = (int) (entry & 0xFFFFF000L);
        writeEntry(pt + (guestPhysical >>> 12 & 0x1FF) * 8,
                (physical & 0xFFFFFFFFL) | memoryType(guestPhysical) | RWX);
    }

    private int table() {
        if (used == areaPages) {
            throw new IllegalStateException("the EPT structures outgrew the hypervisor's memory");
        }
        int table = area + used++ * SMALL;
        for (int k = 0; k < SMALL; k += 4) {
            memory.writeU32(table + k, 0);
        }
        return table;
    }

    private long readEntry(int address) {
        return memory.readU32(address) & 0xFFFFFFFFL | (long) memory.readU32(address + 4) << 32;
    }

    private void writeEntry(int address, long value) {
        memory.writeU32(address, (int) value);
        memory.writeU32(address + 4, (int) (value >>> 32));
    }

    /**
     * Only RAM the VM does not have is unmapped, so a violation is the guest reaching for it: that
     * page goes to physical space nothing decodes, and the access is retried. No INVEPT: the entry was not present,
     * and no cached translation comes of an entry that is not present (28.3, "Creating and Using Cached
     * Translation Information").
     */
    @Override
    public boolean eptViolation(int gpa, long qualification) {
        if (!ram.isHidden(gpa)) {
            return false;
        }
        int page = gpa & ~(SMALL - 1);
        map(page, ram.machineAddress(page));
        hiddenPages.increment();
        return true;
    }

    @Override
    public ControlRegisterShadows controlRegisters() {
        return shadows;
    }

    @Override
    public int guestCr3(int real) {
        return real;
    }

    /**
     * Only writes that change NE or VMXE from their read shadows exit (25.1.3); CR3 accesses never do, but a task
     * switch the hypervisor performs for the guest loads its CR3 here. Each flushes the guest's VPID as the guest's
     * own MOV would have flushed its TLB (28.3.3.1): INVVPID, since the processor saw no MOV.
     */
    @Override
    public void writeControlRegister(int cr, int value) {
        switch (cr) {
            case 0 -> {
                boolean pagingChanged = ((shadows.cr0() ^ value) & PAGING_CR0) != 0;
                shadows.loadCr0(value, value | CR0_MASK);
                if (pagingChanged) {
                    vmcs.invalidateVpid(SINGLE_CONTEXT, vpid);
                }
            }
            case 3 -> {
                vmcs.write(GUEST_CR3, value & 0xFFFFFFFFL);
                boolean globals = (shadows.cr4() & Cpu.CR4_PGE) != 0;
                vmcs.invalidateVpid(globals ? SINGLE_CONTEXT_RETAINING_GLOBALS : SINGLE_CONTEXT, vpid);
            }
            case 4 -> {
                boolean pagingChanged = ((shadows.cr4() ^ value) & PAGING_CR4) != 0;
                shadows.loadCr4(value, value | CR4_MASK);
                if (pagingChanged) {
                    vmcs.invalidateVpid(SINGLE_CONTEXT, vpid);
                }
            }
            default -> throw new IllegalStateException("CR" + cr + " exited with EPT");
        }
    }

    @Override
    public int pageFault(int linear, int errorCode) {
        throw new IllegalStateException("a #PF exited with EPT (the exception bitmap has no #PF)");
    }

    @Override
    public void invalidatePage(int linear) {
        throw new IllegalStateException("INVLPG exited with EPT (INVLPG exiting is off)");
    }
}

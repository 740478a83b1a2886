package hvlab.hv.xenpv.mm;

import hvlab.hw.memory.PhysicalMemory;

import java.util.function.IntConsumer;

import static hvlab.hv.xenpv.mm.XenErrno.EINVAL;

/**
 * Xen's checked page-table management for PV guests ([X32] xen/arch/x86/mm.c): typed frames with reference counts,
 * validation of L1 and L2 frames when they take their type, single-entry updates (mmu_update's
 * MMU_NORMAL_PT_UPDATE), pinning and base pointers. The invariant it keeps: a domain maps only its own frames, and
 * no frame that is a page table or descriptor table is mapped writable.
 */
public final class MemoryManager {
    static final int P = 0x001, RW = 0x002, US = 0x004, PWT = 0x008, PCD = 0x010, A = 0x020, D = 0x040,
            PSE = 0x080, G = 0x100;
    /** Non-PAE L1_DISALLOW_MASK and L2_DISALLOW_MASK: PWT, PCD, PAT/PSE, GLOBAL ([X32] x86_32/page-2level.h). */
    static final int DISALLOWED = PWT | PCD | PSE | G;
    /** Bits an update may change without re-validation: A, D, US, G, AVAIL (the XSA-182 whitelist). */
    static final int FAST_PATH_BITS = A | D | US | G | 0xE00;
    /** L2 slots 1008..1023 (linear FC000000 up) are Xen's ([X32] arch-x86/xen-x86_32.h). */
    public static final int FIRST_XEN_SLOT = 1008;

    private final PhysicalMemory memory;
    private final FrameTable frames;
    /** Xen's own L2 entries (slots 1008..1023), written into every L2 when it is validated; 0 = none. */
    private final int[] xenSlots = new int[1024 - FIRST_XEN_SLOT];

    public MemoryManager(PhysicalMemory memory, FrameTable frames) {
        this.memory = memory;
        this.frames = frames;
    }

    public FrameTable frames() {
        return frames;
    }

    /** Zeroes a frame before Xen gives it to a domain: no domain sees what another left there. */
    public void clearFrame(int mfn) {
        for (int k = 0; k < 4096; k += 4) {
            memory.writeU32((mfn << 12) + k, 0);
        }
    }

    /** What Xen maps in its slots of every address space (its text, data, the read-only M2P). */
    public void setXenSlot(int slot, int entry) {
        xenSlots[slot - FIRST_XEN_SLOT] = entry;
    }

    // ---- references ----

    /** A general reference ([X32] get_page): the frame must exist and belong to the domain. */
    boolean getPage(int mfn, int domain) {
        if (!frames.exists(mfn) || frames.owner(mfn) != domain) {
            return false;
        }
        frames.addReferences(mfn, 1);
        return true;
    }

    void putPage(int mfn) {
        frames.addReferences(mfn, -1);
    }

    /**
     * A type reference ([X32] get_page_type): the type may change only at type count 0, and L1, L2 and descriptor
     * frames are validated then. The type is set (count 1) before validation, so the frame's own entries cannot
     * map it writable while it is being checked.
     */
    boolean getPageType(int mfn, PageType type, int domain) {
        if (frames.typeCount(mfn) > 0) {
            if (frames.type(mfn) != type) {
                return false;
            }
            frames.addTypeCount(mfn, 1);
            return true;
        }
        frames.setType(mfn, type, 1, false);
        boolean valid = switch (type) {
            case L1_PAGE_TABLE -> validateL1(mfn, domain);
            case L2_PAGE_TABLE -> validateL2(mfn, domain);
            case SEGMENT_DESCRIPTORS -> validateDescriptors(mfn);
            default -> true;
        };
        if (!valid) {
            frames.setType(mfn, PageType.NONE, 0, false);
            return false;
        }
        frames.setType(mfn, type, 1, true);
        return true;
    }

    /** Drops a type reference; a page table whose count reaches 0 releases what its entries held. */
    void putPageType(int mfn) {
        frames.addTypeCount(mfn, -1);
        if (frames.typeCount(mfn) == 0 && frames.validated(mfn)) {
            switch (frames.type(mfn)) {
                case L1_PAGE_TABLE -> {
                    for (int i = 0; i < 1024; i++) {
                        putL1Entry(entry(mfn, i));
                    }
                }
                case L2_PAGE_TABLE -> {
                    for (int i = 0; i < FIRST_XEN_SLOT; i++) {
                        putL2Entry(entry(mfn, i));
                    }
                }
                default -> { }
            }
            frames.setType(mfn, frames.type(mfn), 0, false);
        }
    }

    // ---- entries ----

    /** An L1 entry's references ([X32] get_page_from_l1e): own frame, no cache or global bits, RW takes WRITABLE. */
    boolean getL1Entry(int entry, int domain) {
        if ((entry & P) == 0) {
            return true;
        }
        if ((entry & DISALLOWED & ~PSE) != 0 || (entry & PSE) != 0) {
            return false;
        }
        int mfn = entry >>> 12;
        if (!getPage(mfn, domain)) {
            return false;
        }
        if ((entry & RW) != 0 && !getPageType(mfn, PageType.WRITABLE, domain)) {
            putPage(mfn);
            return false;
        }
        return true;
    }

    void putL1Entry(int entry) {
        if ((entry & P) != 0) {
            int mfn = entry >>> 12;
            if ((entry & RW) != 0) {
                putPageType(mfn);
            }
            putPage(mfn);
        }
    }

    /**
     * An L2 entry's references ([X32] get_page_from_l2e): no 4 MiB pages, cache or global bits, and the target
     * must validate as an L1. Linear (recursive) page tables are not supported, as Linux and Mini-OS use none.
     */
    boolean getL2Entry(int entry, int domain) {
        if ((entry & P) == 0) {
            return true;
        }
        if ((entry & DISALLOWED) != 0) {
            return false;
        }
        int mfn = entry >>> 12;
        if (!getPage(mfn, domain)) {
            return false;
        }
        if (!getPageType(mfn, PageType.L1_PAGE_TABLE, domain)) {
            putPage(mfn);
            return false;
        }
        return true;
    }

    void putL2Entry(int entry) {
        if ((entry & P) != 0) {
            int mfn = entry >>> 12;
            putPageType(mfn);
            putPage(mfn);
        }
    }

    private boolean validateL1(int mfn, int domain) {
        for (int i = 0; i < 1024; i++) {
            if (!getL1Entry(entry(mfn, i), domain)) {
                for (int k = 0; k < i; k++) {
                    putL1Entry(entry(mfn, k));
                }
                return false;
            }
        }
        return true;
    }

    private boolean validateL2(int mfn, int domain) {
        for (int i = 0; i < FIRST_XEN_SLOT; i++) {
            if (!getL2Entry(entry(mfn, i), domain)) {
                for (int k = 0; k < i; k++) {
                    putL2Entry(entry(mfn, k));
                }
                return false;
            }
        }
        installXenSlots(mfn);
        return true;
    }

    /** Xen's slots 1008..1023 into an L2: every address space has Xen in its top 64 MiB. */
    public void installXenSlots(int mfn) {
        for (int slot = FIRST_XEN_SLOT; slot < 1024; slot++) {
            memory.writeU32((mfn << 12) + slot * 4, xenSlots[slot - FIRST_XEN_SLOT]);
        }
    }

    private boolean validateDescriptors(int mfn) {
        for (int i = 0; i < 512; i++) {
            int lo = memory.readU32((mfn << 12) + i * 8), hi = memory.readU32((mfn << 12) + i * 8 + 4);
            if (DescriptorCheck.check(lo, hi) == DescriptorCheck.REJECTED) {
                return false;
            }
        }
        return true;
    }

    private int entry(int mfn, int index) {
        return memory.readU32((mfn << 12) + index * 4);
    }

    // ---- hypercall operations ----

    /**
     * MMU_NORMAL_PT_UPDATE ([X32] do_mmu_update, mod_l1_entry, mod_l2_entry): writes {@code value} to the entry at
     * machine address {@code pointer} of a frame the domain owns, validated as its frame's type requires.
     */
    public int updateEntry(int domain, int pointer, int value) {
        int mfn = pointer >>> 12, index = (pointer & 0xFFF) >>> 2;
        if (!frames.exists(mfn) || frames.owner(mfn) != domain) {
            return EINVAL;
        }
        int address = pointer & ~3;
        int old = memory.readU32(address);
        PageType type = frames.typeCount(mfn) > 0 ? frames.type(mfn) : PageType.NONE;
        switch (type) {
            case L1_PAGE_TABLE -> {
                if (onlyFastPathBitsDiffer(old, value)) {
                    memory.writeU32(address, value);
                    return 0;
                }
                if (!getL1Entry(value, domain)) {
                    return EINVAL;
                }
                memory.writeU32(address, value);
                putL1Entry(old);
            }
            case L2_PAGE_TABLE -> {
                if (index >= FIRST_XEN_SLOT) {
                    return EINVAL; // the Xen-private area
                }
                if (onlyFastPathBitsDiffer(old, value)) {
                    memory.writeU32(address, value);
                    return 0;
                }
                if (!getL2Entry(value, domain)) {
                    return EINVAL;
                }
                memory.writeU32(address, value);
                putL2Entry(old);
            }
            default -> {
                if (!getPageType(mfn, PageType.WRITABLE, domain)) {
                    return EINVAL; // a descriptor table (or a frame typed otherwise): never written as data
                }
                memory.writeU32(address, value);
                putPageType(mfn);
            }
        }
        return 0;
    }

    private static boolean onlyFastPathBitsDiffer(int old, int value) {
        return (old & P) != 0 && (value & P) != 0 && ((old ^ value) & ~FAST_PATH_BITS) == 0;
    }

    /**
     * update_descriptor ([X32] do_update_descriptor): one checked descriptor into a frame the domain owns that is a
     * descriptor table or may be written (never a page table).
     */
    public int updateDescriptor(int domain, int machineAddress, int lo, int hi) {
        int mfn = machineAddress >>> 12;
        if ((machineAddress & 7) != 0 || !frames.exists(mfn) || frames.owner(mfn) != domain) {
            return EINVAL;
        }
        long checked = DescriptorCheck.check(lo, hi);
        if (checked == DescriptorCheck.REJECTED) {
            return EINVAL;
        }
        boolean descriptorTable = frames.typeCount(mfn) > 0 && frames.type(mfn) == PageType.SEGMENT_DESCRIPTORS;
        if (!descriptorTable && !getPageType(mfn, PageType.WRITABLE, domain)) {
            return EINVAL;
        }
        memory.writeU32(machineAddress, (int) checked);
        memory.writeU32(machineAddress + 4, (int) (checked >>> 32));
        if (!descriptorTable) {
            putPageType(mfn);
        }
        return 0;
    }

    /** A descriptor-table type reference on a frame of the domain (set_gdt), validated as Xen does. */
    public boolean getDescriptorTable(int domain, int mfn) {
        if (!getPage(mfn, domain)) {
            return false;
        }
        if (!getPageType(mfn, PageType.SEGMENT_DESCRIPTORS, domain)) {
            putPage(mfn);
            return false;
        }
        return true;
    }

    public void putDescriptorTable(int mfn) {
        putPageType(mfn);
        putPage(mfn);
    }

    /** MMUEXT_PIN_L1_TABLE / MMUEXT_PIN_L2_TABLE: validate and keep the type while pinned. */
    public int pin(int domain, int mfn, PageType type) {
        if (!frames.exists(mfn) || frames.pinned(mfn) || !getPage(mfn, domain)) {
            return EINVAL;
        }
        if (!getPageType(mfn, type, domain)) {
            putPage(mfn);
            return EINVAL;
        }
        frames.setPinned(mfn, true);
        return 0;
    }

    /** MMUEXT_UNPIN_TABLE. */
    public int unpin(int domain, int mfn) {
        if (!frames.exists(mfn) || frames.owner(mfn) != domain || !frames.pinned(mfn)) {
            return EINVAL;
        }
        frames.setPinned(mfn, false);
        putPageType(mfn);
        putPage(mfn);
        return 0;
    }

    /**
     * MMUEXT_NEW_BASEPTR: the frame must validate as an L2, which the new base holds by reference; the old base's
     * references are dropped. Returns 0 or -EINVAL; {@code oldBase} is -1 when there was none.
     */
    public int newBase(int domain, int mfn, int oldBase) {
        if (!getPage(mfn, domain)) {
            return EINVAL;
        }
        if (!getPageType(mfn, PageType.L2_PAGE_TABLE, domain)) {
            putPage(mfn);
            return EINVAL;
        }
        if (oldBase >= 0) {
            putPageType(oldBase);
            putPage(oldBase);
        }
        return 0;
    }

    /**
     * A dead domain's memory back to Xen ([X32] xen/arch/x86/domain.c domain_relinquish_resources and
     * relinquish_memory, called from xen/common/domain.c domain_kill): its pinned tables unpinned, its base table
     * and descriptor tables let go, which drops every type and general reference their entries held; then each
     * frame it owns goes back to the free pool, told to {@code freed}. Returns how many frames that was.
     */
    public int relinquish(int domain, int baseTable, int[] descriptorTables, IntConsumer freed) {
        for (int mfn = 0; mfn < frames.frames(); mfn++) {
            if (frames.owner(mfn) == domain && frames.pinned(mfn)) {
                unpin(domain, mfn);
            }
        }
        if (baseTable >= 0) {
            putPageType(baseTable);
            putPage(baseTable);
        }
        for (int mfn : descriptorTables) {
            putDescriptorTable(mfn);
        }
        int count = 0;
        for (int mfn = 0; mfn < frames.frames(); mfn++) {
            if (frames.owner(mfn) == domain) {
                frames.free(mfn);
                freed.accept(mfn);
                count++;
            }
        }
        return count;
    }
}

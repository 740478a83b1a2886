package hvlab.hw.cpu;

import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.cpu.vmx.VmxCapabilities;
import hvlab.hw.memory.PhysicalMemory;

/**
 * The extended page tables (SDM Vol. 3C, 28.2): the 4-level walk that translates a guest-physical address into a
 * physical one in VMX non-root operation with "enable EPT", its misconfigurations and violations (28.2.3), and the
 * accessed and dirty flags for EPT (28.2.4). Only {@link Mmu}'s slow path calls it, and only while a guest runs with
 * EPT: the native path never sees this class.
 *
 * <p>A translation that fails performs the EPT-induced VM exit itself (exit 48 or 49, 27.2.1) and unwinds the
 * instruction like any fault does. A successful one leaves the rights a TLB entry may grant in {@link #tlbRights}.
 */
final class Ept {
    /** Kinds of access; also exit qualification bits 0-2 of an EPT violation (27.2.1, Table 27-7). */
    static final int READ = 1, WRITE = 2, FETCH = 4;

    // EPT paging-structure entry bits (28.2.2, Tables 28-1 to 28-6).
    static final long R = 1, W = 2, X = 4, PAGE_SIZE = 1 << 7, ACCESSED = 1 << 8, DIRTY = 1 << 9;
    /** Bits 51:N of every entry (N = 32, the physical-address width) are reserved. */
    private static final long BEYOND_WIDTH = 0x000FFFFF00000000L;
    private static final long ADDRESS = 0xFFFFF000L;
    /** Reserved bits by level (1 = PT .. 4 = PML4) of an entry that references a table, and of one that maps a page. */
    private static final long[] TABLE_RESERVED = {0, 0, 0x78, 0x78, 0xF8};
    private static final long[] PAGE_RESERVED = {0, 0, 0x1FF000, 0x3FFFF000L, 0};

    // Exit qualification bits of an EPT violation besides the access (27.2.1, Table 27-7).
    static final int READABLE = 1 << 3, WRITABLE = 1 << 4, EXECUTABLE = 1 << 5, LINEAR_VALID = 1 << 7,
            FINAL_TRANSLATION = 1 << 8;

    private final Cpu c;
    private final PhysicalMemory memory;
    private final Mmu mmu;

    /** The EPT pointer in use (24.6.11): the PML4 table's address, and whether the A/D flags are on (EPTP[6]). */
    private int pml4;
    private boolean accessedDirty;

    /**
     * Of the last translation: the AND of bits 2:0 over its entries, without W while the A/D flags are on and the
     * leaf's dirty flag is clear, so that the first write walks again to set it (28.2.4).
     */
    int tlbRights;

    /** The entries a walk used (address and value), by level; written back only when the access goes ahead. */
    private final int[] entryAddress = new int[5];
    private final long[] entryValue = new long[5];

    Ept(Cpu cpu, Mmu mmu) {
        this.c = cpu;
        this.memory = cpu.memory;
        this.mmu = mmu;
    }

    /** Takes the EPTP a VM entry (or VMFUNC) leaves in the VMCS; VM entry has checked it (26.2.1.1). */
    void load(long eptp) {
        pml4 = (int) (eptp & ADDRESS);
        accessedDirty = (eptp & 1 << 6) != 0;
    }

    /**
     * Accesses to the guest's own paging structures: reads, treated as writes when the A/D flags for EPT are on
     * (28.2.3.2, 28.2.4), which then sets both bits 0 and 1 of a violation's qualification (Table 27-7).
     */
    int pagingStructureAccess() {
        return accessedDirty ? READ | WRITE : READ;
    }

    /**
     * Translates {@code gpa} for an access of kind {@code access} (READ, WRITE, FETCH, or READ | WRITE for a guest
     * paging-structure read under A/D) made while translating {@code linear}, either for that address's final
     * translation or for a guest paging-structure entry. Returns the physical address, or performs the VM exit.
     *
     * <p>Order (28.2.2, 28.2.3): the walk stops at a not-present entry (bits 2:0 = 000) or at a misconfigured one,
     * which makes the access an EPT misconfiguration, whatever rights the entries above it lacked; otherwise a
     * not-present entry or a right missing from any entry used makes it an EPT violation. Only an access that goes ahead sets the accessed flags of the entries and
     * the dirty flag of the leaf (28.2.4).
     */
    int translate(int gpa, int access, int linear, boolean finalTranslation) {
        c.counters.eptWalks++;
        long address = gpa & 0xFFFFFFFFL;
        int table = pml4;
        int and = 7;
        int level = 4;
        long entry;
        while (true) {
            int at = table + (int) ((address >>> (9 * level)) & 0xFF8); // bits 47:39, 38:30, 29:21, 20:12, times 8
            entry = readEntry(at);
            entryAddress[level] = at;
            entryValue[level] = entry;
            int present = (int) entry & 7;
            and &= present;
            if (present == 0) {
                break;
            }
            boolean leaf = level == 1 || (level == 2 || level == 3) && (entry & PAGE_SIZE) != 0;
            if (misconfigured(entry, level, leaf)) {
                throw c.vmx.exit.eptExit(ExitReason.EPT_MISCONFIGURATION, 0, gpa, linear);
            }
            if (leaf) {
                break;
            }
            table = (int) (entry & ADDRESS);
            level--;
        }
        int required = access == FETCH ? 4 : access & 3; // READ, WRITE or both (Table 27-7 bits 0-2)
        if ((entry & 7) == 0 || (and & required) != required) {
            long qualification = access | and << 3 | LINEAR_VALID | (finalTranslation ? FINAL_TRANSLATION : 0);
            throw c.vmx.exit.eptExit(ExitReason.EPT_VIOLATION, qualification, gpa, linear);
        }
        boolean write = (access & WRITE) != 0;
        if (accessedDirty) {
            for (int l = 4; l >= level; l--) {
                long updated = entryValue[l] | ACCESSED | (l == level && write ? DIRTY : 0);
                if (updated != entryValue[l]) {
                    mmu.writeHostPhysical(entryAddress[l], 4, (int) updated);
                }
            }
        }
        tlbRights = !accessedDirty || write || (entry & DIRTY) != 0 ? and : and & ~(int) W;
        long offsetMask = (1L << (12 + 9 * (level - 1))) - 1;
        return (int) (entry & ADDRESS & ~offsetMask | address & offsetMask);
    }

    private long readEntry(int at) {
        return memory.readU32(at) & 0xFFFFFFFFL | (long) memory.readU32(at + 4) << 32;
    }

    /** 28.2.3.1: write without read, execute-only where unsupported, reserved bits, a reserved memory type. */
    private static boolean misconfigured(long entry, int level, boolean leaf) {
        int rwx = (int) entry & 7;
        if (rwx == 2 || rwx == 6
                || rwx == 4 && (VmxCapabilities.EPT_VPID_CAP & VmxCapabilities.EPT_EXECUTE_ONLY) == 0) {
            return true;
        }
        if ((entry & BEYOND_WIDTH) != 0) {
            return true;
        }
        if (!leaf) {
            return (entry & TABLE_RESERVED[level]) != 0;
        }
        if (level == 3 && (VmxCapabilities.EPT_VPID_CAP & VmxCapabilities.EPT_1GB_PAGES) == 0
                || level == 2 && (VmxCapabilities.EPT_VPID_CAP & VmxCapabilities.EPT_2MB_PAGES) == 0) {
            return true; // bit 7 is reserved where the page size is not supported (A.10)
        }
        int type = (int) (entry >>> 3) & 7;
        return type == 2 || type == 3 || type == 7 || (entry & PAGE_RESERVED[level]) != 0;
    }
}

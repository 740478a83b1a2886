package hvlab.hw.cpu.vmx;

import hvlab.hw.memory.PhysicalMemory;

/**
 * EPT paging structures built in physical memory as a VMM builds them (SDM Vol. 3C, 28.2.2, Tables 28-1 to 28-6):
 * a PML4 table, then tables allocated one page after another. A 32-bit guest-physical address space needs PML4E 0
 * and PDPTEs 0-3 only.
 */
final class EptTables {
    static final long R = 1, W = 2, X = 4, RWX = 7, PAGE = 1 << 7, ACCESSED = 1 << 8, DIRTY = 1 << 9;
    /** Memory type WB in bits 5:3 of a leaf (28.2.6). */
    static final long WB = 6 << 3;

    private final PhysicalMemory memory;
    final int pml4;
    private int next;

    EptTables(PhysicalMemory memory, int base) {
        this.memory = memory;
        this.pml4 = base;
        this.next = base + 0x1000;
        for (int i = 0; i < 0x1000; i += 4) {
            memory.writeU32(base + i, 0);
        }
    }

    /** The EPTP (24.6.11): WB, a 4-level walk (bits 5:3 = 3), A/D flags when asked. */
    long eptp(boolean accessedDirty) {
        return pml4 | 6 | 3 << 3 | (accessedDirty ? 1 << 6 : 0);
    }

    private int newTable() {
        int table = next;
        next += 0x1000;
        for (int i = 0; i < 0x1000; i += 4) {
            memory.writeU32(table + i, 0);
        }
        return table;
    }

    long read(int address) {
        return memory.readU32(address) & 0xFFFFFFFFL | (long) memory.readU32(address + 4) << 32;
    }

    void write(int address, long value) {
        memory.writeU32(address, (int) value);
        memory.writeU32(address + 4, (int) (value >>> 32));
    }

    /** The address of the entry at {@code level} (4 = PML4 .. 1 = PT) for {@code gpa}, creating tables above it. */
    int entry(int level, long gpa) {
        int table = pml4;
        for (int l = 4; l > level; l--) {
            int at = table + (int) ((gpa >>> (12 + 9 * (l - 1))) & 0x1FF) * 8;
            long e = read(at);
            if ((e & 7) == 0 || l < 4 && (e & PAGE) != 0) {
                int created = newTable();
                write(at, created | RWX);
                table = created;
            } else {
                table = (int) (e & 0xFFFFF000L);
            }
        }
        return table + (int) ((gpa >>> (12 + 9 * (level - 1))) & 0x1FF) * 8;
    }

    /** Maps the 4-KByte page at {@code gpa} to {@code hpa} with the given rights (bits 2:0), WB. */
    EptTables map4k(long gpa, long hpa, long rights) {
        write(entry(1, gpa), hpa | WB | rights);
        return this;
    }

    /** Identity-maps [0, size) with 4-KByte pages and all rights. */
    EptTables identity(int size) {
        for (long a = 0; a < size; a += 0x1000) {
            map4k(a, a, RWX);
        }
        return this;
    }

    /** Maps the 2-MByte page at {@code gpa} to {@code hpa} (an EPT PDE with bit 7 set). */
    EptTables map2m(long gpa, long hpa, long rights) {
        write(entry(2, gpa), hpa | PAGE | WB | rights);
        return this;
    }
}

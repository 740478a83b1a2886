package hvlab.example.trapemulate;

/**
 * Where the monitor lives. Like VMware's monitor on IA-32 it takes the top 4 MiB of every linear address space
 * (guest segments are cut below it, so the guest cannot reach it) and the top 4 MiB of RAM, which the guest is
 * never told about.
 */
record MonitorLayout(int physicalBase) {
    static final int LINEAR_BASE = 0xFFC00000;
    static final int SIZE = 4 << 20;

    // Offsets inside the region, the same in linear and physical space.
    static final int SHADOW_DIRECTORY = 0x0000;
    static final int MONITOR_TABLE = 0x1000;
    static final int IDT = 0x2000;
    static final int TSS = 0x3000;
    static final int ENTRY_PAGE = 0x4000;
    static final int STACK_TOP = 0x9000;
    static final int GDT = 0x10000;
    static final int GDT_SIZE = 0x11000;
    static final int TABLE_POOL = 0x21000;

    /** Bytes of interrupt entry per vector in the entry page: vector = offset / 16. */
    static final int ENTRY_STRIDE = 16;

    static MonitorLayout atTopOf(int ramBytes) {
        return new MonitorLayout(ramBytes - SIZE);
    }

    /** The RAM the guest owns: everything below the monitor. */
    int guestRamBytes() {
        return physicalBase;
    }

    int physical(int offset) {
        return physicalBase + offset;
    }

    static int linear(int offset) {
        return LINEAR_BASE + offset;
    }

    int poolPages() {
        return (SIZE - TABLE_POOL) >>> 12;
    }
}

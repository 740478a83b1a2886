package hvlab.hv.xenpv;

/**
 * Where Xen keeps itself: the top 64 MiB of every address space (non-PAE x86_32, HYPERVISOR_VIRT_START FC000000),
 * backed by the top 8 MiB of RAM, which no domain is given. The read-only M2P table is at FC000000 (slot 1008),
 * readable by guest kernels; Xen's GDT, IDT, TSS, stack and entry page are in its direct map at FF000000 (slot
 * 1020), out of reach of guest segments, which end at FC400000.
 */
record XenLayout(int physicalBase, int ramBytes) {
    static final int HYPERVISOR_VIRT_START = 0xFC000000;
    static final int M2P_LINEAR = 0xFC000000, M2P_SLOT = 1008;
    static final int DIRECT_MAP_LINEAR = 0xFF000000, DIRECT_MAP_SLOT = 1020;
    static final int SIZE = 8 << 20;

    // Offsets in Xen's memory, the same in its direct map.
    static final int GDT = 0x00000, IDT = 0x10000, TSS = 0x11000, STACK_TOP = 0x16000, ENTRY_PAGE = 0x16000;
    static final int DIRECT_MAP_TABLE = 0x17000, M2P_TABLE = 0x18000, M2P = 0x19000;
    /** Domain k's shared_info frame is SHARED_INFO + (k - 1) * 4096: after the M2P of the largest RAM (1 GiB). */
    static final int SHARED_INFO = 0x120000;
    /** Xen's idle_pg_table: its own slots and nothing else, for the CPU while no domain's tables may stay loaded. */
    static final int IDLE_PAGE_TABLE = 0x160000;

    /** Selectors of Xen's GDT ([X32] xen/arch/x86/boot/x86_32.S). */
    static final int XEN_CS = 0xE008, XEN_DS = 0xE010, KERNEL_CS = 0xE019, KERNEL_DS = 0xE021, USER_CS = 0xE02B,
            USER_DS = 0xE033, TSS_SELECTOR = 0xE040;

    /** Domains' frames start at 16 MiB: below is the PC's and the firmware's. */
    static final int FIRST_DOMAIN_FRAME = 0x1000;

    static XenLayout of(int ramBytes) {
        return new XenLayout(ramBytes - SIZE, ramBytes);
    }

    int physical(int offset) {
        return physicalBase + offset;
    }

    static int linear(int offset) {
        return DIRECT_MAP_LINEAR + offset;
    }

    int lastDomainFrame() {
        return (physicalBase >>> 12) - 1;
    }
}

package hvlab.hv.vtx;

/**
 * The hypervisor's own memory: the top 4 MiB of RAM, which the guest is never told about. The host's page directory
 * maps all of physical space one to one, so these offsets are the same linear and physical addresses.
 */
record VmmLayout(int base) {
    static final int SIZE = 4 << 20;

    // Offsets inside the region.
    static final int VMXON_REGION = 0x0000;
    static final int VMCS = 0x1000;
    static final int MSR_BITMAP = 0x2000;
    static final int HOST_PAGE_DIRECTORY = 0x3000;
    static final int HOST_GDT = 0x4000;
    static final int HOST_IDT = 0x5000;
    static final int HOST_TSS = 0x6000;
    static final int ENTRY_PAGE = 0x7000;
    static final int STACK_TOP = 0x10000;
    /** From here to the end, the memory mode's tables: the shadow directory and pool, or the EPT structures. */
    static final int MEMORY_MODE_AREA = 0x10000;
    static final int SHADOW_DIRECTORY = MEMORY_MODE_AREA;
    static final int SHADOW_POOL = 0x11000;

    /** Where a guest's access to the hypervisor's RAM goes instead: physical space nothing decodes. */
    static final int NOTHING_THERE = 0xFD000000;

    /** In the entry page: VM exits arrive at offset 0, host vectors at {@link #hostVectorOffset(int)}. */
    static final int EXIT_OFFSET = 0;
    private static final int VECTOR_STRIDE = 8;

    // Host GDT selectors.
    static final int HOST_CODE = 0x08, HOST_DATA = 0x10, HOST_TSS_SELECTOR = 0x18;

    static VmmLayout atTopOf(int ramBytes) {
        return new VmmLayout(ramBytes - SIZE);
    }

    /** The RAM the guest owns: everything below the hypervisor. */
    int guestRamBytes() {
        return base;
    }

    /** Whether a guest-physical address is the hypervisor's RAM, which the guest does not have. */
    boolean isHidden(int guestPhysical) {
        return Integer.compareUnsigned(guestPhysical - base, SIZE) < 0;
    }

    /**
     * Guest-physical to machine: the same below the hypervisor and in the device space above RAM; the hypervisor's
     * RAM becomes {@link #NOTHING_THERE}, so that the guest finds no RAM there, as on a machine without it.
     */
    int machineAddress(int guestPhysical) {
        return isHidden(guestPhysical) ? NOTHING_THERE + (guestPhysical - base) : guestPhysical;
    }

    int at(int offset) {
        return base + offset;
    }

    int shadowPoolPages() {
        return (SIZE - SHADOW_POOL) >>> 12;
    }

    static int hostVectorOffset(int vector) {
        return VECTOR_STRIDE + vector * VECTOR_STRIDE;
    }

    static int hostVector(int offset) {
        return (offset - VECTOR_STRIDE) / VECTOR_STRIDE;
    }
}

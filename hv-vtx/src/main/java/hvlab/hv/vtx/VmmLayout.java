package hvlab.hv.vtx;

/**
 * The hypervisor's own memory for one VM: 4 MiB at the top of RAM (the first VM's highest, each further VM's below
 * the previous one's), which no guest is ever told about. The first VM's region holds the host's structures too. The
 * host's page directory maps all of physical space one to one, so these offsets are the same linear and physical
 * addresses.
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
    /** With APIC virtualization (EPT): the APIC-access page, and the virtual-APIC page holding the guest's TPR. */
    static final int APIC_ACCESS_PAGE = 0x8000;
    static final int VIRTUAL_APIC_PAGE = 0x9000;
    /** The host stack grows down from here to 0xA000. */
    static final int STACK_TOP = 0x10000;
    /** From here to the end, the memory mode's tables: the shadow directory and pool, or the EPT structures. */
    static final int MEMORY_MODE_AREA = 0x10000;
    static final int SHADOW_DIRECTORY = MEMORY_MODE_AREA;
    static final int SHADOW_POOL = 0x11000;

    /** In the entry page: VM exits arrive at offset 0, host vectors at {@link #hostVectorOffset(int)}. */
    static final int EXIT_OFFSET = 0;
    private static final int VECTOR_STRIDE = 8;

    // Host GDT selectors.
    static final int HOST_CODE = 0x08, HOST_DATA = 0x10, HOST_TSS_SELECTOR = 0x18;

    /** The first VM's region. */
    static VmmLayout atTopOf(int ramBytes) {
        return forVm(ramBytes, 0);
    }

    /** The region of VM {@code index} (0 for the first). */
    static VmmLayout forVm(int ramBytes, int index) {
        return new VmmLayout(ramBytes - (index + 1) * SIZE);
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

package hvlab.hw.boot;

/**
 * The processor state a loader hands over, as data for the CPU setup to apply: registers, control bits and the
 * segment registers' hidden descriptor caches.
 *
 * @param eip       where execution starts
 * @param eax       Multiboot: the boot loader's magic ({@link #MULTIBOOT_BOOTLOADER_MAGIC}); Linux: 0
 * @param ebx       Multiboot: physical address of the multiboot_info structure; Linux: 0
 * @param esi       Linux: physical address of boot_params (the zero page); Multiboot: 0, unused
 * @param cr0       CR0 to load; only PE is set (paging off), the CPU keeps its fixed bits such as ET
 * @param eflags    EFLAGS to load; IF and VM clear
 * @param code      CS
 * @param data      DS, ES, FS, GS and SS
 * @param gdt       the GDTR to load, describing a GDT the loader wrote to memory; null to leave GDTR as it is
 *                  (Multiboot 0.6.96 §3.2: the OS must load its own before it loads a segment register)
 * @param a20Enabled the A20 gate
 */
public record BootState(int eip, int eax, int ebx, int esi, int cr0, int eflags, Segment code, Segment data,
                        DescriptorTable gdt, boolean a20Enabled) {
    public static final int MULTIBOOT_BOOTLOADER_MAGIC = 0x2BADB002;

    public static final int CR0_PE = 1;
    public static final int CR0_PG = 1 << 31;
    /** Bit 1 of EFLAGS is reserved and always reads 1. */
    public static final int EFLAGS_RESERVED = 1 << 1;
    public static final int EFLAGS_IF = 1 << 9;
    public static final int EFLAGS_VM = 1 << 17;

    /** Flat 32-bit code, execute/read, accessed; the selector GRUB uses (the spec leaves it undefined). */
    public static final Segment FLAT_CODE = new Segment(0x08, 0, 0xFFFF_FFFF, Segment.TYPE_CODE_EXECUTE_READ);
    /** Flat 32-bit data, read/write, accessed; the selector GRUB uses. */
    public static final Segment FLAT_DATA = new Segment(0x10, 0, 0xFFFF_FFFF, Segment.TYPE_DATA_READ_WRITE);

    /**
     * A segment register after entry: the visible selector and the hidden descriptor cache (SDM Vol. 3A §3.4.5).
     * Such a segment is present, DPL 0, a code or data segment (S = 1) and 32-bit (D/B = 1).
     *
     * @param limit the byte limit (0xFFFFFFFF for 4 GiB)
     * @param type  the descriptor type field, SDM Vol. 3A §3.4.5.1 Table 3-1
     */
    public record Segment(int selector, int base, int limit, int type) {
        public static final int TYPE_DATA_READ_WRITE = 0x3;
        public static final int TYPE_CODE_EXECUTE_READ = 0xB;

        // descriptor bits 8-23 as one field (SDM Vol. 3A §3.4.5 Figure 3-8)
        private static final int S = 1 << 4, P = 1 << 7, DB = 1 << 14, G = 1 << 15;

        /** Descriptor bits 8-23 (type, S, DPL, P, then AVL, L, D/B, G; the limit's bits 16-19 left zero). */
        public int attributes() {
            return type | S | P | DB | (pageGranular() ? G : 0);
        }

        /** The 8-byte GDT entry that describes this segment (SDM Vol. 3A §3.4.5). */
        public long descriptor() {
            int rawLimit = pageGranular() ? limit >>> 12 : limit;
            int low = base << 16 | (rawLimit & 0xFFFF);
            int high = (base & 0xFF00_0000) | (base >>> 16 & 0xFF) | attributes() << 8 | (rawLimit & 0xF_0000);
            return Integer.toUnsignedLong(low) | (long) high << 32;
        }

        /** A limit beyond 1 MiB can only be expressed in 4 KiB units (G = 1). */
        private boolean pageGranular() {
            return Integer.compareUnsigned(limit, 0xF_FFFF) > 0;
        }
    }

    /** A GDTR or IDTR value: the table's linear base and its limit (size in bytes - 1), SDM Vol. 3A §2.4.1. */
    public record DescriptorTable(int base, int limit) { }

    /** Multiboot 0.6.96 §3.2: protected mode without paging, flat 4 GiB segments, A20 on, interrupts off. */
    public static BootState multibootEntry(int entryPoint, int multibootInfoAddress) {
        return new BootState(entryPoint, MULTIBOOT_BOOTLOADER_MAGIC, multibootInfoAddress, 0,
                CR0_PE, EFLAGS_RESERVED, FLAT_CODE, FLAT_DATA, null, true);
    }

    public boolean protectedMode() {
        return (cr0 & CR0_PE) != 0;
    }

    public boolean pagingEnabled() {
        return (cr0 & CR0_PG) != 0;
    }

    public boolean interruptsEnabled() {
        return (eflags & EFLAGS_IF) != 0;
    }
}

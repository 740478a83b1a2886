package hvlab.hv.vtx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A hand-assembled guest: a 4 KiB Multiboot image loaded at {@code base} by its header's address fields (the "a.out
 * kludge", Multiboot 0.6.96 3.1.3), entered at {@code base + 32} in flat 32-bit protected mode, paging off.
 */
final class GuestCode {
    private static final int MAGIC = 0x1BADB002, ADDRESS_FIELDS = 1 << 16;

    private final ByteBuffer buffer = ByteBuffer.allocate(0x1000).order(ByteOrder.LITTLE_ENDIAN);
    private final int base;

    private GuestCode(int base) {
        this.base = base;
    }

    /** The header (magic, flags, checksum; header, load, load end, bss end and entry addresses); code follows. */
    static GuestCode multiboot(int base) {
        GuestCode code = new GuestCode(base);
        code.u32(MAGIC).u32(ADDRESS_FIELDS).u32(-(MAGIC + ADDRESS_FIELDS));
        return code.u32(base).u32(base).u32(0).u32(0).u32(base + 32);
    }

    GuestCode bytes(int... values) {
        for (int v : values) {
            buffer.put((byte) v);
        }
        return this;
    }

    GuestCode u16(int value) {
        buffer.putShort((short) value);
        return this;
    }

    GuestCode u32(int value) {
        buffer.putInt(value);
        return this;
    }

    /**
     * Its own flat GDT at {@code gdt} (null, code 08h, data 10h; the GDTR at {@code gdtr}) loaded, the segment
     * registers reloaded from it, ESP = {@code stack}, and LIDT [{@code idtr}].
     */
    GuestCode flatSegments(int gdt, int gdtr, int idtr, int stack) {
        bytes(0x0F, 0x01, 0x15).u32(gdtr);                                     // lgdt [gdtr]
        int far = here() + 7;
        bytes(0xEA).u32(far).bytes(0x08, 0x00);                                // jmp 08:far
        bytes(0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0);     // mov ax,10h; ds, es, ss
        bytes(0xBC).u32(stack);                                                // mov esp, stack
        bytes(0x0F, 0x01, 0x1D).u32(idtr);                                     // lidt [idtr]
        int next = here();
        at(gdt).u32(0).u32(0).u32(0x0000FFFF).u32(0x00CF9A00).u32(0x0000FFFF).u32(0x00CF9200);
        at(gdtr).u16(23).u32(gdt);
        return at(next);
    }

    /** The address the next byte goes to. */
    int here() {
        return base + buffer.position();
    }

    GuestCode at(int address) {
        buffer.position(address - base);
        return this;
    }

    byte[] image() {
        return buffer.array().clone();
    }
}

package hvlab.hw.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Builds the bytes of a Multiboot v1 header (Multiboot 0.6.96 §3.1.1): magic fields, and address fields if asked. */
final class MultibootHeaderBuilder {
    static final int MAGIC = 0x1BADB002;
    static final int PAGE_ALIGN_MODULES = 1;
    static final int MEMORY_INFO = 1 << 1;
    static final int VIDEO_MODE = 1 << 2;
    static final int ADDRESS_FIELDS = 1 << 16;

    private int flags = PAGE_ALIGN_MODULES | MEMORY_INFO;
    private Integer checksum;
    private int[] addressFields;

    MultibootHeaderBuilder flags(int flags) {
        this.flags = flags;
        return this;
    }

    /** Overrides the checksum, which is otherwise -(magic + flags). */
    MultibootHeaderBuilder checksum(int checksum) {
        this.checksum = checksum;
        return this;
    }

    /** Adds the §3.1.3 address fields and sets flag bit 16. */
    MultibootHeaderBuilder addressFields(int headerAddr, int loadAddr, int loadEndAddr, int bssEndAddr, int entryAddr) {
        this.addressFields = new int[] {headerAddr, loadAddr, loadEndAddr, bssEndAddr, entryAddr};
        this.flags |= ADDRESS_FIELDS;
        return this;
    }

    byte[] build() {
        ByteBuffer header = ByteBuffer.allocate(addressFields == null ? 12 : 32).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MAGIC).putInt(flags).putInt(checksum != null ? checksum : -(MAGIC + flags));
        if (addressFields != null) {
            for (int field : addressFields) {
                header.putInt(field);
            }
        }
        return header.array();
    }
}

package hvlab.hw.boot;

/** A named image file read as little-endian fields, every read checked against the end of the file. */
record ImageBytes(String name, byte[] bytes) {

    int length() {
        return bytes.length;
    }

    int u8(long offset, String field) throws BootImageException {
        requireInFile(offset, 1, field);
        return bytes[(int) offset] & 0xFF;
    }

    int u16(long offset, String field) throws BootImageException {
        requireInFile(offset, 2, field);
        return (bytes[(int) offset] & 0xFF) | (bytes[(int) offset + 1] & 0xFF) << 8;
    }

    /** An unsigned 32-bit field, as a long so that addresses above 2 GiB compare and add without wrapping. */
    long u32(long offset, String field) throws BootImageException {
        requireInFile(offset, 4, field);
        return Integer.toUnsignedLong(u32Unchecked((int) offset));
    }

    int u32Unchecked(int offset) {
        return (bytes[offset] & 0xFF) | (bytes[offset + 1] & 0xFF) << 8
                | (bytes[offset + 2] & 0xFF) << 16 | (bytes[offset + 3] & 0xFF) << 24;
    }

    void requireInFile(long offset, long length, String what) throws BootImageException {
        if (offset < 0 || length < 0 || offset + length > bytes.length) {
            throw new BootImageException(name + " is truncated: " + what + " (" + length + " bytes at file offset 0x"
                    + Long.toHexString(offset) + ") runs past the end of the file (" + bytes.length + " bytes)");
        }
    }
}

package hvlab.hw.firmware;

import java.util.Arrays;

/** A growing little-endian byte image of one firmware table, with the byte-sum checksum these tables use. */
final class TableBytes {
    private byte[] bytes = new byte[128];
    private int size;

    TableBytes u8(int value) {
        ensure(1);
        bytes[size++] = (byte) value;
        return this;
    }

    TableBytes u16(int value) {
        return u8(value).u8(value >>> 8);
    }

    TableBytes u32(int value) {
        return u16(value).u16(value >>> 16);
    }

    TableBytes u32(long value) {
        return u32((int) value);
    }

    /** ASCII text in a field of {@code width} bytes, padded with spaces as the OEM ID fields are. */
    TableBytes ascii(String text, int width) {
        if (text.length() > width) {
            throw new IllegalArgumentException("'" + text + "' does not fit in " + width + " bytes");
        }
        for (int i = 0; i < width; i++) {
            u8(i < text.length() ? text.charAt(i) : ' ');
        }
        return this;
    }

    TableBytes bytes(byte[] more) {
        ensure(more.length);
        System.arraycopy(more, 0, bytes, size, more.length);
        size += more.length;
        return this;
    }

    TableBytes zeros(int count) {
        ensure(count);
        size += count;
        return this;
    }

    int size() {
        return size;
    }

    void putU16(int at, int value) {
        bytes[at] = (byte) value;
        bytes[at + 1] = (byte) (value >>> 8);
    }

    void putU32(int at, int value) {
        putU16(at, value);
        putU16(at + 2, value >>> 16);
    }

    /** The image, with the byte at {@code checksumAt} set so that bytes [0, length) sum to 0 modulo 256. */
    byte[] toArrayWithChecksum(int checksumAt, int length) {
        byte[] out = toArray();
        out[checksumAt] = 0;
        out[checksumAt] = (byte) -sum(out, 0, length);
        return out;
    }

    byte[] toArray() {
        return Arrays.copyOf(bytes, size);
    }

    static int sum(byte[] data, int from, int length) {
        int sum = 0;
        for (int i = from; i < from + length; i++) {
            sum += data[i];
        }
        return sum & 0xFF;
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
        }
    }
}

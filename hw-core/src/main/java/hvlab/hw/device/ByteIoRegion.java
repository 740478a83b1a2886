package hvlab.hw.device;

import hvlab.hw.bus.IoRegion;

/**
 * A window of byte-wide registers, as ISA parts have. A 16- or 32-bit access is the sequence of byte accesses to
 * consecutive offsets, low byte first, as the PC's bus splits it; offsets past the window read all ones.
 */
public interface ByteIoRegion extends IoRegion {
    int readByte(int offset);

    void writeByte(int offset, int value);

    @Override
    default int read(int offset, int size) {
        int value = readByte(offset) & 0xFF;
        for (int i = 1; i < size; i++) {
            value |= (readByte(offset + i) & 0xFF) << (8 * i);
        }
        return value;
    }

    @Override
    default void write(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            writeByte(offset + i, (value >>> (8 * i)) & 0xFF);
        }
    }
}

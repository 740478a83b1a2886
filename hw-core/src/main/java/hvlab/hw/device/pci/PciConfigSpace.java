package hvlab.hw.device.pci;

import java.util.Arrays;

/**
 * The 256-byte configuration space of one PCI function (PCI Local Bus Spec 3.0, 6.1), little-endian. A guest write
 * changes only the bits the function declares writable; status bits the function declares "write 1 to clear" clear
 * where the guest writes ones. Registers a function does not declare read as the value it was built with (0 for
 * unimplemented ones, as the spec asks of reserved registers).
 */
public final class PciConfigSpace {
    public static final int SIZE = 256;

    // The type 0 header (PCI 3.0, 6.1, Figure 6-1).
    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION_ID = 0x08;
    public static final int CLASS_CODE = 0x09;
    public static final int HEADER_TYPE = 0x0E;
    public static final int INTERRUPT_LINE = 0x3C;
    public static final int INTERRUPT_PIN = 0x3D;

    /** Header type bit 7: the device has functions other than 0 (PCI 3.0, 6.2.1). */
    public static final int MULTI_FUNCTION = 0x80;
    public static final int COMMAND_IO_SPACE = 0x0001;
    /** I/O, memory, bus master, parity error response, SERR# enable: what the chipset functions here implement. */
    static final int COMMAND_WRITABLE = 0x0147;
    /** Status bits 15-11 and 8 are errors a write of 1 clears (PCI 3.0, 6.2.3). */
    static final int STATUS_WRITE_ONE_TO_CLEAR = 0xF900;

    /** The bytes of configuration space; snapshots need nothing more (the masks are fixed by the part). */
    public record State(byte[] bytes) {
    }

    private final byte[] bytes = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];
    private final byte[] writeOneToClear = new byte[SIZE];

    /**
     * A type 0 header with the identity registers set and COMMAND/STATUS behaving as the spec says.
     *
     * @param classCode base class, subclass and programming interface as 0xBBSSPP
     */
    public PciConfigSpace(int vendorId, int deviceId, int revision, int classCode, int headerType) {
        set(VENDOR_ID, 2, vendorId);
        set(DEVICE_ID, 2, deviceId);
        set(REVISION_ID, 1, revision);
        set(CLASS_CODE, 3, classCode);
        set(HEADER_TYPE, 1, headerType);
        allowWrites(COMMAND, 2, COMMAND_WRITABLE);
        clearOnWriteOne(STATUS, 2, STATUS_WRITE_ONE_TO_CLEAR);
    }

    /** Reads {@code size} (1, 2 or 4) bytes at {@code offset}; offsets wrap within the 256 bytes. */
    public int read(int offset, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            value |= (bytes[(offset + i) & 0xFF] & 0xFF) << (8 * i);
        }
        return value;
    }

    /** A guest's write: writable bits take the new value, write-1-to-clear bits clear where it has ones. */
    public void write(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            int at = (offset + i) & 0xFF;
            int in = (value >>> (8 * i)) & 0xFF;
            int old = bytes[at] & 0xFF;
            int mask = writable[at] & 0xFF;
            int next = (old & ~mask) | (in & mask);
            bytes[at] = (byte) (next & ~(in & writeOneToClear[at]));
        }
    }

    /** What the part or the firmware puts there, whatever the masks say. */
    public void set(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            bytes[(offset + i) & 0xFF] = (byte) (value >>> (8 * i));
        }
    }

    /** Declares the bits of a register the guest may change. */
    public void allowWrites(int offset, int size, int mask) {
        for (int i = 0; i < size; i++) {
            writable[(offset + i) & 0xFF] |= (byte) (mask >>> (8 * i));
        }
    }

    /** Declares status bits that a write of 1 clears. */
    public void clearOnWriteOne(int offset, int size, int mask) {
        for (int i = 0; i < size; i++) {
            writeOneToClear[(offset + i) & 0xFF] |= (byte) (mask >>> (8 * i));
        }
    }

    public State state() {
        return new State(bytes.clone());
    }

    public void restore(State state) {
        if (state.bytes().length != SIZE) {
            throw new IllegalArgumentException("configuration space is " + SIZE + " bytes, not " + state.bytes().length);
        }
        System.arraycopy(state.bytes(), 0, bytes, 0, SIZE);
    }

    @Override
    public String toString() {
        return "PciConfigSpace" + Arrays.toString(Arrays.copyOf(bytes, 16));
    }
}

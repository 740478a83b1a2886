package hvlab.hw.device.pci;

import hvlab.hw.bus.IoRegion;

/**
 * The host bridge's configuration mechanism #1 (PCI Local Bus Spec 3.0, 3.2.2.3.2) for bus 0: CONFIG_ADDRESS at
 * port 0xCF8 and CONFIG_DATA at 0xCFC-0xCFF. Only a 32-bit access to 0xCF8 is CONFIG_ADDRESS: narrower ones pass
 * through as ordinary I/O (0xCF9 is the PIIX's reset control register), so {@link #configAddressPort()} is one port
 * wide on the bus. With the enable bit set, a CONFIG_DATA access of any size at offset n reaches register
 * (CONFIG_ADDRESS[7:2] * 4 + n) of the addressed function; a function nobody answers for reads all ones (master
 * abort), as does every bus but 0, which has no PCI-to-PCI bridge. With the enable bit clear, CONFIG_DATA is
 * ordinary I/O that nothing claims.
 */
public final class PciHost {
    public static final int CONFIG_ADDRESS_PORT = 0xCF8;
    public static final int CONFIG_DATA_PORT = 0xCFC;
    public static final int CONFIG_DATA_WINDOW = 4;
    public static final int DEVICES = 32;
    public static final int FUNCTIONS = 8;

    static final int ENABLE = 0x8000_0000;
    /** Bits 30-24 are reserved and 1-0 are fixed: both read 0. */
    static final int ADDRESS_WRITABLE = 0x80FF_FFFC;

    public record State(int configAddress) {
    }

    private final PciFunction[] functions = new PciFunction[DEVICES * FUNCTIONS];
    private final IoRegion addressPort = new IoRegion() {
        @Override
        public int read(int offset, int size) {
            return offset == 0 && size == 4 ? configAddress : allOnes(size);
        }

        @Override
        public void write(int offset, int size, int value) {
            if (offset == 0 && size == 4) {
                configAddress = value & ADDRESS_WRITABLE;
            }
        }
    };
    private final IoRegion dataPort = new IoRegion() {
        @Override
        public int read(int offset, int size) {
            PciFunction function = selected();
            return function == null ? allOnes(size) : function.readConfig(register(offset), size);
        }

        @Override
        public void write(int offset, int size, int value) {
            PciFunction function = selected();
            if (function != null) {
                function.writeConfig(register(offset), size, size == 4 ? value : value & allOnes(size));
            }
        }
    };
    private int configAddress;

    /** Puts a function on bus 0 at device {@code device} (0-31), function {@code function} (0-7). */
    public void attach(int device, int function, PciFunction part) {
        if (device < 0 || device >= DEVICES || function < 0 || function >= FUNCTIONS) {
            throw new IllegalArgumentException("no PCI slot " + device + "." + function);
        }
        int index = device * FUNCTIONS + function;
        if (functions[index] != null) {
            throw new IllegalArgumentException("PCI slot 00:" + device + "." + function + " is taken");
        }
        functions[index] = part;
    }

    /** Port 0xCF8, one port wide: a 32-bit access there is CONFIG_ADDRESS. */
    public IoRegion configAddressPort() {
        return addressPort;
    }

    /** Ports 0xCFC-0xCFF. */
    public IoRegion configDataPort() {
        return dataPort;
    }

    private PciFunction selected() {
        if ((configAddress & ENABLE) == 0 || (configAddress >>> 16 & 0xFF) != 0) {
            return null;
        }
        return functions[configAddress >>> 8 & 0xFF];
    }

    private int register(int dataOffset) {
        return (configAddress & 0xFC) + dataOffset;
    }

    /** What a read that nobody answers returns: all ones in the access width. */
    static int allOnes(int size) {
        return size >= 4 ? -1 : (1 << (8 * size)) - 1;
    }

    public State state() {
        return new State(configAddress);
    }

    public void restore(State state) {
        configAddress = state.configAddress() & ADDRESS_WRITABLE;
    }
}

package hvlab.hw.device.pci;

/**
 * One function of a PCI device as configuration cycles see it. The default is a plain register file; a function
 * whose registers act (a base address that moves a decoder, an enable bit) overrides {@link #writeConfig}.
 */
public interface PciFunction {
    PciConfigSpace config();

    default int readConfig(int offset, int size) {
        return config().read(offset, size);
    }

    default void writeConfig(int offset, int size, int value) {
        config().write(offset, size, value);
    }
}

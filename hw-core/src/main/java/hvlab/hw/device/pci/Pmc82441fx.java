package hvlab.hw.device.pci;

/**
 * The Intel 82441FX PCI and Memory Controller (PMC) of the 440FX chipset, the host bridge at 00:00.0 (82441FX
 * datasheet, 3.2): vendor 8086, device 1237, revision 02, class 06 00 00 (host bridge). Only its identity and
 * command/status registers are modelled; the DRAM, PAM (shadow RAM) and SMRAM registers read 0 and ignore writes,
 * since the machine's memory map is fixed.
 */
public final class Pmc82441fx implements PciFunction {
    public static final int VENDOR_INTEL = 0x8086;
    public static final int DEVICE_ID = 0x1237;
    static final int REVISION = 0x02;
    static final int CLASS_HOST_BRIDGE = 0x06_00_00;
    /** Memory and bus-master enables are hardwired on: the PMC always decodes memory and masters it. */
    static final int COMMAND_AT_RESET = 0x0006;

    private final PciConfigSpace config = new PciConfigSpace(VENDOR_INTEL, DEVICE_ID, REVISION, CLASS_HOST_BRIDGE, 0);

    public Pmc82441fx() {
        config.set(PciConfigSpace.COMMAND, 2, COMMAND_AT_RESET);
    }

    @Override
    public PciConfigSpace config() {
        return config;
    }
}

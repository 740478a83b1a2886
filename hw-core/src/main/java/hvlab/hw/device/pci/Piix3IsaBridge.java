package hvlab.hw.device.pci;

import hvlab.hw.device.ByteIoRegion;

/**
 * Function 0 of the Intel 82371SB PIIX3, the PCI-to-ISA bridge at 00:01.0 (vendor 8086, device 7000, class
 * 06 01 00; multi-function, as QEMU's i440FX board puts the PIIX4 power-management function beside it), and the
 * reset control register at I/O port 0xCF9 that the PIIX decodes (82371SB datasheet, 2.2.11 RC): SRST (bit 1)
 * picks a hard or soft reset, and a 0-to-1 change of RCPU (bit 2) resets the system. Of the ISA-side registers only
 * DLC (0x82), which Linux writes, is kept; PIRQ routing, top of memory and the APIC base are not modelled: no PCI
 * function here raises an interrupt through them.
 */
public final class Piix3IsaBridge implements PciFunction {
    public static final int DEVICE_ID = 0x7000;
    public static final int RESET_CONTROL_PORT = 0xCF9;
    static final int CLASS_ISA_BRIDGE = 0x06_01_00;
    static final int SRST = 0x02, RCPU = 0x04;
    /** DLC, deterministic latency control (2.2.x): bits 3-0 read/write; bus timing only, no effect in the model. */
    static final int DLC = 0x82, DLC_WRITABLE = 0x0F;

    public record State(PciConfigSpace.State config, int resetControl) {
    }

    private final PciConfigSpace config = new PciConfigSpace(Pmc82441fx.VENDOR_INTEL, DEVICE_ID, 0,
            CLASS_ISA_BRIDGE, PciConfigSpace.MULTI_FUNCTION);
    private final Runnable systemReset;
    private int resetControl;
    private final ByteIoRegion resetControlPort = new ByteIoRegion() {
        @Override
        public int readByte(int offset) {
            return offset == 0 ? resetControl : 0xFF;
        }

        @Override
        public void writeByte(int offset, int value) {
            if (offset == 0) {
                writeResetControl(value);
            }
        }
    };

    /** @param systemReset asserts the board's reset */
    public Piix3IsaBridge(Runnable systemReset) {
        this.systemReset = systemReset;
        config.set(PciConfigSpace.COMMAND, 2, 0x0007); // I/O, memory and bus master on: it forwards ISA cycles
        config.allowWrites(DLC, 1, DLC_WRITABLE); // Linux sets Passive Release (bit 1) here
    }

    @Override
    public PciConfigSpace config() {
        return config;
    }

    /** Port 0xCF9 (one port; a 32-bit access at 0xCF8 is the host bridge's CONFIG_ADDRESS instead). */
    public ByteIoRegion resetControlPort() {
        return resetControlPort;
    }

    private void writeResetControl(int value) {
        int old = resetControl;
        resetControl = value & (SRST | RCPU);
        if ((old & RCPU) == 0 && (resetControl & RCPU) != 0) {
            systemReset.run();
        }
    }

    public State state() {
        return new State(config.state(), resetControl);
    }

    public void restore(State state) {
        config.restore(state.config());
        resetControl = state.resetControl() & (SRST | RCPU);
    }
}

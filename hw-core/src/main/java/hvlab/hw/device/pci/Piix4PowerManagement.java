package hvlab.hw.device.pci;

import hvlab.hw.bus.IoRegion;
import hvlab.hw.device.ByteIoRegion;
import hvlab.hw.device.acpi.AcpiPmBlock;

/**
 * Function 3 of the Intel 82371AB PIIX4, power management, at 00:01.3 (vendor 8086, device 7113, revision 03, class
 * 06 80 00), as QEMU's i440FX board has it and SeaBIOS leaves it (82371AB datasheet, 11.1): PMBA (0x40) holds the
 * I/O base of the ACPI register block, 0x600, and PMREGMISC bit 0 (PMIOSE, 0x80) enables its decode; the SCI is
 * wired to IRQ 9, which the interrupt line register says. Moving PMBA is not modelled (no firmware or OS here does):
 * the block stays at {@link #PM_BASE} and such a write is ignored. Revision 03 is the PIIX4E/M, whose PM timer reads
 * are reliable, so Linux applies no workaround.
 *
 * <p>The advanced power management ports APMC (0xB2) and APMS (0xB3) belong to this part too. Writing the FADT's
 * ACPI_ENABLE or ACPI_DISABLE command to APMC turns SCI_EN on or off at once: on a real board an SMI handler in
 * the firmware does that; this machine has no SMM, so the part does what the handler would (as QEMU does).
 */
public final class Piix4PowerManagement implements PciFunction {
    public static final int DEVICE_ID = 0x7113;
    public static final int PM_BASE = 0x600;
    public static final int SCI_IRQ = 9;
    public static final int APM_CONTROL_PORT = 0xB2, APM_WINDOW = 2;
    /** What an OS writes to APMC to switch to and from ACPI mode (the FADT's ACPI_ENABLE / ACPI_DISABLE). */
    public static final int ACPI_ENABLE = 0xF1, ACPI_DISABLE = 0xF0;

    static final int REVISION = 0x03;
    static final int CLASS_OTHER_BRIDGE = 0x06_80_00;
    static final int PMBA = 0x40, PMREGMISC = 0x80;
    static final int PMBA_IO_SPACE = 0x01, PMIOSE = 0x01;
    static final int INTA = 1;

    public record State(PciConfigSpace.State config, int apmControl, int apmStatus, AcpiPmBlock.State pm) {
    }

    private final PciConfigSpace config = new PciConfigSpace(Pmc82441fx.VENDOR_INTEL, DEVICE_ID, REVISION,
            CLASS_OTHER_BRIDGE, 0);
    private final AcpiPmBlock pm;
    private int apmControl;
    private int apmStatus;

    private final IoRegion pmIo = new IoRegion() {
        @Override
        public int read(int offset, int size) {
            return decoding() ? pm.read(offset, size) : PciHost.allOnes(size);
        }

        @Override
        public void write(int offset, int size, int value) {
            if (decoding()) {
                pm.write(offset, size, value);
            }
        }
    };

    private final ByteIoRegion apmPorts = new ByteIoRegion() {
        @Override
        public int readByte(int offset) {
            return offset == 0 ? apmControl : apmStatus;
        }

        @Override
        public void writeByte(int offset, int value) {
            if (offset == 0) {
                writeApmControl(value & 0xFF);
            } else {
                apmStatus = value & 0xFF;
            }
        }
    };

    /** The function with the ACPI register block it decodes, set up as the firmware leaves it. */
    public Piix4PowerManagement(AcpiPmBlock pm) {
        this.pm = pm;
        config.set(PMBA, 4, PM_BASE | PMBA_IO_SPACE);
        config.set(PMREGMISC, 1, PMIOSE);
        config.allowWrites(PMREGMISC, 1, PMIOSE);
        config.set(PciConfigSpace.INTERRUPT_PIN, 1, INTA);
        config.set(PciConfigSpace.INTERRUPT_LINE, 1, SCI_IRQ);
        config.allowWrites(PciConfigSpace.INTERRUPT_LINE, 1, 0xFF);
    }

    @Override
    public PciConfigSpace config() {
        return config;
    }

    /** The ACPI register block at {@link #PM_BASE}, {@link AcpiPmBlock#WINDOW} ports, decoded while PMIOSE is set. */
    public IoRegion pmIo() {
        return pmIo;
    }

    /** APMC and APMS, ports 0xB2-0xB3. */
    public ByteIoRegion apmPorts() {
        return apmPorts;
    }

    public AcpiPmBlock pm() {
        return pm;
    }

    private boolean decoding() {
        return (config.read(PMREGMISC, 1) & PMIOSE) != 0;
    }

    private void writeApmControl(int value) {
        apmControl = value;
        if (value == ACPI_ENABLE) {
            pm.setSciEnabled(true);
        } else if (value == ACPI_DISABLE) {
            pm.setSciEnabled(false);
        }
    }

    public State state() {
        return new State(config.state(), apmControl, apmStatus, pm.state());
    }

    public void restore(State state) {
        config.restore(state.config());
        apmControl = state.apmControl() & 0xFF;
        apmStatus = state.apmStatus() & 0xFF;
        pm.restore(state.pm());
    }
}

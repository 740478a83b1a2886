package hvlab.hw.device.pci;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.RecordingLine;
import hvlab.hw.device.acpi.AcpiPmBlock;
import org.junit.jupiter.api.Test;

/** Intel 82371AB (PIIX4) datasheet, 11.1 power-management configuration registers, and the APMC port. */
class Piix4PowerManagementTest {
    private final RecordingLine sci = new RecordingLine();
    private final AcpiPmBlock pm = new AcpiPmBlock(sci, new VirtualClock(), () -> { });
    private final Piix4PowerManagement function = new Piix4PowerManagement(pm);

    @Test
    void identifiesAsPiix4PowerManagementRevision3() {
        // 11.1: VID 8086, DID 7113, class 06 80 00; revision 03 (PIIX4E/M) has the fixed PM timer
        assertThat(function.readConfig(0x00, 4)).isEqualTo(0x7113_8086);
        assertThat(function.readConfig(0x08, 4)).isEqualTo(0x0680_0003);
    }

    @Test
    void pmbaSaysWhereTheAcpiBlockIsAndIsFixed() {
        // 11.1.x PMBA (0x40): bits 15-6 the base, bit 0 hardwired 1 (I/O space)
        assertThat(function.readConfig(0x40, 4)).isEqualTo(0x0601);
        function.writeConfig(0x40, 4, 0x1001);
        assertThat(function.readConfig(0x40, 4)).isEqualTo(0x0601);
    }

    @Test
    void sciIsIntaOnIrq9() {
        assertThat(function.readConfig(PciConfigSpace.INTERRUPT_PIN, 1)).isEqualTo(1);
        assertThat(function.readConfig(PciConfigSpace.INTERRUPT_LINE, 1)).isEqualTo(9);
    }

    @Test
    void pmioseGatesTheAcpiBlock() {
        // PMREGMISC (0x80) bit 0, PMIOSE: when 0 the PM I/O space is not decoded
        assertThat(function.pmIo().read(8, 4)).isNotEqualTo(-1);
        function.writeConfig(0x80, 1, 0);
        assertThat(function.pmIo().read(4, 2)).isEqualTo(0xFFFF);
        assertThat(function.pmIo().read(8, 4)).isEqualTo(-1);
        function.writeConfig(0x80, 1, 1);
        assertThat(function.pmIo().read(4, 2)).isZero();
    }

    @Test
    void apmcAcpiEnableAndDisableSwitchSciEn() {
        // ACPI 6.4 4.8.2.1 / 5.2.9 SMI_CMD: writing ACPI_ENABLE hands the fixed hardware to the OS (SCI_EN set)
        function.apmPorts().write(0, 1, Piix4PowerManagement.ACPI_ENABLE);
        assertThat(pm.read(4, 2) & AcpiPmBlock.SCI_EN).isEqualTo(AcpiPmBlock.SCI_EN);
        assertThat(function.apmPorts().read(0, 1)).isEqualTo(0xF1);
        function.apmPorts().write(0, 1, Piix4PowerManagement.ACPI_DISABLE);
        assertThat(pm.read(4, 2) & AcpiPmBlock.SCI_EN).isZero();
    }

    @Test
    void apmsIsAScratchByte() {
        function.apmPorts().write(1, 1, 0x5A);
        assertThat(function.apmPorts().read(1, 1)).isEqualTo(0x5A);
    }

    @Test
    void stateRoundTrips() {
        function.apmPorts().write(0, 1, Piix4PowerManagement.ACPI_ENABLE);
        function.writeConfig(0x80, 1, 0);
        Piix4PowerManagement copy = new Piix4PowerManagement(new AcpiPmBlock(sci, new VirtualClock(), () -> { }));
        copy.restore(function.state());
        assertThat(copy.readConfig(0x80, 1)).isZero();
        assertThat(copy.pm().read(4, 2) & AcpiPmBlock.SCI_EN).isEqualTo(AcpiPmBlock.SCI_EN);
    }
}

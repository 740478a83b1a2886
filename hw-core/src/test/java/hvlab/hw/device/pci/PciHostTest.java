package hvlab.hw.device.pci;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.bus.IoRegion;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** PCI Local Bus Spec 3.0, 3.2.2.3.2: configuration mechanism #1 through CONFIG_ADDRESS (0xCF8) and CONFIG_DATA. */
class PciHostTest {
    private PciHost host;
    private IoRegion address;
    private IoRegion data;
    private final PciFunction bridge = new Pmc82441fx();

    @BeforeEach
    void wire() {
        host = new PciHost();
        host.attach(0, 0, bridge);
        address = host.configAddressPort();
        data = host.configDataPort();
    }

    private static int configAddress(int bus, int device, int function, int register) {
        return 0x8000_0000 | bus << 16 | device << 11 | function << 8 | register;
    }

    @Test
    void configAddressIsADwordRegisterWithReservedBitsReadingZero() {
        // 3.2.2.3.2: bits 30-24 reserved and read 0; bits 1-0 read 0; bit 31 is the enable bit
        address.write(0, 4, 0xFFFF_FFFF);
        assertThat(address.read(0, 4)).isEqualTo(0x80FF_FFFC);
        address.write(0, 4, 0x8000_0000);
        assertThat(address.read(0, 4)).isEqualTo(0x8000_0000);
    }

    @Test
    void narrowerAccessesToCf8AreNotConfigAddress() {
        // 3.2.2.3.2: only a full dword access to 0xCF8 is CONFIG_ADDRESS; others pass through as ordinary I/O
        address.write(0, 4, 0x8000_0000);
        address.write(0, 1, 0x00);
        address.write(0, 2, 0x0000);
        assertThat(address.read(0, 4)).isEqualTo(0x8000_0000);
        assertThat(address.read(0, 1)).isEqualTo(0xFF);
        assertThat(address.read(0, 2)).isEqualTo(0xFFFF);
    }

    @Test
    void dataReadsTheAddressedRegisterAtEveryWidth() {
        address.write(0, 4, configAddress(0, 0, 0, 0x00));
        assertThat(data.read(0, 4)).isEqualTo(0x1237_8086);
        assertThat(data.read(0, 2)).isEqualTo(0x8086);
        assertThat(data.read(2, 2)).isEqualTo(0x1237);
        assertThat(data.read(3, 1)).isEqualTo(0x12);
        address.write(0, 4, configAddress(0, 0, 0, 0x08));
        assertThat(data.read(0, 4)).isEqualTo(0x0600_0002); // class 06 00 00, revision 02
    }

    @Test
    void dataWritesReachTheFunctionAtTheByteOffsetOfTheDataPort() {
        address.write(0, 4, configAddress(0, 0, 0, 0x04));
        data.write(0, 1, 0x00); // COMMAND low byte: I/O off, memory off, bus master off
        assertThat(data.read(0, 2)).isZero();
        data.write(0, 2, 0x0147);
        assertThat(data.read(0, 2)).isEqualTo(0x0147);
    }

    @Test
    void anAbsentFunctionReadsAllOnesAndIgnoresWrites() {
        // 6.1: a master abort on a configuration read returns all ones; vendor 0xFFFF means "no function"
        address.write(0, 4, configAddress(0, 5, 0, 0x00));
        assertThat(data.read(0, 4)).isEqualTo(0xFFFF_FFFF);
        data.write(0, 4, 0);
        assertThat(data.read(0, 2)).isEqualTo(0xFFFF);
        address.write(0, 4, configAddress(0, 0, 1, 0x00));
        assertThat(data.read(0, 1)).isEqualTo(0xFF);
    }

    @Test
    void busesOtherThanZeroHaveNoDevices() {
        address.write(0, 4, configAddress(1, 0, 0, 0x00));
        assertThat(data.read(0, 4)).isEqualTo(0xFFFF_FFFF);
    }

    @Test
    void withTheEnableBitClearDataIsOrdinaryIoNobodyClaims() {
        // 3.2.2.3.2: accesses to CONFIG_DATA with bit 31 clear are passed through as I/O, not configuration cycles
        address.write(0, 4, 0x0000_0000);
        assertThat(data.read(0, 4)).isEqualTo(0xFFFF_FFFF);
        data.write(0, 2, 0);
        address.write(0, 4, configAddress(0, 0, 0, 0x04));
        assertThat(data.read(0, 2)).isEqualTo(0x0006);
    }

    @Test
    void aSlotTakesOneFunction() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> host.attach(0, 0, new Pmc82441fx()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("taken");
    }

    @Test
    void stateRestoresConfigAddress() {
        address.write(0, 4, configAddress(0, 1, 3, 0x40));
        PciHost other = new PciHost();
        other.restore(host.state());
        assertThat(other.configAddressPort().read(0, 4)).isEqualTo(configAddress(0, 1, 3, 0x40));
    }
}

package hvlab.hw.device.pci;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** PCI Local Bus Spec 3.0, 6.1-6.2: the type 0 configuration header. */
class PciConfigSpaceTest {
    private final PciConfigSpace config = new PciConfigSpace(0x8086, 0x1237, 0x02, 0x06_00_00, 0);

    @Test
    void identityRegistersAreReadOnly() {
        // 6.2.1: vendor, device, revision and class code are read-only
        config.write(0x00, 4, 0);
        config.write(0x08, 4, 0);
        assertThat(config.read(0x00, 4)).isEqualTo(0x1237_8086);
        assertThat(config.read(0x08, 4)).isEqualTo(0x0600_0002);
    }

    @Test
    void commandTakesOnlyImplementedBits() {
        // 6.2.2: bits a function does not implement are read-only 0
        config.write(PciConfigSpace.COMMAND, 2, 0xFFFF);
        assertThat(config.read(PciConfigSpace.COMMAND, 2)).isEqualTo(PciConfigSpace.COMMAND_WRITABLE);
    }

    @Test
    void statusErrorBitsClearWhenWrittenWithOne() {
        // 6.2.3: "bits ... can only be reset, never set, by software": writing 1 clears, 0 leaves alone
        config.set(PciConfigSpace.STATUS, 2, 0xF900 | 0x0280);
        config.write(PciConfigSpace.STATUS, 2, 0x2000 | 0x0280);
        assertThat(config.read(PciConfigSpace.STATUS, 2)).isEqualTo(0xD900 | 0x0280);
        config.write(PciConfigSpace.STATUS, 2, 0);
        assertThat(config.read(PciConfigSpace.STATUS, 2)).isEqualTo(0xD900 | 0x0280);
    }

    @Test
    void unimplementedRegistersReadZero() {
        // 6.1: reads of reserved or unimplemented registers complete normally and return 0
        config.write(0x10, 4, 0xFFFF_FFFF); // BAR0: none, so sizing finds nothing
        assertThat(config.read(0x10, 4)).isZero();
        assertThat(config.read(0xFC, 4)).isZero();
    }

    @Test
    void stateRoundTrips() {
        config.write(PciConfigSpace.COMMAND, 2, 0x0003);
        PciConfigSpace copy = new PciConfigSpace(0x8086, 0x1237, 0x02, 0x06_00_00, 0);
        copy.restore(config.state());
        assertThat(copy.read(PciConfigSpace.COMMAND, 2)).isEqualTo(0x0003);
    }
}

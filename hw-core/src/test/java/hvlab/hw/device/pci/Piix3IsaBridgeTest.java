package hvlab.hw.device.pci;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Intel 82371SB (PIIX3) datasheet: function 0 identity and the reset control register (RC) at 0xCF9. */
class Piix3IsaBridgeTest {
    private int resets;
    private final Piix3IsaBridge bridge = new Piix3IsaBridge(() -> resets++);

    @Test
    void identifiesAsTheMultiFunctionPiix3IsaBridge() {
        // 82371SB 2.2: VID 8086, DID 7000, class 06 01 00; header type bit 7: functions other than 0 exist
        assertThat(bridge.readConfig(0x00, 4)).isEqualTo(0x7000_8086);
        assertThat(bridge.readConfig(0x08, 4)).isEqualTo(0x0601_0000);
        assertThat(bridge.readConfig(PciConfigSpace.HEADER_TYPE, 1)).isEqualTo(0x80);
    }

    @Test
    void rcpuRisingResetsTheSystem() {
        // RC bit 2 (RCPU): a 0-to-1 transition initiates a reset; SRST (bit 1) picks hard or soft
        bridge.resetControlPort().write(0, 1, 0x02);
        assertThat(resets).isZero();
        bridge.resetControlPort().write(0, 1, 0x06);
        assertThat(resets).isEqualTo(1);
        bridge.resetControlPort().write(0, 1, 0x06);
        assertThat(resets).isEqualTo(1);
    }

    @Test
    void rcReadsBackSrst() {
        bridge.resetControlPort().write(0, 1, 0xFA);
        assertThat(bridge.resetControlPort().read(0, 1)).isEqualTo(0x02);
    }

    @Test
    void dlcKeepsPassiveReleaseAsLinuxSetsIt() {
        // 82371SB DLC (0x82): bits 3-0 read/write, reset 0; Linux's quirk sets bit 1 (Passive Release)
        bridge.writeConfig(0x82, 1, 0xFF);
        assertThat(bridge.readConfig(0x82, 1)).isEqualTo(0x0F);
    }
}

package hvlab.hw.device.pit;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.clock.VirtualClock;
import hvlab.hw.irq.IrqLine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** IBM PC/AT Technical Reference, "System Control Port B" (port 0x61), with the 8254's counter 2 behind it. */
class SystemControlPortBTest {
    private VirtualClock clock;
    private Pit8254 pit;
    private SystemControlPortB portB;

    @BeforeEach
    void powerUp() {
        clock = new VirtualClock();
        pit = new Pit8254(IrqLine.NONE, clock);
        portB = new SystemControlPortB(pit);
    }

    private void atTick(long tick) {
        clock.advanceTo(Pit8254.INPUT_CLOCK.nanosAt(tick));
    }

    @Test
    void bit5ReadsOut2OfAMode0CountGatedByBit0() {
        // Port 0x61 bit 0 = GATE2, bit 5 = OUT2; the Linux/BIOS "wait for OUT2" calibration loop
        portB.writeByte(0, 0x01);
        pit.writeByte(3, 0xB0);
        pit.writeByte(2, 16);
        pit.writeByte(2, 0);
        atTick(16);
        assertThat(portB.readByte(0) & 0x20).isZero();
        atTick(17);
        assertThat(portB.readByte(0) & 0x20).isEqualTo(0x20);
        assertThat(portB.readByte(0) & 0x0F).isEqualTo(0x01);
    }

    @Test
    void gate2StartsLowBecauseThePortResetsToZero() {
        pit.writeByte(3, 0xB0);
        pit.writeByte(2, 16);
        pit.writeByte(2, 0);
        atTick(1000);
        assertThat(portB.readByte(0) & 0x20).isZero();
        assertThat(portB.readByte(0) & 0x03).isZero();
    }

    @Test
    void refreshToggleBit4FlipsEvery18InputTicks() {
        // PC/AT: refresh request toggles once per 15.085 us refresh cycle
        assertThat(portB.readByte(0) & 0x10).isZero();
        atTick(17);
        assertThat(portB.readByte(0) & 0x10).isZero();
        atTick(18);
        assertThat(portB.readByte(0) & 0x10).isEqualTo(0x10);
        atTick(36);
        assertThat(portB.readByte(0) & 0x10).isZero();
    }

    @Test
    void speakerDataBitIsStoredAndReadBack() {
        portB.writeByte(0, 0x03);
        assertThat(portB.speakerDataEnabled()).isTrue();
        assertThat(portB.readByte(0) & 0x03).isEqualTo(0x03);
        portB.writeByte(0, 0x01);
        assertThat(portB.speakerDataEnabled()).isFalse();
    }
}

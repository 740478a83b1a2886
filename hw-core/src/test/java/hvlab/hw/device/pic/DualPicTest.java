package hvlab.hw.device.pic;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two 8259As cascaded on IR2 as in the PC/AT (8259A datasheet, "Cascading"; IBM PC/AT Technical Reference). */
class DualPicTest {
    private boolean intr;
    private DualPic pics;

    @BeforeEach
    void initializeLikeAPcBios() {
        pics = new DualPic(high -> intr = high);
        Pic8259 master = pics.master();
        Pic8259 slave = pics.slave();
        master.writeByte(0, 0x11);
        master.writeByte(1, 0x08);
        master.writeByte(1, 0x04); // ICW3: slave on IR2
        master.writeByte(1, 0x01);
        slave.writeByte(0, 0x11);
        slave.writeByte(1, 0x70);
        slave.writeByte(1, 0x02); // ICW3: slave ID 2
        slave.writeByte(1, 0x01);
    }

    private static int isr(Pic8259 pic) {
        pic.writeByte(0, 0x0B);
        return pic.readByte(0);
    }

    @Test
    void aSlaveRequestReachesTheCpuThroughIr2AndTheSlaveSuppliesTheVector() {
        // "Cascade Mode": the master passes INTA to the slave named in ICW3; both set their IS bit
        pics.irq(10).raise();
        assertThat(intr).isTrue();
        assertThat(pics.hasPendingInterrupt()).isTrue();
        assertThat(pics.acknowledge()).isEqualTo(0x72);
        assertThat(isr(pics.master())).isEqualTo(0x04);
        assertThat(isr(pics.slave())).isEqualTo(0x04);
        pics.slave().writeByte(0, 0x20);
        pics.master().writeByte(0, 0x20);
        assertThat(isr(pics.master())).isZero();
        assertThat(isr(pics.slave())).isZero();
    }

    @Test
    void masterInputsBelowTheCascadeOutrankEverySlaveInput() {
        // "Cascade Mode": the slave's requests have the priority of the master's IR2
        pics.irq(8).raise();
        pics.irq(1).raise();
        pics.irq(3).raise();
        assertThat(pics.acknowledge()).isEqualTo(0x09);
        pics.master().writeByte(0, 0x20);
        assertThat(pics.acknowledge()).isEqualTo(0x70);
        pics.slave().writeByte(0, 0x20);
        pics.master().writeByte(0, 0x20);
        assertThat(pics.acknowledge()).isEqualTo(0x0B);
    }

    @Test
    void aSlaveRequestWithdrawnBeforeIntaYieldsIrq15WithMasterIr2InService() {
        // "Edge and Level Triggered Modes" + "Cascade Mode": the slave answers its IR7 (the PC's spurious IRQ15)
        pics.elcr().writeByte(1, 0x08); // IRQ11 level-triggered
        pics.irq(11).raise();
        assertThat(intr).isTrue();
        pics.irq(11).lower();
        assertThat(pics.acknowledge()).isEqualTo(0x77);
        assertThat(isr(pics.slave())).isZero();
        assertThat(isr(pics.master())).isEqualTo(0x04);
    }

    @Test
    void aSlaveStaysBlockedUntilTheMasterGetsItsEoi() {
        // "Cascade Mode": an EOI must go to the slave and to the master
        pics.irq(12).raise();
        pics.acknowledge();
        pics.slave().writeByte(0, 0x20);
        pics.irq(9).raise();
        assertThat(intr).isFalse();
        pics.master().writeByte(0, 0x20);
        assertThat(intr).isTrue();
        assertThat(pics.acknowledge()).isEqualTo(0x71);
    }

    @Test
    void specialFullyNestedModeLetsAHigherSlaveRequestNestInTheSameMasterLevel() {
        // "Special Fully Nest Mode": the master does not lock out its own in-service slave input
        pics.master().writeByte(0, 0x11);
        pics.master().writeByte(1, 0x08);
        pics.master().writeByte(1, 0x04);
        pics.master().writeByte(1, 0x11); // ICW4 with SFNM
        pics.irq(12).raise();
        assertThat(pics.acknowledge()).isEqualTo(0x74);
        pics.irq(9).raise();
        assertThat(intr).isTrue();
        assertThat(pics.acknowledge()).isEqualTo(0x71);
        pics.irq(3).raise();
        assertThat(intr).isFalse();
    }

    @Test
    void elcrBitsForIrq0Irq1Irq2Irq8AndIrq13StayEdge() {
        // PIIX datasheet, ELCR1/ELCR2: those IRQs are edge-only on a PC
        pics.elcr().write(0, 2, 0xFFFF);
        assertThat(pics.elcr().readByte(0)).isEqualTo(0xF8);
        assertThat(pics.elcr().readByte(1)).isEqualTo(0xDE);
        assertThat(pics.master().elcr()).isEqualTo(0xF8);
    }

    @Test
    void isaIrq2IsRedirectedToIrq9() {
        // IBM PC/AT Technical Reference: the bus IRQ2 pin is wired to IRQ9
        pics.irq(2).raise();
        assertThat(pics.acknowledge()).isEqualTo(0x71);
    }

    @Test
    void stateRoundTripKeepsBothParts() {
        pics.irq(10).raise();
        pics.irq(4).raise();
        DualPic.State saved = pics.state();
        boolean[] restored = {false};
        DualPic copy = new DualPic(high -> restored[0] = high);
        copy.restore(saved);
        assertThat(copy.state()).isEqualTo(saved);
        assertThat(restored[0]).isTrue();
        assertThat(copy.acknowledge()).isEqualTo(0x72);
        copy.slave().writeByte(0, 0x20);
        copy.master().writeByte(0, 0x20);
        assertThat(copy.acknowledge()).isEqualTo(0x0C);
    }
}

package hvlab.hw.device.acpi;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.RecordingLine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ACPI 6.4, 4.8.3: PM1 event and control registers and the PM timer, at the PIIX4's offsets (82371AB 11.2). */
class AcpiPmBlockTest {
    private static final int PM1_STS = 0, PM1_EN = 2, PM1_CNT = 4, PM_TMR = 8;
    /** Nanoseconds for 2^23 timer ticks, the interval between changes of bit 23: 2.343 s. */
    private static final long CARRY_NANOS = AcpiPmBlock.TIMER_CLOCK.nanosAt(1L << 23);

    private VirtualClock clock;
    private RecordingLine sci;
    private int softOffs;
    private AcpiPmBlock pm;

    @BeforeEach
    void powerUp() {
        clock = new VirtualClock();
        sci = new RecordingLine();
        pm = new AcpiPmBlock(sci, clock, () -> softOffs++);
    }

    @Test
    void pmTimerCountsAt3579545HzFromPowerOn() {
        // 4.8.3.3: PM_TMR is a 24-bit counter running at 3.579545 MHz
        assertThat(pm.read(PM_TMR, 4)).isZero();
        clock.advanceTo(1_000_000_000L);
        assertThat(pm.read(PM_TMR, 4)).isEqualTo(3_579_545);
        clock.advanceTo(1_000_000_280L); // one tick is 279.4 ns
        assertThat(pm.read(PM_TMR, 4)).isEqualTo(3_579_546);
    }

    @Test
    void pmTimerWrapsAt24Bits() {
        // 4.8.3.3: TMR_VAL_EXT = 0 in the FADT, so the value wraps from 0xFFFFFF to 0
        clock.advanceTo(AcpiPmBlock.TIMER_CLOCK.nanosAt(1L << 24) + 1);
        assertThat(pm.read(PM_TMR, 4)).isEqualTo(0);
        assertThat(pm.read(PM_TMR + 3, 1)).isZero();
    }

    @Test
    void pmTimerIsReadOnly() {
        clock.advanceTo(1_000);
        int before = pm.read(PM_TMR, 4);
        pm.write(PM_TMR, 4, 0x00AB_CDEF);
        assertThat(pm.read(PM_TMR, 4)).isEqualTo(before);
    }

    @Test
    void tmrStsSetsWhenBit23ChangesAndClearsOnWriteOfOne() {
        // 4.8.3.1.1 Table 4.16: TMR_STS is set whenever the MSB of the timer changes; write 1 to clear
        clock.advanceTo(CARRY_NANOS - 1);
        assertThat(pm.read(PM1_STS, 2) & AcpiPmBlock.TMR).isZero();
        clock.advanceTo(CARRY_NANOS);
        assertThat(pm.read(PM1_STS, 2) & AcpiPmBlock.TMR).isEqualTo(AcpiPmBlock.TMR);
        pm.write(PM1_STS, 2, 0);
        assertThat(pm.read(PM1_STS, 2) & AcpiPmBlock.TMR).isEqualTo(AcpiPmBlock.TMR);
        pm.write(PM1_STS, 2, AcpiPmBlock.TMR);
        assertThat(pm.read(PM1_STS, 2) & AcpiPmBlock.TMR).isZero();
        clock.advanceTo(2 * CARRY_NANOS); // bit 23 goes back to 0: another change
        assertThat(pm.read(PM1_STS, 2) & AcpiPmBlock.TMR).isEqualTo(AcpiPmBlock.TMR);
    }

    @Test
    void timerOverflowRaisesSciOnlyWithTmrEnAndSciEn() {
        // 4.8.3.1: an event raises the SCI when its status and enable bits are set and SCI_EN routes it to the OS
        assertThat(pm.nextEventNanos()).isEqualTo(Clocked.NO_EVENT);
        pm.write(PM1_CNT, 2, AcpiPmBlock.SCI_EN);
        pm.write(PM1_EN, 2, AcpiPmBlock.TMR);
        assertThat(pm.nextEventNanos()).isEqualTo(CARRY_NANOS);
        clock.advanceTo(CARRY_NANOS);
        assertThat(pm.nextEventNanos()).as("due until the line follows").isEqualTo(CARRY_NANOS);
        pm.advanceTo(CARRY_NANOS);
        assertThat(sci.level()).isTrue();
        assertThat(pm.nextEventNanos()).isEqualTo(Clocked.NO_EVENT);
        pm.write(PM1_STS, 2, AcpiPmBlock.TMR);
        assertThat(sci.level()).isFalse();
        assertThat(pm.nextEventNanos()).isEqualTo(AcpiPmBlock.TIMER_CLOCK.nanosAt(2L << 23));
    }

    @Test
    void sciFollowsSciEnForAPendingEvent() {
        clock.advanceTo(CARRY_NANOS);
        pm.write(PM1_EN, 2, AcpiPmBlock.TMR);
        assertThat(sci.level()).isFalse();
        pm.setSciEnabled(true);
        assertThat(sci.level()).isTrue();
        pm.write(PM1_EN, 2, 0);
        assertThat(sci.level()).isFalse();
    }

    @Test
    void powerButtonStatusRaisesSciWhenEnabled() {
        // 4.8.3.1.1: PWRBTN_STS, enabled by PWRBTN_EN
        pm.write(PM1_CNT, 2, AcpiPmBlock.SCI_EN);
        pm.write(PM1_EN, 2, AcpiPmBlock.PWRBTN);
        pm.pressPowerButton();
        assertThat(pm.read(PM1_STS, 2) & AcpiPmBlock.PWRBTN).isEqualTo(AcpiPmBlock.PWRBTN);
        assertThat(sci.level()).isTrue();
        pm.write(PM1_STS + 1, 1, AcpiPmBlock.PWRBTN >> 8);
        assertThat(sci.level()).isFalse();
    }

    @Test
    void pm1EnableKeepsTheFourPiix4Events() {
        // 82371AB PMEN: TMROF_EN, GBL_EN, PWRBTN_EN, RTC_EN; other bits reserved, read 0. ACPICA reads GBL_EN back.
        pm.write(PM1_EN, 2, 0xFFFF);
        assertThat(pm.read(PM1_EN, 2)).isEqualTo(0x0521);
    }

    @Test
    void pm1ControlKeepsSciEnAndSlpTypAndSlpEnReadsZero() {
        // 4.8.3.2.1 Table 4.18: SLP_EN is write-only and reads 0; GBL_RLS is write-only
        pm.write(PM1_CNT, 2, AcpiPmBlock.SCI_EN | 5 << AcpiPmBlock.SLP_TYP_SHIFT | AcpiPmBlock.GBL_RLS);
        assertThat(pm.read(PM1_CNT, 2)).isEqualTo(AcpiPmBlock.SCI_EN | 5 << AcpiPmBlock.SLP_TYP_SHIFT);
        assertThat(softOffs).isZero();
    }

    @Test
    void slpEnWithSoftOffTypeEntersS5() {
        // 4.8.3.2.1 + 7.4.2 \_S5: OSPM writes SLP_TYPa from \_S5 with SLP_EN; the PIIX4's soft-off type is 0
        pm.write(PM1_CNT, 2, AcpiPmBlock.SCI_EN | AcpiPmBlock.SLP_TYP_SOFT_OFF << AcpiPmBlock.SLP_TYP_SHIFT);
        assertThat(softOffs).isZero();
        pm.write(PM1_CNT, 2, AcpiPmBlock.SCI_EN | AcpiPmBlock.SLP_EN);
        assertThat(softOffs).isEqualTo(1);
    }

    @Test
    void slpEnWithAnotherTypeDoesNotPowerOff() {
        pm.write(PM1_CNT, 2, 1 << AcpiPmBlock.SLP_TYP_SHIFT | AcpiPmBlock.SLP_EN);
        assertThat(softOffs).isZero();
    }

    @Test
    void byteWritesToTheControlHighByteActAsTheWordDoes() {
        pm.write(PM1_CNT + 1, 1, AcpiPmBlock.SLP_EN >> 8);
        assertThat(softOffs).isEqualTo(1);
    }

    @Test
    void stateRoundTrips() {
        pm.write(PM1_CNT, 2, AcpiPmBlock.SCI_EN);
        pm.write(PM1_EN, 2, AcpiPmBlock.PWRBTN);
        pm.pressPowerButton();
        RecordingLine otherSci = new RecordingLine();
        AcpiPmBlock copy = new AcpiPmBlock(otherSci, clock, () -> { });
        copy.restore(pm.state());
        assertThat(copy.read(PM1_STS, 2)).isEqualTo(AcpiPmBlock.PWRBTN);
        assertThat(otherSci.level()).isTrue();
    }
}

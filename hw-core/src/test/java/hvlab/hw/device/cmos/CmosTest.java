package hvlab.hw.device.cmos;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.RecordingLine;
import java.time.LocalDateTime;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Motorola MC146818A datasheet, and the IBM PC/AT Technical Reference for the CMOS RAM layout. */
class CmosTest {
    private static final long SECOND = 1_000_000_000L;

    private VirtualClock clock;
    private RecordingLine irq8;
    private Cmos cmos;

    @BeforeEach
    void powerUp() {
        clock = new VirtualClock();
        irq8 = new RecordingLine();
        cmos = new Cmos(irq8, clock);
    }

    private int read(int register) {
        cmos.writeByte(0, register);
        return cmos.readByte(1);
    }

    private void write(int register, int value) {
        cmos.writeByte(0, register);
        cmos.writeByte(1, value);
    }

    private void runUntil(long nanos) {
        while (cmos.nextEventNanos() <= nanos) {
            long event = cmos.nextEventNanos();
            clock.advanceTo(event);
            cmos.advanceTo(event);
        }
        clock.advanceTo(nanos);
    }

    @Test
    void timeRegistersShowTheDefaultStartInBcd() {
        // "Time, Calendar and Alarm Locations", Table 3: BCD when DM = 0; 2000-01-01 was a Saturday (7)
        assertThat(read(Cmos.SECONDS)).isZero();
        assertThat(read(Cmos.HOURS)).isZero();
        assertThat(read(Cmos.DAY_OF_WEEK)).isEqualTo(7);
        assertThat(read(Cmos.DAY_OF_MONTH)).isEqualTo(0x01);
        assertThat(read(Cmos.MONTH)).isEqualTo(0x01);
        assertThat(read(Cmos.YEAR)).isEqualTo(0x00);
        assertThat(read(Cmos.CENTURY)).isEqualTo(0x20);
    }

    @Test
    void theClockAdvancesOneSecondPerUpdateOfVirtualTime() {
        // "Update Cycle": once per second the time advances by one second
        runUntil(3 * 3600 * SECOND + 25 * 60 * SECOND + 47 * SECOND + SECOND / 2);
        assertThat(read(Cmos.HOURS)).isEqualTo(0x03);
        assertThat(read(Cmos.MINUTES)).isEqualTo(0x25);
        assertThat(read(Cmos.SECONDS)).isEqualTo(0x47);
    }

    @Test
    void updatesCarryIntoTheNextDayMonthYearAndCentury() {
        // "Update Cycle": the calendar, day of week included, rolls over at midnight
        cmos = new Cmos(irq8, clock, LocalDateTime.of(1999, 12, 31, 23, 59, 59));
        assertThat(read(Cmos.DAY_OF_WEEK)).isEqualTo(6);
        runUntil(SECOND);
        assertThat(read(Cmos.YEAR)).isEqualTo(0x00);
        assertThat(read(Cmos.CENTURY)).isEqualTo(0x20);
        assertThat(read(Cmos.MONTH)).isEqualTo(0x01);
        assertThat(read(Cmos.DAY_OF_MONTH)).isEqualTo(0x01);
        assertThat(read(Cmos.DAY_OF_WEEK)).isEqualTo(7);
        assertThat(read(Cmos.HOURS)).isZero();
    }

    @Test
    void binaryModeReadsPlainNumbers() {
        // "Register B" bit 2 (DM): 1 = binary
        runUntil(59 * SECOND);
        write(Cmos.REGISTER_B, 0x06);
        assertThat(read(Cmos.SECONDS)).isEqualTo(59);
        write(Cmos.REGISTER_B, 0x02);
        assertThat(read(Cmos.SECONDS)).isEqualTo(0x59);
    }

    @Test
    void twelveHourModeSetsBit7ForPm() {
        // "Register B" bit 1 (24/12): 12-hour mode, hours 1-12, bit 7 = PM
        cmos = new Cmos(irq8, clock, LocalDateTime.of(2024, 5, 6, 13, 0, 0));
        write(Cmos.REGISTER_B, 0x00);
        assertThat(read(Cmos.HOURS)).isEqualTo(0x81);
        cmos = new Cmos(irq8, clock, LocalDateTime.of(2024, 5, 6, 0, 30, 0));
        write(Cmos.REGISTER_B, 0x00);
        assertThat(read(Cmos.HOURS)).isEqualTo(0x12);
    }

    @Test
    void setBitHoldsTheTimeWhileItIsWrittenFieldByField() {
        // "Register B" bit 7 (SET): updates are inhibited while the program initializes the time bytes
        cmos = new Cmos(irq8, clock, LocalDateTime.of(2000, 2, 10, 8, 0, 0));
        write(Cmos.REGISTER_B, 0x82);
        write(Cmos.DAY_OF_MONTH, 0x31);
        write(Cmos.MONTH, 0x01);
        write(Cmos.YEAR, 0x24);
        runUntil(5 * SECOND);
        assertThat(read(Cmos.SECONDS)).isZero();
        assertThat(read(Cmos.DAY_OF_MONTH)).isEqualTo(0x31);
        assertThat(read(Cmos.MONTH)).isEqualTo(0x01);
        write(Cmos.REGISTER_B, 0x02);
        runUntil(5 * SECOND + 16 * 3600 * SECOND);
        assertThat(read(Cmos.YEAR)).isEqualTo(0x24);
        assertThat(read(Cmos.MONTH)).isEqualTo(0x02);
        assertThat(read(Cmos.DAY_OF_MONTH)).isEqualTo(0x01);
        assertThat(read(Cmos.HOURS)).isZero();
    }

    @Test
    void registerCIsClearedByReadingItAndLowersIrq8() {
        // "Register C": IRQF, PF, AF, UF are cleared by a read of register C
        write(Cmos.REGISTER_B, 0x12);
        runUntil(SECOND);
        assertThat(irq8.level()).isTrue();
        assertThat(read(Cmos.REGISTER_C)).isEqualTo(0xD0); // PF too: the 1024 Hz tap runs whatever PIE says
        assertThat(irq8.level()).isFalse();
        assertThat(read(Cmos.REGISTER_C)).isZero();
    }

    @Test
    void periodicInterruptComesAtTheRateSelectFrequency() {
        // "Register A" RS3-RS0 = 0110: 976.5625 us (1024 Hz) with the 32.768 kHz time base (Table 5)
        write(Cmos.REGISTER_B, 0x42);
        assertThat(cmos.nextEventNanos()).isEqualTo(976_563L);
        runUntil(976_562L);
        assertThat(irq8.level()).isFalse();
        runUntil(976_563L);
        assertThat(irq8.level()).isTrue();
        assertThat(cmos.nextEventNanos()).isEqualTo(Clocked.NO_EVENT);
        assertThat(read(Cmos.REGISTER_C)).isEqualTo(0xC0);
        assertThat(cmos.nextEventNanos()).isEqualTo(1_953_125L);
        write(Cmos.REGISTER_A, 0x2F); // 2 Hz
        read(Cmos.REGISTER_C);
        assertThat(cmos.nextEventNanos()).isEqualTo(SECOND / 2);
    }

    @Test
    void periodicFlagIsSetEvenWhenItsInterruptIsDisabled() {
        // "Register C" PF: set independent of the state of PIE
        runUntil(SECOND / 100);
        assertThat(read(Cmos.REGISTER_C)).isEqualTo(0x40);
        assertThat(irq8.risingEdges()).isZero();
    }

    @Test
    void alarmInterruptFiresWhenTheTimeMatchesWithDontCareBytes() {
        // "Alarm": an alarm byte of 0xC0-0xFF matches any value
        write(Cmos.SECONDS_ALARM, 0x05);
        write(Cmos.MINUTES_ALARM, 0xFF);
        write(Cmos.HOURS_ALARM, 0xFF);
        write(Cmos.REGISTER_B, 0x22);
        assertThat(cmos.nextEventNanos()).isEqualTo(SECOND);
        runUntil(4 * SECOND);
        assertThat(irq8.level()).isFalse();
        runUntil(5 * SECOND);
        assertThat(irq8.level()).isTrue();
        assertThat(read(Cmos.REGISTER_C)).isEqualTo(0xF0);
        runUntil(64 * SECOND);
        assertThat(read(Cmos.REGISTER_C) & 0x20).isZero();
        runUntil(65 * SECOND);
        assertThat(read(Cmos.REGISTER_C)).isEqualTo(0xF0);
    }

    @Test
    void updateInProgressRisesTheLast244MicrosecondsBeforeAnUpdate() {
        // "Register A" UIP and Table 6: tBUC = 244 us; writing SET clears UIP
        runUntil(999_755_859L);
        assertThat(read(Cmos.REGISTER_A)).isEqualTo(0x26);
        runUntil(999_755_860L);
        assertThat(read(Cmos.REGISTER_A)).isEqualTo(0xA6);
        write(Cmos.REGISTER_B, 0x82);
        assertThat(read(Cmos.REGISTER_A)).isEqualTo(0x26);
    }

    @Test
    void firstUpdateComesHalfASecondAfterTheDividerLeavesReset() {
        // "Register A" DV2-DV0: 11x holds the divider in reset; the first update is 500 ms after release
        write(Cmos.REGISTER_A, 0x70);
        runUntil(10 * SECOND + SECOND / 4);
        assertThat(read(Cmos.SECONDS)).isZero();
        write(Cmos.REGISTER_A, 0x26);
        runUntil(10 * SECOND + 3 * SECOND / 4 - 1);
        assertThat(read(Cmos.SECONDS)).isZero();
        runUntil(10 * SECOND + 3 * SECOND / 4);
        assertThat(read(Cmos.SECONDS)).isEqualTo(0x01);
    }

    @Test
    void settingSetClearsUpdateEndedInterruptEnable() {
        // "Register B" bit 4 (UIE): cleared by the SET bit going high
        write(Cmos.REGISTER_B, 0x92);
        assertThat(read(Cmos.REGISTER_B)).isEqualTo(0x82);
    }

    @Test
    void registerDReportsValidRamAndTime() {
        // "Register D" bit 7 (VRT)
        write(Cmos.REGISTER_D, 0x00);
        assertThat(read(Cmos.REGISTER_D)).isEqualTo(0x80);
    }

    @Test
    void memorySizeBytesFollowThePcAtLayout() {
        // PC/AT CMOS: 0x15-0x16 base KiB, 0x17-0x18 and 0x30-0x31 KiB above 1 MiB, 0x34-0x35 64 KiB units above 16 MiB
        cmos.setMemorySize(32L << 20);
        assertThat(read(0x15) | read(0x16) << 8).isEqualTo(640);
        assertThat(read(0x17) | read(0x18) << 8).isEqualTo(31 * 1024);
        assertThat(read(0x30) | read(0x31) << 8).isEqualTo(31 * 1024);
        assertThat(read(0x34) | read(0x35) << 8).isEqualTo(16 * 16);
        int sum = 0;
        for (int i = 0x10; i <= 0x2D; i++) {
            sum += read(i);
        }
        assertThat(read(0x2E) << 8 | read(0x2F)).isEqualTo(sum);
    }

    @Test
    void extendedMemoryBytesAreCappedAt0xFfff() {
        cmos.setMemorySize(5L << 30);
        assertThat(read(0x17) | read(0x18) << 8).isEqualTo(0xFFFF);
        assertThat(read(0x34) | read(0x35) << 8).isEqualTo(0xFFFF);
        cmos.setEquipment(0x2F);
        assertThat(read(Cmos.EQUIPMENT)).isEqualTo(0x2F);
    }

    @Test
    void indexBit7IsTheNmiMaskAndDoesNotSelectARegister() {
        // PC/AT port 0x70: bit 7 disables NMI, bits 6-0 address the MC146818
        cmos.writeByte(0, 0x80 | 0x40);
        cmos.writeByte(1, 0x5A);
        assertThat(cmos.nmiMasked()).isTrue();
        cmos.writeByte(0, 0x40);
        assertThat(cmos.nmiMasked()).isFalse();
        assertThat(cmos.readByte(1)).isEqualTo(0x5A);
        cmos.writeByte(0, 0x80 | Cmos.REGISTER_D);
        assertThat(cmos.readByte(1)).isEqualTo(0x80);
    }

    @Test
    void stateRoundTripKeepsTimeRamAndFlags() {
        write(0x40, 0x77);
        write(Cmos.REGISTER_B, 0x12);
        runUntil(SECOND + 1);
        Cmos.State saved = cmos.state();
        RecordingLine otherIrq8 = new RecordingLine();
        Cmos copy = new Cmos(otherIrq8, clock, LocalDateTime.of(1990, 1, 1, 0, 0));
        copy.restore(saved);
        assertThat(otherIrq8.level()).isTrue();
        copy.writeByte(0, 0x40);
        assertThat(copy.readByte(1)).isEqualTo(0x77);
        copy.writeByte(0, Cmos.SECONDS);
        assertThat(copy.readByte(1)).isEqualTo(0x01);
        copy.writeByte(0, Cmos.YEAR);
        assertThat(copy.readByte(1)).isEqualTo(0x00);
    }
}

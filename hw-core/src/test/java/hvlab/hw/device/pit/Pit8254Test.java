package hvlab.hw.device.pit;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.RecordingLine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Intel 8254 datasheet (order no. 231164). A count written at tick T is loaded on the next clock pulse, tick T+1;
 * every test starts at virtual time 0 (tick 0), so loads happen at tick 1. Nanosecond values are
 * ceil(tick * 1e9 / 1193182), the instant the tick happens.
 */
class Pit8254Test {
    private static final int CONTROL = 3;

    private VirtualClock clock;
    private RecordingLine irq0;
    private Pit8254 pit;

    @BeforeEach
    void powerUp() {
        clock = new VirtualClock();
        irq0 = new RecordingLine();
        pit = new Pit8254(irq0, clock);
    }

    private void program(int counter, int controlWord, int count) {
        pit.writeByte(CONTROL, controlWord);
        pit.writeByte(counter, count & 0xFF);
        pit.writeByte(counter, count >>> 8 & 0xFF);
    }

    /** What the machine does: fire each event at its exact time, then let time reach {@code nanos}. */
    private void runUntil(long nanos) {
        while (pit.nextEventNanos() <= nanos) {
            long event = pit.nextEventNanos();
            clock.advanceTo(event);
            pit.advanceTo(event);
        }
        clock.advanceTo(nanos);
    }

    private void atTick(long tick) {
        runUntil(Pit8254.INPUT_CLOCK.nanosAt(tick));
    }

    private int readWord(int counter) {
        return pit.readByte(counter) | pit.readByte(counter) << 8;
    }

    @Test
    void mode2RateGeneratorRaisesIrq0OncePerPeriodAtExactVirtualTimes() {
        // "Mode 2: Rate Generator": OUT goes low for one clock when the count reaches 1, then the CE reloads
        program(0, 0x34, 1193);
        assertThat(pit.nextEventNanos()).isEqualTo(1_000_686L);
        runUntil(1_000_685L);
        assertThat(irq0.risingEdges()).isZero();
        runUntil(1_000_686L);
        assertThat(irq0.risingEdges()).isEqualTo(1);
        assertThat(pit.nextEventNanos()).isEqualTo(2_000_534L);
        runUntil(10_000_000L); // tick 11931 = 1 + 10 * 1193
        assertThat(irq0.risingEdges()).isEqualTo(10);
    }

    @Test
    void mode2OutIsLowExactlyDuringTheTickWhenTheCountIsOne() {
        // "Mode 2": OUT low for one CLK pulse when the count reaches 1
        program(0, 0x34, 1193);
        atTick(1193);
        assertThat(pit.out(0)).isFalse();
        assertThat(irq0.level()).isFalse();
        atTick(1194);
        assertThat(pit.out(0)).isTrue();
        assertThat(readWord(0)).isEqualTo(1193);
    }

    @Test
    void mode3SquareWaveIsHighForHalfTheCountAndCountsDownByTwo() {
        // "Mode 3: Square Wave Mode", even counts: the CE decrements by two and OUT toggles when it expires
        program(0, 0x36, 4);
        assertThat(pit.nextEventNanos()).isEqualTo(4191L); // tick 5
        atTick(1);
        assertThat(readWord(0)).isEqualTo(4);
        assertThat(pit.out(0)).isTrue();
        atTick(2);
        assertThat(readWord(0)).isEqualTo(2);
        atTick(3);
        assertThat(readWord(0)).isEqualTo(4);
        assertThat(pit.out(0)).isFalse();
        atTick(5);
        assertThat(pit.out(0)).isTrue();
        assertThat(irq0.risingEdges()).isEqualTo(1);
        assertThat(pit.nextEventNanos()).isEqualTo(7543L); // tick 9
    }

    @Test
    void mode3OddCountIsHighForNPlusOneHalvesAndLowForNMinusOneHalves() {
        // "Mode 3", odd counts: OUT high for (N+1)/2 counts and low for (N-1)/2 counts
        program(0, 0x36, 5);
        boolean[] out = new boolean[10];
        for (int tick = 1; tick <= 10; tick++) {
            atTick(tick);
            out[tick - 1] = pit.out(0);
        }
        assertThat(out).containsExactly(true, true, true, false, false, true, true, true, false, false);
        assertThat(irq0.risingEdges()).isEqualTo(1); // at tick 6
    }

    @Test
    void mode0OutRisesNPlusOneTicksAfterTheCountIsWrittenAndStaysHigh() {
        // "Mode 0: Interrupt on Terminal Count": OUT goes high N+1 CLK pulses after the initial count is written
        program(0, 0x30, 100);
        assertThat(irq0.level()).isFalse();
        atTick(100);
        assertThat(pit.out(0)).isFalse();
        atTick(101);
        assertThat(pit.out(0)).isTrue();
        assertThat(irq0.risingEdges()).isEqualTo(1);
        assertThat(pit.nextEventNanos()).isEqualTo(Clocked.NO_EVENT);
        atTick(5000);
        assertThat(irq0.risingEdges()).isEqualTo(1);
        assertThat(readWord(0)).isEqualTo(0x10000 - (5000 - 101));
    }

    @Test
    void mode0WritingTheFirstByteStopsCountingAndDropsOut() {
        // "Mode 0": writing the first byte of a two-byte count disables counting and sets OUT low
        program(0, 0x30, 10);
        atTick(20);
        assertThat(irq0.level()).isTrue();
        pit.writeByte(0, 50);
        assertThat(pit.out(0)).isFalse();
        atTick(40);
        pit.writeByte(0, 0);
        atTick(90);
        assertThat(pit.out(0)).isFalse();
        atTick(91);
        assertThat(pit.out(0)).isTrue();
        assertThat(irq0.risingEdges()).isEqualTo(2);
    }

    @Test
    void mode4SoftwareStrobeIsLowForOneTickAndIrq0RisesAtItsEnd() {
        // "Mode 4: Software Triggered Strobe": OUT strobes low N+1 clocks after the count is written
        program(0, 0x38, 10);
        atTick(10);
        assertThat(pit.out(0)).isTrue();
        atTick(11);
        assertThat(pit.out(0)).isFalse();
        assertThat(irq0.risingEdges()).isZero();
        atTick(12);
        assertThat(pit.out(0)).isTrue();
        assertThat(irq0.risingEdges()).isEqualTo(1);
        assertThat(pit.nextEventNanos()).isEqualTo(Clocked.NO_EVENT);
    }

    @Test
    void counterLatchCommandHoldsTheCountUntilBothBytesAreRead() {
        // "Read Operations", Counter Latch Command: the latched count holds until read; a second latch is ignored
        program(0, 0x34, 1000);
        atTick(11);
        pit.writeByte(CONTROL, 0x00);
        atTick(300);
        pit.writeByte(CONTROL, 0x00);
        assertThat(pit.readByte(0)).isEqualTo(990 & 0xFF);
        atTick(400);
        assertThat(pit.readByte(0)).isEqualTo(990 >>> 8);
        assertThat(readWord(0)).isEqualTo(1000 - 399);
    }

    @Test
    void readBackLatchesStatusThenCount() {
        // "Read-Back Command": status byte = OUT, Null Count, RW1 RW0, M2 M1 M0, BCD; status is read first
        program(0, 0x34, 1000);
        pit.writeByte(CONTROL, 0xE2);
        assertThat(pit.readByte(0)).isEqualTo(0xC0 | 0x34);
        atTick(11);
        pit.writeByte(CONTROL, 0xC2);
        assertThat(pit.readByte(0)).isEqualTo(0x80 | 0x34);
        atTick(50);
        assertThat(readWord(0)).isEqualTo(990);
    }

    @Test
    void readBackStatusShowsOutLowAndNullCountAfterAControlWordInMode0() {
        // "Read-Back Command", Null Count: set by a control word, cleared when the CR is loaded into the CE
        pit.writeByte(CONTROL, 0xB0);
        pit.writeByte(CONTROL, 0xE8);
        assertThat(pit.readByte(2)).isEqualTo(0x40 | 0x30);
    }

    @Test
    void lsbOnlyAndMsbOnlyAccessTransferOneByte() {
        // "Write Operations": RW = 01 reads/writes the LSB only, RW = 10 the MSB only
        pit.writeByte(CONTROL, 0x50); // counter 1, LSB only, mode 0
        pit.writeByte(1, 0x80);
        atTick(17);
        assertThat(pit.readByte(1)).isEqualTo(0x70);
        assertThat(pit.readByte(1)).isEqualTo(0x70);
        pit.writeByte(CONTROL, 0x60); // counter 1, MSB only, mode 0
        pit.writeByte(1, 0x02);
        atTick(18 + 0x100);
        assertThat(pit.readByte(1)).isEqualTo(0x01);
    }

    @Test
    void lsbThenMsbAccessTogglesBetweenTheTwoBytes() {
        // "Write Operations": RW = 11 transfers the LSB first, then the MSB, for reads and writes alike
        program(1, 0x74, 0x1234);
        atTick(1);
        assertThat(pit.readByte(1)).isEqualTo(0x34);
        assertThat(pit.readByte(1)).isEqualTo(0x12);
        assertThat(pit.readByte(1)).isEqualTo(0x34);
    }

    @Test
    void bcdCounterCountsDownInDecimalDigits() {
        // Control word bit 0 (BCD): the counter is four decades
        program(0, 0x31, 0x1234);
        atTick(35);
        assertThat(pit.readByte(0)).isEqualTo(0x00);
        assertThat(pit.readByte(0)).isEqualTo(0x12);
    }

    @Test
    void mode2NewCountTakesEffectAtTheEndOfTheCurrentCycle() {
        // "Mode 2": writing a new count while counting does not affect the current period
        program(0, 0x34, 100);
        atTick(50);
        pit.writeByte(0, 10);
        pit.writeByte(0, 0);
        atTick(100);
        assertThat(irq0.risingEdges()).isZero();
        atTick(101);
        assertThat(irq0.risingEdges()).isEqualTo(1);
        atTick(111);
        assertThat(irq0.risingEdges()).isEqualTo(2);
        atTick(121);
        assertThat(irq0.risingEdges()).isEqualTo(3);
    }

    @Test
    void readingCounter0AfterAReloadStillSignalsTheEdgeThatEndedTheOldCycle() {
        // "Mode 2": the edge at the end of the old cycle belongs to the old count, even if nobody advanced the PIT
        program(0, 0x34, 100);
        atTick(50);
        pit.writeByte(0, 10);
        pit.writeByte(0, 0);
        clock.advanceTo(Pit8254.INPUT_CLOCK.nanosAt(105)); // the machine has not called advanceTo yet
        assertThat(readWord(0)).isEqualTo(6);
        assertThat(irq0.risingEdges()).isEqualTo(1);
        atTick(111);
        assertThat(irq0.risingEdges()).isEqualTo(2);
    }

    @Test
    void mode3NewCountTakesEffectAtTheEndOfTheCurrentHalfCycle() {
        // "Mode 3": a new count is loaded at the end of the current half-cycle
        program(0, 0x36, 10); // high at ticks 1-5, low from 6
        atTick(3);
        pit.writeByte(0, 4);
        pit.writeByte(0, 0);
        atTick(5);
        assertThat(pit.out(0)).isTrue();
        atTick(6);
        assertThat(pit.out(0)).isFalse();
        atTick(7);
        assertThat(pit.out(0)).isFalse();
        assertThat(irq0.risingEdges()).isZero();
        atTick(8);
        assertThat(irq0.risingEdges()).isEqualTo(1);
        atTick(10);
        assertThat(pit.out(0)).isFalse();
        atTick(12);
        assertThat(irq0.risingEdges()).isEqualTo(2);
    }

    @Test
    void aOneTickPeriodCostsOneEdgePerAdvanceInsteadOfHangingTheHost() {
        // Mode 2 with N = 1 (illegal in the datasheet): periods are computed, never stepped
        program(0, 0x34, 1);
        clock.advanceTo(1_000_000_000L);
        pit.advanceTo(1_000_000_000L);
        assertThat(irq0.risingEdges()).isEqualTo(1);
        assertThat(pit.nextEventNanos()).isBetween(1_000_000_001L, 1_000_000_839L);
    }

    @Test
    void gateLowInMode2ForcesOutHighAndGateHighReloadsTheCount() {
        // "Mode 2": GATE low disables counting; a rising GATE reloads the CE on the next clock
        pit.writeByte(CONTROL, 0xB4);
        pit.writeByte(2, 10);
        pit.writeByte(2, 0);
        atTick(10);
        assertThat(pit.out(2)).isFalse();
        pit.setGate(2, false);
        assertThat(pit.out(2)).isTrue();
        atTick(100);
        assertThat(readWord(2)).isEqualTo(1);
        pit.setGate(2, true);
        atTick(101);
        assertThat(readWord(2)).isEqualTo(10);
        atTick(110);
        assertThat(pit.out(2)).isFalse();
    }

    @Test
    void mode1OneShotIsTriggeredByARisingGate() {
        // "Mode 1: Hardware Retriggerable One-Shot": OUT low from the clock after the trigger for N clocks
        pit.setGate(2, false);
        pit.writeByte(CONTROL, 0xB2);
        pit.writeByte(2, 5);
        pit.writeByte(2, 0);
        atTick(20);
        assertThat(pit.out(2)).isTrue();
        pit.setGate(2, true);
        atTick(21);
        assertThat(pit.out(2)).isFalse();
        atTick(25);
        assertThat(pit.out(2)).isFalse();
        atTick(26);
        assertThat(pit.out(2)).isTrue();
    }

    @Test
    void mode0GateLowSuspendsCounting() {
        // "Mode 0": GATE = 0 disables counting
        pit.writeByte(CONTROL, 0xB0);
        pit.writeByte(2, 100);
        pit.writeByte(2, 0);
        atTick(11);
        pit.setGate(2, false);
        atTick(1000);
        assertThat(readWord(2)).isEqualTo(90);
        pit.setGate(2, true);
        atTick(1090);
        assertThat(pit.out(2)).isTrue();
        assertThat(readWord(2)).isZero();
    }

    @Test
    void stateRoundTripContinuesTheSameTimeline() {
        program(0, 0x34, 1193);
        atTick(600);
        Pit8254.State saved = pit.state();
        RecordingLine otherIrq0 = new RecordingLine();
        Pit8254 copy = new Pit8254(otherIrq0, clock);
        copy.restore(saved);
        assertThat(copy.state()).isEqualTo(saved);
        assertThat(copy.nextEventNanos()).isEqualTo(1_000_686L);
        copy.writeByte(CONTROL, 0x00);
        assertThat(copy.readByte(0) | copy.readByte(0) << 8).isEqualTo(1193 - 599);
    }
}

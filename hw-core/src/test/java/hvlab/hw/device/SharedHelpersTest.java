package hvlab.hw.device;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SharedHelpersTest {
    @Test
    void oscillatorTicksAreExactFloorsEvenAfterCenturiesOfVirtualTime() {
        Oscillator pit = new Oscillator(1_193_182);
        assertThat(pit.ticksAt(1_000_000_000L)).isEqualTo(1_193_182);
        assertThat(pit.ticksAt(838)).isZero();
        assertThat(pit.ticksAt(839)).isEqualTo(1);
        long twoHundredFiftyYears = 250L * 365 * 86_400 * 1_000_000_000L;
        long seconds = twoHundredFiftyYears / 1_000_000_000L;
        assertThat(pit.ticksAt(twoHundredFiftyYears)).isEqualTo(seconds * 1_193_182);
    }

    @Test
    void oscillatorNanosAtIsTheFirstInstantTheTickHasHappened() {
        Oscillator rtc = new Oscillator(32_768);
        for (long tick : new long[] {1, 7, 32_767, 32_768, 1_000_001}) {
            long nanos = rtc.nanosAt(tick);
            assertThat(rtc.ticksAt(nanos)).isEqualTo(tick);
            assertThat(rtc.ticksAt(nanos - 1)).isEqualTo(tick - 1);
        }
        assertThat(rtc.nanosAt(Oscillator.NEVER)).isEqualTo(Oscillator.NEVER);
    }

    @Test
    void bcdEncodesAndDecodesDecimalDigits() {
        assertThat(Bcd.encode(59)).isEqualTo(0x59);
        assertThat(Bcd.encode(9999)).isEqualTo(0x9999);
        assertThat(Bcd.decode(0x1234)).isEqualTo(1234);
        assertThat(Bcd.decode(0x1A)).isEqualTo(20);
    }
}

package hvlab.hw.device.i8042;

import hvlab.hw.device.ByteIoRegion;
import java.util.function.Consumer;

/**
 * PS/2 system control port A (port 0x92): bit 1 is the "fast A20" gate, bit 0 a fast reset (a 0-to-1 write resets
 * the CPU). It drives the same A20 and reset callbacks as the {@link I8042}; with both, the last change wins, as
 * in QEMU. It powers up with bit 1 set, matching the machine's initial A20-enabled state.
 */
public final class SystemControlPortA implements ByteIoRegion {
    public static final int PORT = 0x92;
    static final int FAST_RESET = 0x01;
    static final int FAST_A20 = 0x02;

    public record State(int value) {
    }

    private final Consumer<Boolean> a20Gate;
    private final Runnable systemReset;
    private int value = FAST_A20;

    public SystemControlPortA(Consumer<Boolean> a20Gate, Runnable systemReset) {
        this.a20Gate = a20Gate;
        this.systemReset = systemReset;
    }

    @Override
    public int readByte(int offset) {
        return offset == 0 ? value : 0xFF;
    }

    @Override
    public void writeByte(int offset, int newValue) {
        if (offset != 0) {
            return;
        }
        int old = value;
        value = newValue & 0xFF;
        if (((old ^ value) & FAST_A20) != 0) {
            a20Gate.accept((value & FAST_A20) != 0);
        }
        if ((old & FAST_RESET) == 0 && (value & FAST_RESET) != 0) {
            systemReset.run();
        }
    }

    public State state() {
        return new State(value);
    }

    public void restore(State state) {
        value = state.value();
    }
}

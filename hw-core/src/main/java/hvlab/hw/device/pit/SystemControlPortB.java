package hvlab.hw.device.pit;

import hvlab.hw.device.ByteIoRegion;

/**
 * The PC/AT's system control port B (port 0x61), the 8254's neighbour. Write: bit 0 drives counter 2's GATE,
 * bit 1 enables the speaker, bits 2-3 disable the parity and channel checks. Read: bits 0-3 as written, bit 4 the
 * refresh request toggle, bit 5 OUT2, bits 6-7 (channel check, parity error) 0.
 *
 * <p>The refresh toggle flips once per DRAM refresh cycle, which the AT paces with counter 1 at 18 input ticks
 * (15.085 us); here it is derived from virtual time directly, whatever counter 1 is programmed to, because firmware
 * delay loops count its flips. The port resets to 0, so gate 2 starts low.
 */
public final class SystemControlPortB implements ByteIoRegion {
    public static final int PORT = 0x61;
    public static final int REFRESH_PERIOD_TICKS = 18;

    public record State(int control) {
    }

    private final Pit8254 pit;
    private int control;

    public SystemControlPortB(Pit8254 pit) {
        this.pit = pit;
        pit.setGate(2, false);
    }

    @Override
    public int readByte(int offset) {
        if (offset != 0) {
            return 0xFF;
        }
        long refreshCycles = pit.currentTick() / REFRESH_PERIOD_TICKS;
        return control | (int) (refreshCycles & 1) << 4 | (pit.out(2) ? 0x20 : 0);
    }

    @Override
    public void writeByte(int offset, int value) {
        if (offset != 0) {
            return;
        }
        control = value & 0x0F;
        pit.setGate(2, (value & 1) != 0);
    }

    /** Bit 1: OUT2 reaches the speaker. */
    public boolean speakerDataEnabled() {
        return (control & 0x02) != 0;
    }

    public State state() {
        return new State(control);
    }

    /** Restores the port; counter 2's gate is part of the PIT's own state. */
    public void restore(State state) {
        control = state.control();
    }
}

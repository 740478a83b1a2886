package hvlab.hw.device.debugexit;

import hvlab.hw.bus.IoRegion;
import java.util.function.IntConsumer;

/**
 * QEMU's isa-debug-exit device (default iobase 0xF4, iosize 4): any write hands the written value to the exit
 * callback. QEMU then exits with status (value << 1) | 1; hvlab exits with the value itself. Reads return 0. It
 * holds no state.
 */
public final class DebugExit implements IoRegion {
    public static final int DEFAULT_IOBASE = 0xF4;
    public static final int IOSIZE = 4;

    private final IntConsumer exit;

    /** @param exit receives the value written, zero-extended from the access size */
    public DebugExit(IntConsumer exit) {
        this.exit = exit;
    }

    @Override
    public int read(int offset, int size) {
        return 0;
    }

    @Override
    public void write(int offset, int size, int value) {
        exit.accept(size >= 4 ? value : value & ((1 << size * 8) - 1));
    }
}

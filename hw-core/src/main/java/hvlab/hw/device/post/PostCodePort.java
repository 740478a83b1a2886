package hvlab.hw.device.post;

import hvlab.hw.device.ByteIoRegion;
import java.util.function.IntConsumer;

/**
 * The POST diagnostic port (port 0x80) that firmware and kernels write progress codes to (and Linux uses for I/O
 * delays). It remembers the last code, which reads return, and tells an optional listener of each write.
 */
public final class PostCodePort implements ByteIoRegion {
    public static final int PORT = 0x80;

    public record State(int lastCode) {
    }

    private final IntConsumer onCode;
    private int lastCode;

    public PostCodePort() {
        this(code -> { });
    }

    public PostCodePort(IntConsumer onCode) {
        this.onCode = onCode;
    }

    public int lastCode() {
        return lastCode;
    }

    @Override
    public int readByte(int offset) {
        return offset == 0 ? lastCode : 0xFF;
    }

    @Override
    public void writeByte(int offset, int value) {
        if (offset == 0) {
            lastCode = value & 0xFF;
            onCode.accept(lastCode);
        }
    }

    public State state() {
        return new State(lastCode);
    }

    public void restore(State state) {
        lastCode = state.lastCode();
    }
}

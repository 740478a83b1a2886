package hvlab.hw.device.debugexit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** QEMU hw/misc/debugexit.c behaviour: a write exits with the written value; reads are 0. */
class DebugExitTest {
    private final List<Integer> exits = new ArrayList<>();
    private final DebugExit device = new DebugExit(exits::add);

    @Test
    void aWriteHandsTheValueToTheExitCallback() {
        device.write(0, 1, 0x31);
        device.write(0, 4, 0x1234_5678);
        device.write(0, 2, 0xABCD_0042);
        assertThat(exits).containsExactly(0x31, 0x1234_5678, 0x0042);
    }

    @Test
    void readsReturnZero() {
        assertThat(device.read(0, 4)).isZero();
        assertThat(device.read(3, 1)).isZero();
        assertThat(exits).isEmpty();
    }
}

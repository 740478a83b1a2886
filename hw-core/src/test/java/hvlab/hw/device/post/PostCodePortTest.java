package hvlab.hw.device.post;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PC POST diagnostic port 0x80: the last code written is latched and read back. */
class PostCodePortTest {
    @Test
    void remembersTheLastPostCodeAndReportsEachWrite() {
        List<Integer> codes = new ArrayList<>();
        PostCodePort port = new PostCodePort(codes::add);
        assertThat(port.readByte(0)).isZero();
        port.writeByte(0, 0x13);
        port.write(0, 2, 0x5AA5);
        assertThat(port.readByte(0)).isEqualTo(0xA5);
        assertThat(port.lastCode()).isEqualTo(0xA5);
        assertThat(codes).containsExactly(0x13, 0xA5);
        PostCodePort copy = new PostCodePort();
        copy.restore(port.state());
        assertThat(copy.readByte(0)).isEqualTo(0xA5);
    }
}

package hvlab.hw.device.i8042;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** IBM PS/2 Technical Reference, "System Control Port A" (port 0x92). */
class SystemControlPortATest {
    private final List<Boolean> a20Changes = new ArrayList<>();
    private int resets;
    private final SystemControlPortA port = new SystemControlPortA(a20Changes::add, () -> resets++);

    @Test
    void bit1IsTheFastA20Gate() {
        assertThat(port.readByte(0)).isEqualTo(0x02);
        port.writeByte(0, 0x00);
        port.writeByte(0, 0x00);
        port.writeByte(0, 0x02);
        assertThat(a20Changes).containsExactly(false, true);
        assertThat(resets).isZero();
    }

    @Test
    void bit0GoingFromZeroToOneResetsTheProcessor() {
        port.writeByte(0, 0x03);
        assertThat(resets).isEqualTo(1);
        port.writeByte(0, 0x03);
        assertThat(resets).isEqualTo(1);
        port.writeByte(0, 0x02);
        port.writeByte(0, 0x03);
        assertThat(resets).isEqualTo(2);
        assertThat(a20Changes).isEmpty();
    }
}

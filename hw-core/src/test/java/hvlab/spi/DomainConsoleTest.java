package hvlab.spi;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Whole lines behind "(dN) ", as Xen's console prints guest output (xen/drivers/char/console.c). */
class DomainConsoleTest {
    private final ByteArrayOutputStream shared = new ByteArrayOutputStream();

    private static void print(DomainConsole console, String text) {
        for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
            console.write(b & 0xFF);
        }
    }

    @Test
    void interleavedBytesOfTwoDomainsComeOutAsWholePrefixedLines() {
        DomainConsole d1 = new DomainConsole(1, shared::write), d2 = new DomainConsole(2, shared::write);
        print(d1, "hel");
        print(d2, "wor");
        print(d1, "lo\n");
        print(d2, "ld\n");
        assertThat(shared.toString(StandardCharsets.ISO_8859_1)).isEqualTo("(d1) hello\n(d2) world\n");
    }

    @Test
    void aFlushSendsAnUnendedLineWithANewlineAndNothingWhenEmpty() {
        DomainConsole d3 = new DomainConsole(3, shared::write);
        d3.flush();
        print(d3, "last words");
        d3.flush();
        d3.flush();
        assertThat(shared.toString(StandardCharsets.ISO_8859_1)).isEqualTo("(d3) last words\n");
    }
}

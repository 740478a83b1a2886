package hvlab.spi;

import java.io.ByteArrayOutputStream;
import java.util.function.IntConsumer;

/**
 * One domain's console beside others on a shared one: its bytes go out a whole line at a time behind "(dN) ", the
 * prefix Xen's console gives guest output (xen/drivers/char/console.c, guest_console_write), so lines of different
 * domains never mix. For hypervisors with {@link Capability#MULTIPLE_DOMAINS}.
 */
public final class DomainConsole {
    private final byte[] prefix;
    private final IntConsumer sink;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    /** @param sink takes the shared console's bytes (the hypervisor's own UART output) */
    public DomainConsole(int domainId, IntConsumer sink) {
        this.prefix = ("(d" + domainId + ") ").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        this.sink = sink;
    }

    /** A byte the domain printed; a newline sends its line. */
    public void write(int b) {
        line.write(b);
        if (b == '\n') {
            flush();
        }
    }

    /** Sends the part of a line the domain printed without ending it (it ended), ended with a newline. */
    public void flush() {
        if (line.size() == 0) {
            return;
        }
        byte[] text = line.toByteArray();
        line.reset();
        for (byte b : prefix) {
            sink.accept(b & 0xFF);
        }
        for (byte b : text) {
            sink.accept(b & 0xFF);
        }
        if (text[text.length - 1] != '\n') {
            sink.accept('\n');
        }
    }
}

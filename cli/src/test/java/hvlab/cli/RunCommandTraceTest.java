package hvlab.cli;

import hvlab.guests.LabGuests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code hvlab run --trace}: one line per instruction, from the kernel's entry to its last word on a port. */
class RunCommandTraceTest {
    @TempDir
    Path dir;

    /** Runs lab:hello with empty stdin: the console pump must not read the test JVM's own stdin. */
    private static int run(String... traceOptions) {
        InputStream stdin = System.in;
        System.setIn(new ByteArrayInputStream(new byte[0]));
        try {
            List<String> args = new ArrayList<>(List.of("run", "--guest", "lab:hello"));
            args.addAll(List.of(traceOptions));
            return HvlabCommand.execute(new PrintWriter(new StringWriter(), true), args.toArray(String[]::new));
        } finally {
            System.setIn(stdin);
        }
    }

    @Test
    void traceOfTheHelloGuestRunsFromItsEntryToItsExitPort() throws Exception {
        Path file = dir.resolve("trace.txt");
        int status = run("--trace", file.toString(), "--trace-limit", "10000000");
        List<String> lines = Files.readAllLines(file);

        byte[] kernel = LabGuests.find("hello").orElseThrow().kernelImage();
        int entry = ByteBuffer.wrap(kernel).order(ByteOrder.LITTLE_ENDIAN).getInt(24); // ELF e_entry
        assertThat(status).isEqualTo(0x10); // the same exit status as without --trace
        assertThat(lines.getFirst()).startsWith(String.format("0008:%08x  ", entry));
        assertThat(lines.getLast()).matches("0008:[0-9a-f]{8}  [0-9a-f]+ +(out|hlt).*");
        assertThat(lines).allMatch(line -> line.matches("[0-9a-f]{4}:[0-9a-f]{8}  [0-9a-f]+ +\\S.*"));
    }

    @Test
    void traceStopsAtItsLimitAndTheRunGoesOn() throws Exception {
        Path file = dir.resolve("trace.txt");
        int status = run("--trace", file.toString(), "--trace-limit", "50", "--trace-registers");
        List<String> lines = Files.readAllLines(file);

        assertThat(status).isEqualTo(0x10);
        assertThat(lines).hasSize(51);
        assertThat(lines.getFirst()).contains("eax=").contains("efl=");
        assertThat(lines.getLast()).contains("trace limit of 50 lines");
    }
}

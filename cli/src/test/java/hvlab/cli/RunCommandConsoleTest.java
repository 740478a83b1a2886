package hvlab.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code hvlab run} as an interactive console: the guest's prompt shows before the user types the answer. */
class RunCommandConsoleTest {
    @TempDir
    Path dir;

    /**
     * A ROM that prints "> " (no newline), raises DTR and RTS, waits for LSR.DR, and exits through port 0xf4 with the
     * byte it received: mov dx,0x3f8; mov al,'>'; out; mov al,' '; out; mov dx,0x3fc; mov al,3; out;
     * mov dx,0x3fd; in al,dx; test al,1; jz back; mov dx,0x3f8; in al,dx; out 0xf4,al; hlt.
     */
    private static final String PROMPT_THEN_READ = "ba f8 03  b0 3e  ee  b0 20  ee  ba fc 03  b0 03  ee"
            + "  ba fd 03  ec  a8 01  74 fb  ba f8 03  ec  e6 f4  f4";

    @Test
    void thePromptReachesStdoutBeforeAnyInputAndTheTypedByteReachesTheGuest() throws Exception {
        byte[] image = new byte[0x10000];
        byte[] code = HexFormat.of().parseHex(PROMPT_THEN_READ.replace(" ", ""));
        System.arraycopy(code, 0, image, 0, code.length);
        System.arraycopy(HexFormat.of().parseHex("ea000000f0"), 0, image, 0xFFF0, 5); // jmp far F000:0000
        Path rom = Files.write(dir.resolve("prompt.rom"), image);

        StringBuffer stdout = new StringBuffer();
        PipedOutputStream keyboard = new PipedOutputStream();
        InputStream stdinBefore = System.in;
        PrintStream stdoutBefore = System.out;
        System.setIn(new PipedInputStream(keyboard));
        System.setOut(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                stdout.append((char) b);
            }
        }, true));
        try {
            CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() -> HvlabCommand.execute(
                    new PrintWriter(new StringWriter(), true), "run", "--bios", rom.toString(),
                    "--max-instructions", "4000000000"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (stdout.indexOf("> ") < 0 && System.nanoTime() < deadline && !status.isDone()) {
                Thread.sleep(10);
            }
            assertThat(stdout.toString()).as("the prompt, flushed though no newline followed").isEqualTo("> ");
            assertThat(status).as("the guest still waits for its input").isNotDone();
            keyboard.write('A');
            keyboard.flush();
            assertThat(status.get(60, TimeUnit.SECONDS)).as("the guest read the byte typed").isEqualTo('A');
        } finally {
            System.setIn(stdinBefore);
            System.setOut(stdoutBefore);
            keyboard.close();
        }
    }
}

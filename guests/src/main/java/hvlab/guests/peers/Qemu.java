package hvlab.guests.peers;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * QEMU's PC (qemu-system-i386, TCG) as the reference machine for the lab images: headless, COM1 on stdout, the
 * isa-debug-exit device at 0xf4 and no reboot, as {@code ../shared/reference/peer-measurements.md} describes.
 */
public final class Qemu {
    public static final String EXECUTABLE = "qemu-system-i386";
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    /** One run: the console bytes, QEMU's exit code, and the wall time from start to exit. */
    public record Run(String console, int exitCode, Duration wallTime) {
        /** The value the guest wrote to port 0xf4 (QEMU exits with (v << 1) | 1), or -1 if it ended otherwise. */
        public int exitValue() {
            return (exitCode & 1) == 1 && exitCode > 1 ? exitCode >> 1 : -1;
        }
    }

    private Qemu() {
    }

    public static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, EXECUTABLE))) {
                return true;
            }
        }
        return false;
    }

    /** Boots a Multiboot kernel; QEMU gives the kernel "PATH APPEND" as its command line. */
    public static Run kernel(Path elf, String append) throws IOException, InterruptedException {
        return run(List.of("-kernel", elf.toString(), "-append", append));
    }

    /** Boots a firmware ROM at the reset vector. */
    public static Run bios(Path rom) throws IOException, InterruptedException {
        return run(List.of("-bios", rom.toString()));
    }

    private static Run run(List<String> boot) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(EXECUTABLE, "-nodefaults", "-display", "none", "-m", "128",
                "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot"));
        command.addAll(boot);
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        process.getOutputStream().close();
        byte[] output;
        try (InputStream in = process.getInputStream()) {
            output = in.readAllBytes(); // ends when QEMU exits; the wait below bounds a hang
        }
        if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("QEMU did not exit within " + TIMEOUT + ": " + command);
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - start);
        return new Run(new String(output, StandardCharsets.ISO_8859_1), process.exitValue(), wall);
    }
}

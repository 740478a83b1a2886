package hvlab.guests.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * QEMU's PC (qemu-system-i386, TCG) as the reference machine for the lab images: headless, COM1 on stdout, the
 * isa-debug-exit device at 0xf4 and no reboot, as {@code ../shared/reference/peer-measurements.md} describes.
 */
public final class Qemu {
    public static final String EXECUTABLE = "qemu-system-i386";
    /** What to tell a user who lacks QEMU. */
    public static final String INSTALL_HINT = EXECUTABLE + " is not on the PATH (Debian: apt-get install qemu-system-x86)";
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    /** A Linux boot to power-off takes about 10 s under TCG; a loaded machine gets room. */
    private static final Duration LINUX_TIMEOUT = Duration.ofMinutes(5);

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
        return PeerProcess.onPath(EXECUTABLE);
    }

    /** Boots a Multiboot kernel; QEMU gives the kernel "PATH APPEND" as its command line. */
    public static Run kernel(Path elf, String append) throws IOException, InterruptedException {
        return PeerProcess.inScratchFolder("hvlab-qemu",
                folder -> run(List.of("-kernel", elf.toAbsolutePath().toString(), "-append", append), folder));
    }

    /** Boots a firmware ROM at the reset vector. */
    public static Run bios(Path rom) throws IOException, InterruptedException {
        return PeerProcess.inScratchFolder("hvlab-qemu",
                folder -> run(List.of("-bios", rom.toAbsolutePath().toString()), folder));
    }

    /** Boots a firmware ROM image at the reset vector. */
    public static Run bios(byte[] rom) throws IOException, InterruptedException {
        return PeerProcess.inScratchFolder("hvlab-qemu",
                folder -> run(List.of("-bios", Files.write(folder.resolve("rom.bin"), rom).toString()), folder));
    }

    /** One Linux boot: the console, QEMU's exit code, and the wall times from start to the marker line and to exit. */
    public record LinuxRun(String console, int exitCode, Duration wallTime, Optional<Duration> toMarker) { }

    /**
     * Boots a Linux bzImage with its initrd as peer-measurements.md section 4 did, and notes when the console first
     * shows a line holding {@code marker}. QEMU exits when the guest powers off or resets ({@code -no-reboot}).
     */
    public static LinuxRun linux(Path kernel, byte[] initrd, String append, String marker)
            throws IOException, InterruptedException {
        return PeerProcess.inScratchFolder("hvlab-qemu", folder -> {
            Path initrdFile = Files.write(folder.resolve("initrd.img"), initrd);
            PeerProcess.Result result = PeerProcess.run(command(List.of("-kernel",
                    kernel.toAbsolutePath().toString(), "-initrd", initrdFile.toString(), "-append", append)), folder,
                    LINUX_TIMEOUT, marker);
            return new LinuxRun(result.stdout(), result.exitCode(), result.wallTime(), result.toMarker());
        });
    }

    private static Run run(List<String> boot, Path folder) throws IOException, InterruptedException {
        PeerProcess.Result result = PeerProcess.run(command(boot), folder, TIMEOUT);
        return new Run(result.stdout(), result.exitCode(), result.wallTime());
    }

    private static List<String> command(List<String> boot) {
        List<String> command = new ArrayList<>(List.of(EXECUTABLE, "-nodefaults", "-display", "none", "-m", "128",
                "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot"));
        command.addAll(boot);
        return command;
    }
}

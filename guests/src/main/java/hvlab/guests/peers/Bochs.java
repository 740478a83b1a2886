package hvlab.guests.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bochs 2.7 (Debian's debugger build) as a second reference PC, for ROM images only: Bochs cannot load a Multiboot
 * ELF. Headless through the rfb display with no client wait, COM1 into a file, and the run ends at the guest's
 * "Shutdown" write to port 0x8900, which Bochs reports as a panic and exits with status 1. See
 * {@code ../shared/reference/peer-measurements.md} for the measurements this setup comes from.
 *
 * <p>The rfb display listens on the first free TCP port from 5900 to 5949, so up to 50 runs can overlap; the
 * benchmark runs them one at a time anyway.
 */
public final class Bochs {
    /** Debian's wrapper around {@code bochs-bin}; a debugger build is needed for {@code -rc}. */
    public static final String EXECUTABLE = "bochs";
    /** Bochs panics without a VGA BIOS, and Debian's bochsbios package does not ship one. */
    public static final Path VGA_BIOS = Path.of("/usr/share/vgabios/vgabios.bin");
    /** What to tell a user who lacks Bochs. */
    public static final String INSTALL_HINT = "Bochs needs " + EXECUTABLE + " on the PATH and " + VGA_BIOS
            + " (Debian: apt-get install bochs bochs-term bochsbios vgabios)";

    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final String ROM = "rom.bin", BOCHSRC = "bochsrc", CONTINUE_SCRIPT = "cont.rc";
    private static final String COM1 = "com1.txt", LOG = "bochs.log";
    /**
     * Instructions per virtual second. With {@code sync=none} it does not change Bochs's speed, but it sets how many
     * instructions the guest runs while a device waits: at 115200 baud a byte takes 86.8 us on the line, during
     * which the guest polls LSR. At 100 M that was ~8,700 instructions per byte (the {@code in} workload counted 2.4 M
     * instead of hvlab's 1.05 M); at 1 M it is ~87, and the 100 Hz PIT then interrupts every 10,000 instructions,
     * which leaves Bochs's count 0.5-1.5 % above hvlab's on the lab workloads.
     */
    private static final long INSTRUCTIONS_PER_SECOND = 1_000_000;
    /** 2000-01-01 00:00:00 UTC: a fixed boot time keeps the guest's CMOS clock the same on every run. */
    private static final long BOOT_TIME = 946_684_800L;

    /**
     * The log line of the shutdown-port panic. Every log line starts with Bochs's tick counter (11 digits), then
     * the level letter and the device. With {@code clock: sync=none} a tick is one instruction (each iteration of
     * a REP string instruction counts as one), and the counter at the panic counts every instruction before the
     * OUT that completed "Shutdown": peer-measurements §3 checked this on a loop of known length.
     */
    private static final Pattern SHUTDOWN_PANIC =
            Pattern.compile("^(\\d+)\\w\\[[^\\]]*\\] >>PANIC<< Shutdown port: shutdown requested", Pattern.MULTILINE);
    /** Bochs's own last words on stderr, e.g. a panic that is not the shutdown. */
    private static final Pattern EXIT_MESSAGE =
            Pattern.compile("Bochs is exiting with the following message:\\R(.*)\\R");

    /**
     * One run.
     *
     * @param console      what the guest wrote to COM1
     * @param exitCode     Bochs's exit status (1 after the shutdown port, as after any panic)
     * @param wallTime     from start to exit
     * @param instructions Bochs's instruction count at the shutdown-port panic; empty if the guest never got there
     * @param exitMessage  the reason Bochs gave for exiting, or "" if it gave none
     */
    public record Run(String console, int exitCode, Duration wallTime, OptionalLong instructions, String exitMessage) {
        /** The guest wrote "Shutdown" to port 0x8900, the lab images' way to end a run on Bochs. */
        public boolean reachedShutdown() {
            return instructions.isPresent();
        }
    }

    private Bochs() {
    }

    public static boolean installed() {
        return PeerProcess.onPath(EXECUTABLE) && Files.isReadable(VGA_BIOS);
    }

    /** Boots a firmware ROM (a multiple of 64 KiB) at the reset vector and runs it to the shutdown port. */
    public static Run bios(Path rom) throws IOException, InterruptedException {
        return bios(Files.readAllBytes(rom));
    }

    /** Boots a firmware ROM image (a multiple of 64 KiB) at the reset vector and runs it to the shutdown port. */
    public static Run bios(byte[] rom) throws IOException, InterruptedException {
        return PeerProcess.inScratchFolder("hvlab-bochs", folder -> {
            Files.write(folder.resolve(ROM), rom);
            Files.writeString(folder.resolve(BOCHSRC), bochsrc(ROM, COM1, LOG));
            Files.writeString(folder.resolve(CONTINUE_SCRIPT), "c\n"); // the debugger's "continue", nothing else
            PeerProcess.Result result = PeerProcess.run(
                    List.of(EXECUTABLE, "-q", "-f", BOCHSRC, "-rc", CONTINUE_SCRIPT), folder, TIMEOUT);
            return new Run(PeerProcess.readText(folder.resolve(COM1)), result.exitCode(), result.wallTime(),
                    instructionsAtShutdown(PeerProcess.readText(folder.resolve(LOG))), exitMessage(result.stderr()));
        });
    }

    /** The configuration for one headless ROM run; file names are relative to Bochs's working folder. */
    static String bochsrc(String rom, String com1, String log) {
        return String.join("\n",
                "megs: 128",
                "romimage: file=" + rom, // no address=: mapped to end at 4 GiB and aliased at 0xF0000
                "vgaromimage: file=" + VGA_BIOS,
                "display_library: rfb, options=\"timeout=0\"", // Debian's Bochs has no nogui; rfb waits for nobody
                "port_e9_hack: enabled=1",
                "clock: sync=none, time0=" + BOOT_TIME, // time follows instructions: deterministic, as fast as it goes
                "cpu: count=1, ips=" + INSTRUCTIONS_PER_SECOND + ", reset_on_triple_fault=0",
                "com1: enabled=1, mode=file, dev=" + com1,
                "log: " + log,
                "panic: action=fatal",
                "error: action=report",
                "info: action=report",
                "debug: action=ignore",
                "speaker: enabled=0", // else ALSA complains on a machine with no sound card
                "");
    }

    /** The instruction count in the shutdown-port panic line of a Bochs log, if the log has one. */
    static OptionalLong instructionsAtShutdown(String log) {
        Matcher matcher = SHUTDOWN_PANIC.matcher(log);
        return matcher.find() ? OptionalLong.of(Long.parseLong(matcher.group(1))) : OptionalLong.empty();
    }

    static String exitMessage(String stderr) {
        Matcher matcher = EXIT_MESSAGE.matcher(stderr);
        return matcher.find() ? matcher.group(1).strip() : "";
    }
}

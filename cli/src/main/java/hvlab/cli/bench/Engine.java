package hvlab.cli.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/** Something that boots a ROM and reports how long it took: hvlab in this JVM, or a peer emulator. */
public interface Engine {
    /** The name in the table: "hvlab", "QEMU", "Bochs". */
    String name();

    /** Where the instruction counts of this engine's rows come from. */
    Counting counting();

    /** Why this engine cannot run here (not installed), or empty if it can. */
    Optional<String> unavailable();

    /** Boots the ROM image {@code rom} and runs it to the guest's exit. */
    Boot boot(String romName, byte[] rom) throws EngineFailure, IOException, InterruptedException;

    /**
     * Boots a Linux bzImage with its initrd and command line, and times it from launch to the first console line
     * holding {@code marker}; the boot must then end in order (power-off). An engine without a Linux loader says so.
     * The {@link Boot} it returns counts to the marker line: wall time, start-up and instructions.
     */
    default Boot bootLinux(Path kernel, byte[] initrd, String commandLine, String marker)
            throws EngineFailure, IOException, InterruptedException {
        throw new EngineFailure(name() + " cannot load a Linux bzImage");
    }

    /**
     * One boot.
     *
     * @param wallTime     from start to the guest's exit
     * @param startupTime  the part of it before the first guest instruction, where the engine can tell (hvlab in
     *                     this JVM); empty for a peer process, whose start-up is measured with a ROM that exits
     *                     at once
     * @param instructions the guest instructions the engine counted, or empty if it does not count (QEMU TCG)
     */
    record Boot(Duration wallTime, Optional<Duration> startupTime, OptionalLong instructions) { }

    /** The guest did not end as it should on this engine: a failed run, reported in its row, never a trace. */
    final class EngineFailure extends Exception {
        public EngineFailure(String message) {
            super(message, null, false, false);
        }
    }
}

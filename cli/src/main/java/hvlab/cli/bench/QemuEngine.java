package hvlab.cli.bench;

import hvlab.guests.LabGuests;
import hvlab.guests.peers.Qemu;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/** QEMU TCG with {@code -bios}; it does not count instructions. */
public final class QemuEngine implements Engine {
    @Override
    public String name() {
        return "QEMU";
    }

    @Override
    public Counting counting() {
        return Counting.TAKEN_FROM_HVLAB;
    }

    @Override
    public Optional<String> unavailable() {
        return Qemu.installed() ? Optional.empty() : Optional.of(Qemu.INSTALL_HINT);
    }

    @Override
    public Boot boot(String romName, byte[] rom) throws EngineFailure, IOException, InterruptedException {
        Qemu.Run run = Qemu.bios(rom);
        if (run.exitValue() != LabGuests.EXIT_SUCCESS) {
            throw new EngineFailure(romName + " ended with QEMU exit code " + run.exitCode() + "; console: "
                    + Consoles.lastLine(run.console()));
        }
        return new Boot(run.wallTime(), Optional.empty(), OptionalLong.empty());
    }

    @Override
    public Boot bootLinux(Path kernel, byte[] initrd, String commandLine, String marker)
            throws EngineFailure, IOException, InterruptedException {
        Qemu.LinuxRun run = Qemu.linux(kernel, initrd, commandLine, marker);
        if (run.toMarker().isEmpty()) {
            throw new EngineFailure("no '" + marker + "' line on QEMU (exit code " + run.exitCode() + "); console: "
                    + Consoles.lastLine(run.console()));
        }
        if (run.exitCode() != 0) { // a guest power-off ends QEMU with 0
            throw new EngineFailure("after the marker QEMU ended with exit code " + run.exitCode() + "; console: "
                    + Consoles.lastLine(run.console()));
        }
        return new Boot(run.toMarker().get(), Optional.empty(), OptionalLong.empty());
    }
}

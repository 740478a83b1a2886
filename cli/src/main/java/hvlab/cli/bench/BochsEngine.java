package hvlab.cli.bench;

import hvlab.guests.LabGuests;
import hvlab.guests.peers.Bochs;

import java.io.IOException;
import java.util.Optional;

/** Bochs 2.7 with {@code romimage:}; it counts instructions in its tick counter. */
public final class BochsEngine implements Engine {
    @Override
    public String name() {
        return "Bochs";
    }

    @Override
    public Counting counting() {
        return Counting.BOCHS_TICKS;
    }

    @Override
    public Optional<String> unavailable() {
        return Bochs.installed() ? Optional.empty() : Optional.of(Bochs.INSTALL_HINT);
    }

    @Override
    public Boot boot(String romName, byte[] rom) throws EngineFailure, IOException, InterruptedException {
        Bochs.Run run = Bochs.bios(rom);
        if (!run.reachedShutdown()) {
            throw new EngineFailure(romName + " did not reach the shutdown port on Bochs (exit code " + run.exitCode()
                    + ", " + run.exitMessage() + "); console: " + Consoles.lastLine(run.console()));
        }
        if (LabGuests.reportsFailure(run.console())) { // Bochs has no exit port: the console tells
            throw new EngineFailure(romName + " failed on Bochs; console: " + Consoles.lastLine(run.console()));
        }
        return new Boot(run.wallTime(), Optional.empty(), run.instructions());
    }
}

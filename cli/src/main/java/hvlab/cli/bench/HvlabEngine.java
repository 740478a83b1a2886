package hvlab.cli.bench;

import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/** hvlab's machine in this JVM, so that the runs of a workload warm the JIT for the ones after them. */
public final class HvlabEngine implements Engine {
    public static final String NAME = "hvlab";
    /** The peers run with 128 MiB too. */
    static final int MEMORY = 128 << 20;
    /** A guard against a guest that never exits; the longest workload retires about 31 M instructions. */
    static final long MAX_INSTRUCTIONS = 20_000_000_000L;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Counting counting() {
        return Counting.HVLAB;
    }

    @Override
    public Optional<String> unavailable() {
        return Optional.empty();
    }

    @Override
    public Boot boot(String romName, byte[] rom) throws EngineFailure {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        long start = System.nanoTime();
        try (Machine machine = Machine.builder().ramBytes(MEMORY).serialOutput(console::write).build()) {
            machine.bootFirmware(romName, rom);
            long firstInstruction = System.nanoTime();
            RunOutcome outcome = machine.run(MAX_INSTRUCTIONS);
            long end = System.nanoTime();
            if (!(outcome instanceof RunOutcome.Exited exited) || exited.value() != LabGuests.EXIT_SUCCESS) {
                throw new EngineFailure(romName + " ended with " + outcome + "; console: "
                        + Consoles.lastLine(console.toString(StandardCharsets.ISO_8859_1)));
            }
            return new Boot(Duration.ofNanos(end - start), Optional.of(Duration.ofNanos(firstInstruction - start)),
                    OptionalLong.of(machine.cpu().retiredInstructions()));
        } catch (BootImageException e) {
            throw new EngineFailure(e.getMessage());
        }
    }
}

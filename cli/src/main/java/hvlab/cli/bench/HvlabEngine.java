package hvlab.cli.bench;

import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;

import hvlab.spi.GuestImage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.IntConsumer;

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

    @Override
    public Boot bootLinux(Path kernel, byte[] initrd, String commandLine, String marker)
            throws EngineFailure, IOException {
        long start = System.nanoTime();
        byte[] image = Files.readAllBytes(kernel);
        ConsoleMarker console = new ConsoleMarker(marker);
        try (Machine machine = Machine.builder().ramBytes(MEMORY).serialOutput(console).build()) {
            console.countInstructionsOf(machine);
            machine.boot(new GuestImage.LinuxKernel(kernel.getFileName().toString(), image, initrd, commandLine));
            long firstInstruction = System.nanoTime();
            RunOutcome outcome = machine.run(MAX_INSTRUCTIONS);
            if (console.seenAtNanos < 0) {
                throw new EngineFailure("no '" + marker + "' line before the guest ended with " + outcome
                        + "; console: " + Consoles.lastLine(console.text()));
            }
            // a power-off, or a debug-exit of 0 (the same exit status from 'hvlab run')
            if (!(outcome instanceof RunOutcome.PowerOff || outcome instanceof RunOutcome.Exited(int value)
                    && value == 0)) {
                throw new EngineFailure("after the marker the guest ended with " + outcome + "; console: "
                        + Consoles.lastLine(console.text()));
            }
            return new Boot(Duration.ofNanos(console.seenAtNanos - start),
                    Optional.of(Duration.ofNanos(firstInstruction - start)), OptionalLong.of(console.instructions));
        } catch (BootImageException e) {
            throw new EngineFailure(e.getMessage());
        }
    }

    /** COM1's output: kept for failure messages, and the host time and retired count when the marker line ends. */
    private static final class ConsoleMarker implements IntConsumer {
        private final String marker;
        private final ByteArrayOutputStream all = new ByteArrayOutputStream();
        private final StringBuilder line = new StringBuilder();
        private Machine machine;
        long seenAtNanos = -1;
        long instructions;

        ConsoleMarker(String marker) {
            this.marker = marker;
        }

        void countInstructionsOf(Machine counted) {
            machine = counted;
        }

        @Override
        public void accept(int b) {
            all.write(b);
            if (b != '\n') {
                line.append((char) b);
                return;
            }
            if (seenAtNanos < 0 && line.indexOf(marker) >= 0) {
                seenAtNanos = System.nanoTime();
                instructions = machine.cpu().retiredInstructions();
            }
            line.setLength(0);
        }

        String text() {
            return all.toString(StandardCharsets.ISO_8859_1);
        }
    }
}

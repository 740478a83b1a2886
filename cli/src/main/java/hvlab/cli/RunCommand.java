package hvlab.cli;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code hvlab run}: boots one guest on the machine, serial console on stdout and stdin, and exits with the value
 * the guest wrote to the debug-exit port.
 */
@Command(name = "run", description = "Boots a guest on the PC model; COM1 is stdin/stdout.",
        footer = {"", "Exit status: the value the guest wrote to port 0xf4 (QEMU's isa-debug-exit exits with"
                + " (v<<1)|1 for the same guest);", "  2 bad input, 124 instruction limit reached,"
                + " 125 CPU shutdown (triple fault), 126 halted with no way to wake, 127 reset requested."})
final class RunCommand implements Callable<Integer> {
    static final int EXIT_INSTRUCTION_LIMIT = 124, EXIT_SHUTDOWN = 125, EXIT_HALTED = 126, EXIT_RESET = 127;
    static final long MIN_MEMORY = 2L << 20, MAX_MEMORY = 1L << 30;

    @Spec
    CommandSpec spec;

    static final class Image {
        @Option(names = "--guest", paramLabel = "lab:NAME", description = "A lab guest (see 'hvlab list').")
        String guest;

        @Option(names = "--kernel", paramLabel = "FILE", description = "A Multiboot v1 kernel (32-bit ELF).")
        Path kernel;

        @Option(names = "--bios", paramLabel = "FILE", description = "A firmware ROM started at the reset vector.")
        Path bios;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Image image;

    @Option(names = "--append", paramLabel = "STR", description = "Kernel command line.", defaultValue = "")
    String append;

    @Option(names = "--memory", paramLabel = "SIZE", converter = MemorySize.class, defaultValue = "128M",
            description = "RAM size, e.g. 64M (default ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--max-instructions", paramLabel = "N", defaultValue = "" + Long.MAX_VALUE,
            description = "Stop after N guest instructions.")
    long maxInstructions;

    @Override
    public Integer call() {
        if (memory < MIN_MEMORY || memory > MAX_MEMORY || memory % 4096 != 0) {
            throw new UserInputException("--memory must be a whole number of 4 KiB pages from 2M to 1G, not "
                    + memory + " bytes");
        }
        if (maxInstructions <= 0) {
            throw new UserInputException("--max-instructions must be positive");
        }
        PrintStream stdout = System.out;
        OutputStream console = new BufferedOutputStream(stdout, 1 << 16);
        Machine machine = Machine.builder()
                .ramBytes((int) memory)
                .serialOutput(b -> writeConsole(console, b))
                .build();
        try {
            boot(machine);
            startInputPump(machine, System.in);
            RunOutcome outcome = machine.run(maxInstructions);
            console.flush();
            return exitStatus(outcome);
        } catch (BootImageException e) {
            throw new UserInputException(e.getMessage());
        } catch (IOException e) {
            throw new UserInputException("cannot write the console: " + e.getMessage());
        } finally {
            machine.close();
        }
    }

    private void boot(Machine machine) throws BootImageException {
        if (image.guest != null) {
            LabGuest guest = labGuest(image.guest);
            String commandLine = append.isBlank() ? guest.commandLine() : guest.commandLine() + " " + append;
            machine.bootMultiboot(guest.name(), guest.kernelImage(), commandLine);
        } else if (image.kernel != null) {
            String name = image.kernel.getFileName().toString();
            String commandLine = append.isBlank() ? name : name + " " + append;
            machine.bootMultiboot(name, read(image.kernel), commandLine);
        } else {
            machine.bootFirmware(image.bios.getFileName().toString(), read(image.bios));
        }
    }

    private static LabGuest labGuest(String spec) {
        if (!spec.startsWith("lab:")) {
            throw new UserInputException("--guest takes lab:NAME, not '" + spec + "'");
        }
        return labGuestNamed(spec.substring(4));
    }

    /** The lab guest with this name, or bad input that lists the known names. */
    static LabGuest labGuestNamed(String name) {
        return LabGuests.find(name).orElseThrow(() -> new UserInputException("no lab guest '" + name
                + "'; known: " + LabGuests.all().stream().map(LabGuest::name).collect(Collectors.joining(", "))));
    }

    private static byte[] read(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new UserInputException(file + " is a directory, not an image file");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserInputException("no such file: " + file);
        } catch (IOException e) {
            throw new UserInputException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static void writeConsole(OutputStream console, int b) {
        try {
            console.write(b);
            if (b == '\n') {
                console.flush();
            }
        } catch (IOException e) {
            // stdout closed (e.g. a pipe reader went away): the guest's console is lost, the run goes on
        }
    }

    /** Feeds stdin to COM1 from a daemon thread; the machine takes the bytes at its next slice boundary. */
    private static void startInputPump(Machine machine, InputStream in) {
        Thread pump = Thread.ofPlatform().daemon().name("hvlab-stdin").unstarted(() -> {
            byte[] buffer = new byte[256];
            try {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    machine.offerSerialInput(java.util.Arrays.copyOf(buffer, n));
                }
            } catch (IOException e) {
                // stdin closed: no more input
            }
        });
        pump.start();
    }

    private int exitStatus(RunOutcome outcome) {
        PrintStream err = System.err;
        return switch (outcome) {
            case RunOutcome.Exited exited -> exited.value();
            case RunOutcome.InstructionLimit limit -> {
                err.println("hvlab: stopped after " + limit.instructions() + " instructions (--max-instructions)");
                yield EXIT_INSTRUCTION_LIMIT;
            }
            case RunOutcome.Shutdown shutdown -> {
                err.println("hvlab: the CPU shut down: " + shutdown.reason());
                yield EXIT_SHUTDOWN;
            }
            case RunOutcome.HaltedForever halted -> {
                err.printf("hvlab: the CPU halted at eip 0x%x with no interrupt that could wake it%n", halted.eip());
                yield EXIT_HALTED;
            }
            case RunOutcome.Reset reset -> {
                err.println("hvlab: the guest requested a reset (" + reset.source() + ")");
                yield EXIT_RESET;
            }
        };
    }
}

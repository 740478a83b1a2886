package hvlab.cli;

import hvlab.cli.plugins.LoadProblem;
import hvlab.cli.plugins.LoadedProvider;
import hvlab.cli.plugins.ProviderRegistry;
import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.boot.LinuxLoader;
import hvlab.hw.cpu.InstructionTrace;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.Counters;
import hvlab.hw.stats.StatsReport;
import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.DomainConfig;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import hvlab.spi.MachineDescription;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code hvlab run}: boots one guest on the machine, on the bare machine or under a hypervisor plugin, serial
 * console on stdout and stdin, and exits with the value the guest wrote to the debug-exit port.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Boots a guest on the PC model; COM1 is stdin/stdout.",
        footer = {"", "Exit status: the value the guest wrote to port 0xf4 (QEMU's isa-debug-exit exits with"
                + " (v<<1)|1 for the same guest);", "  0 the guest powered the machine off (ACPI S5), 1 the hypervisor plugin failed, 2 bad input, 124 instruction"
                + " limit reached, 125 CPU shutdown (triple fault), 126 halted with no way to wake,"
                + " 127 reset requested.", "  Several --guest (one domain each, under a hypervisor with several"
                + " domains): the run ends when all have, with the first domain's status."})
final class RunCommand implements Callable<Integer> {
    /** A guest that powers the machine off (ACPI S5) ends the run with 0, as QEMU exits on {@code poweroff}. */
    static final int EXIT_POWER_OFF = 0;
    static final int EXIT_INSTRUCTION_LIMIT = 124, EXIT_SHUTDOWN = 125, EXIT_HALTED = 126, EXIT_RESET = 127;
    static final long MIN_MEMORY = 2L << 20, MAX_MEMORY = 1L << 30;
    static final String DEFAULT_MEMORY = "128M";
    /** The machine 'hvlab run' builds unless told otherwise; 'hvlab list' probes the hypervisors on it. */
    static final MachineDescription DEFAULT_MACHINE =
            new MachineDescription(new MemorySize().convert(DEFAULT_MEMORY), 1);

    @Spec
    CommandSpec spec;

    @ParentCommand
    HvlabCommand hvlab;

    static final class Image {
        @Option(names = "--guest", paramLabel = "lab:NAME", description = "A lab guest (see 'hvlab list'); lab-pv:NAME"
                + " is its paravirtualized port, for --hypervisor xen-pv. Repeat it to run several guests at once,"
                + " one domain each (d1, d2, ... in order), under a hypervisor that hosts several domains (xen-pv,"
                + " vtx, vtx-ept): each console line then starts with its domain, e.g. '(d2) '.")
        List<String> guests;

        @Option(names = "--kernel", paramLabel = "FILE",
                description = "A Linux bzImage or a Multiboot v1 kernel (32-bit ELF), told apart by content.")
        Path kernel;

        @Option(names = "--bios", paramLabel = "FILE", description = "A firmware ROM started at the reset vector.")
        Path bios;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Image image;

    @Option(names = "--cpu-weight", paramLabel = "W", description = "A domain's weight in the CPU scheduler (xl.cfg's"
            + " cpu_weight, as 'xl sched-credit -w' sets it): once per --guest, in --guest order, 1..65535, default"
            + " " + DomainConfig.DEFAULT_CPU_WEIGHT + ". A busy domain of weight 512 gets twice the CPU of one of 256."
            + " Only for a hypervisor whose scheduler takes weights (xen-pv).")
    List<Integer> cpuWeights;

    @Option(names = "--append", paramLabel = "STR", description = "Kernel command line.", defaultValue = "")
    String append;

    @Option(names = "--initrd", paramLabel = "FILE", description = "The initial ramdisk of a Linux --kernel.")
    Path initrd;

    @Option(names = "--hypervisor", paramLabel = "ID", defaultValue = ProviderRegistry.NATIVE,
            description = "The hypervisor to run the guest under (see 'hvlab list'); ${DEFAULT-VALUE}, the default,"
                    + " is none: the bare machine.")
    String hypervisor;

    @Option(names = "--memory", paramLabel = "SIZE", converter = MemorySize.class, defaultValue = DEFAULT_MEMORY,
            description = "RAM size, e.g. 64M (default ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--max-instructions", paramLabel = "N", defaultValue = "" + Long.MAX_VALUE,
            description = "Stop after N guest instructions.")
    long maxInstructions;

    @Option(names = "--stats", description = "Print the run's counters and modelled cycles to stderr at the end.")
    boolean stats;

    @Option(names = "--stats-json", paramLabel = "FILE", description = "Write the counters as JSON to FILE.")
    Path statsJson;

    @Option(names = "--trace", arity = "0..1", paramLabel = "FILE", fallbackValue = "-",
            description = "Print each instruction before it runs (cs:eip, bytes, disassembly) to stderr, or to FILE;"
                    + " the guest then runs instruction by instruction, without compiled blocks.")
    String trace;

    @Option(names = "--trace-limit", paramLabel = "N", defaultValue = "10000",
            description = "Stop tracing after N lines (default ${DEFAULT-VALUE}); the run goes on.")
    long traceLimit;

    @Option(names = "--trace-registers", description = "With --trace, add the general registers and EFLAGS.")
    boolean traceRegisters;

    @Override
    public Integer call() {
        if (memory < MIN_MEMORY || memory > MAX_MEMORY || memory % 4096 != 0) {
            throw new UserInputException("--memory must be a whole number of 4 KiB pages from 2M to 1G, not "
                    + memory + " bytes");
        }
        if (maxInstructions <= 0) {
            throw new UserInputException("--max-instructions must be positive");
        }
        if (traceLimit <= 0) {
            throw new UserInputException("--trace-limit must be positive");
        }
        PrintStream stdout = System.out;
        OutputStream console = new BufferedOutputStream(stdout, 1 << 16);
        Machine machine = Machine.builder()
                .ramBytes((int) memory)
                .serialOutput(b -> writeConsole(console, b))
                .build();
        try (PrintStream traceOut = traceOutput()) {
            if (traceOut != null) {
                machine.cpu().setTracer(new InstructionTrace(traceOut, traceLimit, traceRegisters));
            }
            List<GuestImage> guests = guestImages();
            List<DomainConfig> domains = domainConfigs(guests.size());
            RunOutcome outcome;
            Thread flusher = startConsoleFlusher(console);
            try (Hypervisor chosen = hypervisorOn(machine, guests.size())) {
                chosen.boot(guests, domains);
                startInputPump(machine, System.in);
                outcome = chosen.run(maxInstructions);
            } finally {
                flusher.interrupt();
            }
            console.flush();
            report(machine.statistics());
            return exitStatus(outcome);
        } catch (BootImageException e) {
            throw new UserInputException(e.getMessage());
        } catch (IOException e) {
            throw new UserInputException("cannot write output: " + e.getMessage());
        } finally {
            machine.close();
        }
    }

    /** Where --trace goes: null without it, stderr for "-" (kept open), else a new file. */
    private PrintStream traceOutput() {
        if (trace == null) {
            return null;
        }
        if (trace.equals("-")) {
            return new PrintStream(new BufferedOutputStream(System.err, 1 << 16), false) {
                @Override
                public void close() {
                    flush(); // stderr stays open for the run's last words
                }
            };
        }
        try {
            return new PrintStream(new BufferedOutputStream(Files.newOutputStream(Path.of(trace)), 1 << 16), false);
        } catch (IOException e) {
            throw new UserInputException("cannot write the trace to " + trace + ": " + e.getMessage());
        }
    }

    private void report(List<Counters.CounterValue> values) throws IOException {
        if (stats) {
            System.err.print(StatsReport.table(values));
        }
        if (statsJson != null) {
            Files.writeString(statsJson, StatsReport.json(values));
        }
    }

    /** One image per --guest, else the one --kernel or --bios names. */
    private List<GuestImage> guestImages() {
        if (initrd != null && image.kernel == null) {
            throw new UserInputException("--initrd goes with --kernel (a Linux bzImage)");
        }
        if (image.guests == null) {
            return List.of(guestImage(null));
        }
        List<GuestImage> images = new ArrayList<>();
        for (String guest : image.guests) {
            images.add(guestImage(guest));
        }
        return images;
    }

    /** Each domain's config, from --cpu-weight (one per --guest) or the defaults. */
    private List<DomainConfig> domainConfigs(int domains) {
        if (cpuWeights == null) {
            return java.util.Collections.nCopies(domains, DomainConfig.DEFAULT);
        }
        if (image.guests == null || cpuWeights.size() != image.guests.size()) {
            throw new UserInputException("--cpu-weight goes once per --guest, in the same order: " + cpuWeights.size()
                    + " weights for " + (image.guests == null ? 0 : image.guests.size()) + " --guest options");
        }
        List<DomainConfig> configs = new ArrayList<>();
        for (int weight : cpuWeights) {
            try {
                configs.add(new DomainConfig(weight));
            } catch (IllegalArgumentException e) {
                throw new UserInputException("--cpu-weight " + weight + ": " + e.getMessage());
            }
        }
        return configs;
    }

    private GuestImage guestImage(String labGuest) {
        if (labGuest != null && labGuest.startsWith(PARAVIRTUAL_PREFIX)) {
            LabGuest guest = paravirtualGuestNamed(labGuest.substring(PARAVIRTUAL_PREFIX.length()));
            String commandLine = guest.paravirtualCommandLine() + (append.isBlank() ? "" : " " + append);
            return new GuestImage.Multiboot(labGuest, LabGuest.paravirtualImage(), commandLine);
        } else if (labGuest != null) {
            LabGuest guest = labGuest(labGuest);
            String commandLine = append.isBlank() ? guest.commandLine() : guest.commandLine() + " " + append;
            return new GuestImage.Multiboot(guest.name(), guest.kernelImage(), commandLine);
        } else if (image.kernel != null) {
            String name = image.kernel.getFileName().toString();
            byte[] kernel = read(image.kernel);
            if (LinuxLoader.isBzImage(kernel)) {
                // as QEMU's -kernel: Linux gets the command line as given, without the image's name
                return new GuestImage.LinuxKernel(name, kernel, initrd == null ? null : read(initrd), append);
            }
            if (initrd != null) {
                throw new UserInputException("--initrd is for a Linux bzImage, and " + image.kernel + " is not one"
                        + " (no \"HdrS\" at offset 0x202)");
            }
            String commandLine = append.isBlank() ? name : name + " " + append;
            return new GuestImage.Multiboot(name, kernel, commandLine);
        } else {
            return new GuestImage.Firmware(image.bios.getFileName().toString(), read(image.bios));
        }
    }

    /**
     * The bare machine for {@code native}; otherwise the selected plugin's hypervisor, created on the machine. The
     * plugin path is read only here, so a native run never depends on plugin code.
     */
    private Hypervisor hypervisorOn(Machine machine, int domains) {
        if (hypervisor.equals(ProviderRegistry.NATIVE)) {
            if (domains > 1) {
                throw new UserInputException(domains + " --guest options need a hypervisor that runs several domains"
                        + " (e.g. --hypervisor xen-pv); the bare machine runs one guest");
            }
            if (cpuWeights != null) {
                throw new UserInputException("--cpu-weight needs a hypervisor whose scheduler takes weights (e.g."
                        + " --hypervisor xen-pv); the bare machine runs one guest");
            }
            return new BareMachine(machine);
        }
        ProviderRegistry registry = hvlab.loadProviders(machine.description());
        PrintWriter err = spec.commandLine().getErr();
        List<String> selectedProblems = new ArrayList<>();
        for (LoadProblem problem : registry.problems()) {
            if (problem.concerns(hypervisor)) {
                selectedProblems.add(problem.toString());
            } else {
                HvlabCommand.warn(err, problem);
            }
        }
        if (!selectedProblems.isEmpty()) {
            throw new UserInputException("hypervisor '" + hypervisor + "' cannot be used: "
                    + String.join("; ", selectedProblems));
        }
        LoadedProvider provider = registry.find(hypervisor).orElseThrow(() -> new UserInputException(
                "no hypervisor '" + hypervisor + "'; known: " + String.join(", ", registry.ids())));
        if (provider.availability() instanceof Availability.Unavailable(String reason)) {
            throw new UserInputException("hypervisor '" + hypervisor + "' is unavailable: " + reason);
        }
        if (domains > 1 && !provider.capabilities().contains(Capability.MULTIPLE_DOMAINS)) {
            throw new UserInputException(domains + " --guest options need a hypervisor that runs several domains"
                    + " (capability MULTIPLE_DOMAINS, e.g. xen-pv or vtx); '" + hypervisor + "' runs one guest");
        }
        if (cpuWeights != null && !provider.capabilities().contains(Capability.DOMAIN_WEIGHTS)) {
            throw new UserInputException("--cpu-weight needs a hypervisor whose scheduler shares the CPU by weight"
                    + " (capability DOMAIN_WEIGHTS, e.g. xen-pv); '" + hypervisor + "' does not (vtx and vtx-ept"
                    + " give their VMs equal time slices in turn)");
        }
        System.Logger logger = System.getLogger("hvlab.hv." + hypervisor);
        return provider.create(new MachineHostContext(machine, machine.description(), logger));
    }

    /** The PV lab kernel's workloads: lab-pv:NAME, for a paravirtualizing hypervisor such as xen-pv. */
    static final String PARAVIRTUAL_PREFIX = "lab-pv:";

    private static LabGuest paravirtualGuestNamed(String name) {
        return LabGuests.paravirtual().stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new UserInputException("no PV lab guest '" + name + "'; known: "
                        + LabGuests.paravirtual().stream().map(LabGuest::name).collect(Collectors.joining(", "))));
    }

    private static LabGuest labGuest(String spec) {
        if (!spec.startsWith("lab:")) {
            throw new UserInputException("--guest takes lab:NAME or lab-pv:NAME, not '" + spec + "'");
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

    /** How long console text without a newline (a shell's prompt) may wait in the buffer. */
    static final long CONSOLE_FLUSH_MILLIS = 50;

    /**
     * Flushes the console now and then from a daemon thread: lines flush at their newline, but a prompt has none,
     * and a user must see it before typing.
     */
    private static Thread startConsoleFlusher(OutputStream console) {
        return Thread.ofPlatform().daemon().name("hvlab-console").start(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(CONSOLE_FLUSH_MILLIS);
                    console.flush();
                }
            } catch (InterruptedException | IOException e) {
                // the run is over, or stdout is closed
            }
        });
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
        PrintWriter err = spec.commandLine().getErr();
        return switch (outcome) {
            case RunOutcome.Exited exited -> exited.value();
            case RunOutcome.PowerOff off -> EXIT_POWER_OFF;
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
                err.println("hvlab: the guest reset the machine (" + reset.source() + "); the run ends there, as"
                        + " QEMU's does with -no-reboot");
                yield EXIT_RESET;
            }
        };
    }
}

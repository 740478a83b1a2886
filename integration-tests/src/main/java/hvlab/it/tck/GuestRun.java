package hvlab.it.tck;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.VirtualizationLimit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * One guest run in this JVM, on the bare machine ({@code native}) or under a hypervisor: what the guest printed, how
 * the run ended, the guest's final CPU state and every count of the run.
 *
 * @param instructions instructions the machine's CPU retired, the hypervisor's own included
 * @param finalState the CPU state as the guest sees it ({@link Hypervisor#guestCpuState()})
 * @param limitReached the declared limit the hypervisor stopped the guest at ({@link Hypervisor#limitReached()})
 */
public record GuestRun(String console, RunOutcome outcome, long instructions, CpuState finalState,
        List<Counters.CounterValue> statistics, Optional<VirtualizationLimit> limitReached) {
    /** Far more than any lab guest needs; a hypervisor that loops ends here instead of hanging the suite. */
    public static final long MAX_INSTRUCTIONS = 2_000_000_000L;
    public static final int MEMORY = 128 << 20;

    /** The guest on the bare machine: the reference every hypervisor is compared with. */
    public static GuestRun onNative(GuestImage image) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(MEMORY).serialOutput(console::write).build()) {
            machine.boot(image);
            RunOutcome outcome = machine.run(MAX_INSTRUCTIONS);
            return finish(machine, console, outcome, machine.cpu().captureState(), Optional.empty());
        }
    }

    /** The guest under a hypervisor the provider creates on a fresh machine. */
    public static GuestRun under(HypervisorProvider provider, GuestImage image) throws BootImageException {
        return under(provider, hypervisor -> hypervisor.boot(image));
    }

    /**
     * One domain per image (d1 first) under a hypervisor whose provider declares {@link
     * hvlab.spi.Capability#MULTIPLE_DOMAINS}; {@link #domainConsole} tells their lines apart.
     */
    public static GuestRun underDomains(HypervisorProvider provider, List<GuestImage> images)
            throws BootImageException {
        return under(provider, hypervisor -> hypervisor.boot(images));
    }

    @FunctionalInterface
    private interface Boot {
        void boot(Hypervisor hypervisor) throws BootImageException;
    }

    private static GuestRun under(HypervisorProvider provider, Boot boot) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(MEMORY).serialOutput(console::write).build();
             Hypervisor hypervisor = provider.create(new MachineHostContext(machine, machine.description(),
                     System.getLogger("hvlab.hv." + provider.id())))) {
            boot.boot(hypervisor);
            RunOutcome outcome = hypervisor.run(MAX_INSTRUCTIONS);
            return finish(machine, console, outcome,
                    hypervisor.guestCpuState().orElseGet(machine.cpu()::captureState), hypervisor.limitReached());
        }
    }

    public static GuestRun multiboot(String imageName, byte[] image, String commandLine) throws BootImageException {
        return onNative(new GuestImage.Multiboot(imageName, image, commandLine));
    }

    public static GuestRun firmware(String imageName, byte[] rom) throws BootImageException {
        return onNative(new GuestImage.Firmware(imageName, rom));
    }

    private static GuestRun finish(Machine machine, ByteArrayOutputStream console, RunOutcome outcome,
            CpuState guestState, Optional<VirtualizationLimit> limitReached) {
        return new GuestRun(console.toString(StandardCharsets.ISO_8859_1), outcome,
                machine.cpu().retiredInstructions(), guestState, machine.statistics(), limitReached);
    }

    /**
     * What domain N printed beside the others: its lines, each without the "(dN) " prefix a hypervisor with several
     * domains gives them ({@link hvlab.spi.DomainConsole}).
     */
    public String domainConsole(int domain) {
        String prefix = "(d" + domain + ") ";
        StringBuilder lines = new StringBuilder();
        for (String line : console.split("\n", -1)) {
            if (line.startsWith(prefix)) {
                lines.append(line, prefix.length(), line.length()).append('\n');
            }
        }
        return lines.toString();
    }

    /** The debug-exit value, or -1 when the run ended another way. */
    public int exitValue() {
        return outcome instanceof RunOutcome.Exited exited ? exited.value() : -1;
    }

    /** The count of (family, key), 0 when nothing was counted. */
    public long count(String family, String key) {
        return statistics.stream().filter(v -> v.family().equals(family) && v.key().equals(key))
                .mapToLong(Counters.CounterValue::value).sum();
    }

    /** The sum of a family's counts, e.g. every exit whatever its reason. */
    public long total(String family) {
        return statistics.stream().filter(v -> v.family().equals(family)).mapToLong(Counters.CounterValue::value)
                .sum();
    }
}

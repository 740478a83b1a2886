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
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(MEMORY).serialOutput(console::write).build();
             Hypervisor hypervisor = provider.create(new MachineHostContext(machine, machine.description(),
                     System.getLogger("hvlab.hv." + provider.id())))) {
            hypervisor.boot(image);
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

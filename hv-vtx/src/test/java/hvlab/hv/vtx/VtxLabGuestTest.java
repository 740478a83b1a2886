package hvlab.hv.vtx;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import hvlab.spi.VirtualizationLimit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The unmodified lab kernel under vtx, in both memory modes, prints native's lines and exits with native's value:
 * every workload, its devices the hypervisor's virtual ones.
 */
class VtxLabGuestTest {
    private static final long BUDGET = 2_000_000_000L;

    record Run(String console, RunOutcome outcome, List<Counters.CounterValue> statistics,
            Optional<VirtualizationLimit> limit) { }

    /** Runs the guest under vtx with {@code mode}, or on the bare machine when it is null. */
    static Run run(LabGuest guest, MemoryMode mode) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        GuestImage image = new GuestImage.Multiboot("lab.elf", guest.kernelImage(), guest.commandLine());
        try (Machine machine = Machine.builder().ramBytes(128 << 20).serialOutput(console::write).build()) {
            RunOutcome outcome;
            Optional<VirtualizationLimit> limit = Optional.empty();
            if (mode != null) {
                try (Hypervisor vtx = new VtxProvider(mode).create(new MachineHostContext(machine,
                        machine.description(), System.getLogger("vtx")))) {
                    vtx.boot(image);
                    outcome = vtx.run(BUDGET);
                    limit = vtx.limitReached();
                }
            } else {
                machine.boot(image);
                outcome = machine.run(BUDGET);
            }
            return new Run(console.toString(StandardCharsets.ISO_8859_1), outcome, machine.statistics(), limit);
        }
    }

    static Stream<Arguments> workloadsInBothModes() {
        return Stream.of(MemoryMode.values()).flatMap(mode -> LabGuests.all().stream().map(LabGuest::name)
                .filter(name -> !name.equals("selftest")).map(name -> Arguments.of(mode, name)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("workloadsInBothModes")
    void printsNativesLinesAndExitsWithNativesValue(MemoryMode mode, String name) throws BootImageException {
        LabGuest guest = LabGuests.find(name).orElseThrow();
        Run vtx = run(guest, mode), bare = run(guest, null);
        assertThat(LabGuests.maskTimeDependent(vtx.console()))
                .isEqualTo(LabGuests.maskTimeDependent(bare.console()));
        assertThat(vtx.outcome()).isEqualTo(bare.outcome());
        assertThat(vtx.statistics()).anyMatch(v -> v.family().equals(Counters.EXITS));
    }

    /** Every CPU check, hardware task switches (exit 9, performed by the hypervisor) and V86 mode included. */
    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void selftestPassesEveryCheckAsOnTheBareMachine(MemoryMode mode) throws BootImageException {
        LabGuest guest = LabGuests.find("selftest").orElseThrow();
        Run vtx = run(guest, mode), bare = run(guest, null);
        assertThat(vtx.limit()).isEmpty();
        assertThat(LabGuests.maskTimeDependent(vtx.console())).isEqualTo(LabGuests.maskTimeDependent(bare.console()))
                .contains("PASS df_through_task_gate", "PASS v86_iret_back_to_v86", "0 failed");
        assertThat(vtx.outcome()).isEqualTo(bare.outcome());
        assertThat(vtx.statistics()).anyMatch(v -> v.family().equals("task switches") && v.value() >= 7);
    }

    /**
     * cr8wr writes the local APIC's TPR 100,000 times: under shadow paging each write is an emulated exit; under EPT
     * the processor virtualizes it on the virtual-APIC page (SDM Vol. 3C 29.4.3, "use TPR shadow"), with no exit.
     */
    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void tprWritesExitOnlyWithoutApicVirtualization(MemoryMode mode) throws BootImageException {
        Run vtx = run(LabGuests.find("cr8wr").orElseThrow(), mode);
        long apicWrites = vtx.statistics().stream()
                .filter(v -> v.family().equals(hvlab.hv.vtx.devices.VirtualDevices.FAMILY)
                        && v.key().equals("local APIC write"))
                .mapToLong(Counters.CounterValue::value).sum();
        if (mode == MemoryMode.EPT) {
            assertThat(apicWrites).as("the setup's, not the loop's").isLessThan(10);
        } else {
            assertThat(apicWrites).isGreaterThanOrEqualTo(100_000);
        }
    }
}

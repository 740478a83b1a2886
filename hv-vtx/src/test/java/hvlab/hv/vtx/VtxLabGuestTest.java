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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The unmodified lab kernel under vtx prints native's lines and exits with native's value. */
class VtxLabGuestTest {
    private static final long BUDGET = 2_000_000_000L;

    record Run(String console, RunOutcome outcome, List<Counters.CounterValue> statistics,
            Optional<VirtualizationLimit> limit) { }

    static Run run(LabGuest guest, boolean underVtx) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        GuestImage image = new GuestImage.Multiboot("lab.elf", guest.kernelImage(), guest.commandLine());
        try (Machine machine = Machine.builder().ramBytes(128 << 20).serialOutput(console::write).build()) {
            RunOutcome outcome;
            Optional<VirtualizationLimit> limit = Optional.empty();
            if (underVtx) {
                try (Hypervisor vtx = new VtxProvider().create(new MachineHostContext(machine, machine.description(),
                        System.getLogger("vtx")))) {
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

    @ParameterizedTest
    @ValueSource(strings = {"hello", "syscall", "pgfault", "ptemod", "forkwait", "wildmem"})
    void printsNativesLinesAndExitsWithNativesValue(String name) throws BootImageException {
        LabGuest guest = LabGuests.find(name).orElseThrow();
        Run vtx = run(guest, true), bare = run(guest, false);
        assertThat(LabGuests.maskTimeDependent(vtx.console()))
                .isEqualTo(LabGuests.maskTimeDependent(bare.console()));
        assertThat(vtx.outcome()).isEqualTo(bare.outcome());
        assertThat(vtx.statistics()).anyMatch(v -> v.family().equals(Counters.EXITS));
    }

    @Test
    void selftestStopsAtItsFirstHardwareTaskSwitchHavingPrintedNativesLines() throws BootImageException {
        LabGuest guest = LabGuests.find("selftest").orElseThrow();
        Run vtx = run(guest, true), bare = run(guest, false);
        assertThat(vtx.limit()).contains(VirtualizationLimit.HARDWARE_TASK_SWITCH);
        assertThat(vtx.outcome()).isInstanceOf(RunOutcome.Shutdown.class);
        assertThat(LabGuests.maskTimeDependent(bare.console()))
                .startsWith(LabGuests.maskTimeDependent(vtx.console()));
        assertThat(vtx.console()).contains("PASS ring3_cli_gp0");
    }
}

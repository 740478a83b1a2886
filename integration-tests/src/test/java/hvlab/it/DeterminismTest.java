package hvlab.it;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.it.tck.GuestRun;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The virtual clock makes a run a function of its inputs: the same guest twice gives identical results. */
class DeterminismTest {
    @ParameterizedTest(name = "lab:{0} twice")
    @ValueSource(strings = {"selftest", "forkwait"})
    void sameGuestTwiceIsBitIdentical(String name) throws Exception {
        LabGuest guest = LabGuests.find(name).orElseThrow();
        GuestRun first = GuestRun.multiboot("lab.elf", guest.kernelImage(), guest.commandLine());
        GuestRun second = GuestRun.multiboot("lab.elf", guest.kernelImage(), guest.commandLine());

        assertThat(second.console()).isEqualTo(first.console()); // timing fields included: time is virtual
        assertThat(second.instructions()).isEqualTo(first.instructions());
        assertThat(second.finalState()).isEqualTo(first.finalState());
        assertThat(first.console()).contains("timer_ticks=");
    }
}

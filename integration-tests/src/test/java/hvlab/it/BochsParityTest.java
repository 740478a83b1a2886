package hvlab.it;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.guests.peers.Bochs;
import hvlab.it.tck.GuestRun;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bochs 2.7 is the second reference PC: it follows the 386 where QEMU TCG cuts corners
 * (../shared/reference/external-suites.md). The lab ROMs print the same on Bochs as on hvlab.
 */
class BochsParityTest {
    /** Set in CI: without Bochs these tests fail instead of being skipped. */
    static final boolean BOCHS_REQUIRED = "1".equals(System.getenv("HVLAB_REQUIRE_BOCHS"));

    @BeforeAll
    static void needsBochs() {
        if (BOCHS_REQUIRED && !Bochs.installed()) {
            throw new IllegalStateException("Bochs is required (HVLAB_REQUIRE_BOCHS=1): " + Bochs.INSTALL_HINT);
        }
        assumeTrue(Bochs.installed(), "Bochs not installed: parity with Bochs not checked here");
    }

    @ParameterizedTest(name = "lab-{0}.rom on Bochs")
    @ValueSource(strings = {"hello", "selftest", "pgfault"})
    void romPrintsTheSameOnBochsAsOnHvlab(String name) throws Exception {
        LabGuest guest = LabGuests.find(name).orElseThrow();
        Bochs.Run bochs = Bochs.bios(guest.romImage());
        GuestRun hvlab = GuestRun.firmware(guest.romFileName(), guest.romImage());

        assertThat(bochs.reachedShutdown()).as("Bochs reached the shutdown port: %s", bochs.exitMessage()).isTrue();
        assertThat(LabGuests.maskTimeDependent(hvlab.console()))
                .as("console of %s on hvlab vs Bochs", guest.romFileName())
                .isEqualTo(LabGuests.maskTimeDependent(bochs.console()));
        assertThat(LabGuests.reportsFailure(bochs.console())).isFalse();
    }
}

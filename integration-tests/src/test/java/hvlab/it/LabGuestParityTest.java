package hvlab.it;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.guests.peers.Qemu;
import hvlab.it.tck.GuestRun;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every lab guest prints the same on hvlab as on QEMU and ends with the same debug-exit value: the machine model
 * is judged by a real guest against a reference PC. Numbers that depend on time are masked on both sides.
 */
class LabGuestParityTest {
    /** Set in CI: without QEMU these tests fail instead of being skipped. */
    static final boolean QEMU_REQUIRED = "1".equals(System.getenv("HVLAB_REQUIRE_QEMU"));

    @TempDir
    Path dir;

    @BeforeAll
    static void needsQemu() {
        if (QEMU_REQUIRED && !Qemu.installed()) {
            throw new IllegalStateException(Qemu.EXECUTABLE + " is required (HVLAB_REQUIRE_QEMU=1) but not on PATH");
        }
        assumeTrue(Qemu.installed(), Qemu.EXECUTABLE + " not installed: parity with QEMU not checked here");
    }

    static List<LabGuest> guests() {
        return LabGuests.all();
    }

    @ParameterizedTest(name = "lab:{0} via -kernel")
    @MethodSource("guests")
    void multibootGuestMatchesQemu(LabGuest guest) throws Exception {
        Path elf = Files.write(dir.resolve("lab.elf"), guest.kernelImage());
        Qemu.Run qemu = Qemu.kernel(elf, guest.arguments());
        GuestRun hvlab = GuestRun.multiboot("lab.elf", guest.kernelImage(), guest.commandLine());

        assertThat(LabGuests.maskTimeDependent(hvlab.console()))
                .as("console of lab:%s on hvlab (%s) vs QEMU", guest.name(), hvlab.outcome())
                .isEqualTo(LabGuests.maskTimeDependent(qemu.console()));
        assertThat(hvlab.exitValue()).as("exit value on hvlab").isEqualTo(qemu.exitValue());
        assertThat(hvlab.exitValue()).as("exit value").isEqualTo(LabGuests.EXIT_SUCCESS);
    }

    @ParameterizedTest(name = "lab:{0} via -bios")
    @ValueSource(strings = {"hello", "selftest", "syscall", "compute"})
    void romImageMatchesQemu(String name) throws Exception {
        LabGuest guest = LabGuests.find(name).orElseThrow();
        Path rom = Files.write(dir.resolve(guest.romFileName()), guest.romImage());
        Qemu.Run qemu = Qemu.bios(rom);
        GuestRun hvlab = GuestRun.firmware(rom.getFileName().toString(), guest.romImage());

        assertThat(LabGuests.maskTimeDependent(hvlab.console()))
                .as("console of the lab-%s ROM on hvlab (%s) vs QEMU", name, hvlab.outcome())
                .isEqualTo(LabGuests.maskTimeDependent(qemu.console()));
        assertThat(hvlab.exitValue()).isEqualTo(qemu.exitValue()).isEqualTo(LabGuests.EXIT_SUCCESS);
    }
}

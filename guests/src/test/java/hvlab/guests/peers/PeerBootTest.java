package hvlab.guests.peers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.guests.TinyRom;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's ROMs on the peers that are installed; skipped for a peer that is not. */
class PeerBootTest {
    @TempDir
    Path dir;

    @Test
    void labRomRunsOnBochsToTheShutdownPort() throws Exception {
        assumeTrue(Bochs.installed(), Bochs.INSTALL_HINT);
        LabGuest hello = LabGuests.find("hello").orElseThrow();
        Bochs.Run run = Bochs.bios(Files.write(dir.resolve(hello.romFileName()), hello.romImage()));

        assertThat(run.reachedShutdown()).as(run.exitMessage()).isTrue();
        assertThat(run.console()).contains("hello from ring 3", "lab: done status=pass");
        // the kernel's own 0.26 M, plus LSR polling while Bochs sends at 115200 baud and a few timer interrupts
        assertThat(run.instructions().getAsLong()).isBetween(250_000L, 300_000L);
    }

    @Test
    void exitAtOnceRomEndsBochsWithinAFewInstructions() throws Exception {
        assumeTrue(Bochs.installed(), Bochs.INSTALL_HINT);
        Bochs.Run run = Bochs.bios(Files.write(dir.resolve("exit.rom"), TinyRom.exitAtOnce()));

        // the far jump, mov al, out 0xf4, mov dx, then 7 of the 8 "mov al, c; out dx, al" pairs and the 8th mov
        assertThat(run.instructions()).hasValue(TinyRom.EXIT_AT_ONCE_INSTRUCTIONS + 1 + 7 * 2 + 1);
        assertThat(run.console()).isEmpty();
    }

    @Test
    void exitAtOnceRomEndsQemuWithTheSuccessValue() throws Exception {
        assumeTrue(Qemu.installed(), Qemu.INSTALL_HINT);
        Qemu.Run run = Qemu.bios(Files.write(dir.resolve("exit.rom"), TinyRom.exitAtOnce()));

        assertThat(run.exitValue()).isEqualTo(LabGuests.EXIT_SUCCESS);
    }
}

package hvlab.guests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import hvlab.guests.peers.Qemu;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Boots every workload on QEMU, as multiboot ELF and as ROM, when qemu-system-i386 is installed. */
class QemuBootTest {

    private static final int QEMU_SUCCESS_RC = (LabGuests.EXIT_SUCCESS << 1) | 1;

    @TempDir
    static Path dir;

    static List<LabGuest> guests() {
        return LabGuests.all();
    }

    @BeforeAll
    static void needsQemu() {
        assumeTrue(Qemu.installed(), Qemu.EXECUTABLE + " not on PATH");
    }

    @ParameterizedTest
    @MethodSource("guests")
    void elfAndRomPrintTheSameAndSucceed(LabGuest guest) throws Exception {
        Path elf = dir.resolve("lab.elf");
        if (!Files.exists(elf)) {
            Files.write(elf, guest.kernelImage());
        }
        Path rom = Files.write(dir.resolve(guest.romFileName()), guest.romImage());

        Qemu.Run viaElf = Qemu.kernel(elf, guest.arguments());
        Qemu.Run viaRom = Qemu.bios(rom);

        assertThat(viaElf.exitCode()).as(viaElf.console()).isEqualTo(QEMU_SUCCESS_RC);
        assertThat(viaRom.exitCode()).as(viaRom.console()).isEqualTo(QEMU_SUCCESS_RC);
        assertThat(viaElf.console()).doesNotContain("FAIL").contains("lab: done status=pass");
        assertThat(LabGuests.maskTimeDependent(viaRom.console())).isEqualTo(LabGuests.maskTimeDependent(viaElf.console()));
        if (!guest.name().equals("hello")) {   // a benchmark's result line, or a checking guest's summary
            assertThat(viaElf.console()).containsPattern("result workload=" + guest.name() + " iterations=|\n"
                    + guest.name() + ": [0-9]+ passed, 0 failed\n");
        }
    }
}

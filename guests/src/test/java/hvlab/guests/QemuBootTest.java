package hvlab.guests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Boots every workload on QEMU, as multiboot ELF and as ROM, when qemu-system-i386 is installed. */
class QemuBootTest {

    private static final String QEMU = "qemu-system-i386";
    private static final int QEMU_SUCCESS_RC = (LabGuests.EXIT_SUCCESS << 1) | 1;

    @TempDir
    static Path dir;

    static List<LabGuest> guests() {
        return LabGuests.all();
    }

    @BeforeAll
    static void needsQemu() {
        boolean found = false;
        for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            found |= !p.isEmpty() && Files.isExecutable(Path.of(p, QEMU));
        }
        assumeTrue(found, QEMU + " not on PATH");
    }

    private record Run(int rc, String output) {
    }

    private static Run qemu(List<String> bootArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-nodefaults", "-display", "none", "-m", "128",
                "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot"));
        cmd.addAll(bootArgs);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out;
        try (var in = p.getInputStream()) {
            out = in.readAllBytes();   // ends when QEMU exits; the wait below bounds a hang
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("QEMU did not exit: " + bootArgs);
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.US_ASCII));
    }

    @ParameterizedTest
    @MethodSource("guests")
    void elfAndRomPrintTheSameAndSucceed(LabGuest guest) throws Exception {
        Path elf = dir.resolve("lab.elf");
        if (!Files.exists(elf)) {
            Files.write(elf, guest.kernelImage());
        }
        Path rom = Files.write(dir.resolve(guest.romFileName()), guest.romImage());

        Run viaElf = qemu(List.of("-kernel", elf.toString(), "-append", guest.arguments()));
        Run viaRom = qemu(List.of("-bios", rom.toString()));

        assertThat(viaElf.rc()).as(viaElf.output()).isEqualTo(QEMU_SUCCESS_RC);
        assertThat(viaRom.rc()).as(viaRom.output()).isEqualTo(QEMU_SUCCESS_RC);
        assertThat(viaElf.output()).doesNotContain("FAIL").contains("lab: done status=pass");
        assertThat(LabGuests.maskTimeDependent(viaRom.output())).isEqualTo(LabGuests.maskTimeDependent(viaElf.output()));
        if (!guest.name().equals("hello") && !guest.name().equals("selftest")) {
            assertThat(viaElf.output()).contains("result workload=" + guest.name() + " iterations=");
        }
    }
}

package hvlab.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code hvlab run} exit status for the ways a guest ends the machine, as QEMU's process exits for them. */
class RunCommandExitStatusTest {
    @TempDir
    Path dir;

    /** A 64 KiB ROM whose reset vector F000:FFF0 jumps to {@code code} at F000:0000. */
    private Path rom(String code) throws Exception {
        byte[] image = new byte[0x10000];
        byte[] bytes = HexFormat.of().parseHex(code.replace(" ", ""));
        System.arraycopy(bytes, 0, image, 0, bytes.length);
        System.arraycopy(HexFormat.of().parseHex("ea000000f0"), 0, image, 0xFFF0, 5); // jmp far F000:0000
        Path file = dir.resolve("test.rom");
        Files.write(file, image);
        return file;
    }

    private static int run(Path bios) {
        return run(bios, new StringWriter());
    }

    private static int run(Path bios, StringWriter err) {
        InputStream stdin = System.in;
        System.setIn(new ByteArrayInputStream(new byte[0]));
        try {
            return HvlabCommand.execute(new PrintWriter(err, true), "run", "--bios", bios.toString());
        } finally {
            System.setIn(stdin);
        }
    }

    @Test
    void acpiSoftOffExitsWithZeroAsQemuDoesOnPoweroff() throws Exception {
        // SLP_TYP 0 (the PIIX4's S5) with SLP_EN to PM1a_CNT at 0x604
        assertThat(run(rom("ba 04 06 b8 00 20 ef f4"))).isZero();
    }

    @Test
    void piixResetControlExitsAsAReset() throws Exception {
        assertThat(run(rom("b0 06 ba f9 0c ee f4"))).isEqualTo(RunCommand.EXIT_RESET);
    }

    @Test
    void keyboardControllerResetPulseEndsTheRunAsQemuWithNoRebootDoes() throws Exception {
        // Linux's reboot on this machine: the FADT (revision 1) has no reset register, so BOOT_ACPI does nothing and
        // BOOT_KBD writes 0xFE ("pulse output port bit 0", the CPU reset line) to the 8042's command port 0x64
        StringWriter err = new StringWriter();
        assertThat(run(rom("b0 fe e6 64 f4"), err)).isEqualTo(RunCommand.EXIT_RESET);
        assertThat(err.toString()).contains("hvlab: the guest reset the machine (i8042 reset pulse)", "-no-reboot");
    }
}

package hvlab.cli;

import hvlab.guests.LabGuests;
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

/** {@code hvlab run --kernel bzImage --initrd FILE --append STR}, as QEMU takes them; bad input is named. */
class RunCommandLinuxTest {
    @TempDir
    Path dir;

    private record Result(int status, String err) { }

    private static Result run(String... args) {
        InputStream stdin = System.in;
        System.setIn(new ByteArrayInputStream(new byte[0]));
        try {
            StringWriter err = new StringWriter();
            int status = HvlabCommand.execute(new PrintWriter(err, true), args);
            return new Result(status, err.toString());
        } finally {
            System.setIn(stdin);
        }
    }

    private static void assertBadInput(Result result, String... expectedText) {
        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_BAD_INPUT);
        assertThat(result.err()).startsWith("hvlab: ").contains(expectedText).doesNotContain("\tat ", "Exception");
    }

    /**
     * A bzImage whose 32-bit code exits through the debug-exit port with the byte at boot_params.ramdisk_size
     * (ESI + 0x21C), so the exit status tells the initrd's size reached the kernel.
     */
    private Path bzImage() throws Exception {
        byte[] code = HexFormat.of().parseHex("8a861c020000" + "e6f4" + "f4"); // mov al,[esi+0x21c]; out 0xf4,al; hlt
        return Files.write(dir.resolve("bzImage"), TinyBzImage.around(code));
    }

    @Test
    void bzImageIsBootedByTheLinuxBootProtocolWithItsInitrd() throws Exception {
        Path initrd = Files.write(dir.resolve("initrd.gz"), new byte[0x33]);
        Result result = run("run", "--kernel", bzImage().toString(), "--initrd", initrd.toString(),
                "--append", "console=ttyS0", "--max-instructions", "1000");
        assertThat(result.status()).as(result.err()).isEqualTo(0x33);
    }

    @Test
    void bzImageBootsWithoutAnInitrd() throws Exception {
        Result result = run("run", "--kernel", bzImage().toString(), "--max-instructions", "1000");
        assertThat(result.status()).as(result.err()).isZero();
    }

    @Test
    void missingInitrdIsNamed() throws Exception {
        assertBadInput(run("run", "--kernel", bzImage().toString(), "--initrd", dir.resolve("nope.gz").toString()),
                "no such file", "nope.gz");
    }

    @Test
    void initrdThatIsAFolderIsRefused() throws Exception {
        assertBadInput(run("run", "--kernel", bzImage().toString(), "--initrd", dir.toString()), "is a directory");
    }

    @Test
    void initrdTooBigForRamIsRefused() throws Exception {
        Path initrd = Files.write(dir.resolve("big.gz"), new byte[3 << 20]);
        assertBadInput(run("run", "--kernel", bzImage().toString(), "--initrd", initrd.toString(), "--memory", "4M"),
                "initrd of 3145728 bytes does not fit");
    }

    @Test
    void initrdWithAMultibootKernelIsRefused() throws Exception {
        Path elf = Files.write(dir.resolve("lab.elf"), LabGuests.find("hello").orElseThrow().kernelImage());
        Path initrd = Files.write(dir.resolve("initrd.gz"), new byte[16]);
        assertBadInput(run("run", "--kernel", elf.toString(), "--initrd", initrd.toString()),
                "--initrd is for a Linux bzImage", "lab.elf");
    }

    @Test
    void initrdWithoutAKernelIsRefused() throws Exception {
        Path initrd = Files.write(dir.resolve("initrd.gz"), new byte[16]);
        assertBadInput(run("run", "--guest", "lab:hello", "--initrd", initrd.toString()), "--initrd goes with --kernel");
    }

    @Test
    void fileThatIsNeitherABzImageNorAMultibootKernelIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "not a kernel\n".repeat(100));
        assertBadInput(run("run", "--kernel", file.toString()), "notes.txt has no Multiboot header",
                "is not a Linux bzImage either");
    }

    @Test
    void brokenBzImageIsNamed() throws Exception {
        byte[] image = Files.readAllBytes(bzImage());
        image[0x211] = 0; // LOADED_HIGH clear: a zImage
        Path file = Files.write(dir.resolve("zImage"), image);
        assertBadInput(run("run", "--kernel", file.toString()), "zImage is a zImage", "LOADED_HIGH");
    }

    @Test
    void commandLineTooLongIsRefused() throws Exception {
        assertBadInput(run("run", "--kernel", bzImage().toString(), "--append", "x".repeat(2048)),
                "command line of 2048 bytes is longer than the 2047");
    }
}

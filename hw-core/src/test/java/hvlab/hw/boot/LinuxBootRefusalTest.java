package hvlab.hw.boot;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static hvlab.hw.boot.MultibootLoaderTest.pattern;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every bzImage the Linux loader refuses gives a BootImageException naming the problem, and RAM stays untouched. */
class LinuxBootRefusalTest {
    private static final int RAM = 64 << 20;

    private final PhysicalMemory memory = new PhysicalMemory(RAM, new MmioBus());

    private void assertRefused(byte[] image, byte[] initrd, String commandLine, String... messageParts) {
        assertThatThrownBy(() -> LinuxLoader.load(memory, "bzImage", image, initrd, commandLine))
                .isInstanceOf(BootImageException.class)
                .hasMessageContainingAll(messageParts);
        MultibootLoaderRefusalTest.assertRamUntouched(memory);
    }

    private void assertRefused(BzImageBuilder kernel, String... messageParts) {
        assertRefused(kernel.build(), null, "", messageParts);
    }

    @Test
    @DisplayName("an empty file")
    void emptyFile() {
        assertRefused(new byte[0], null, "", "bzImage is an empty file");
    }

    @Test
    @DisplayName("boot.rst, The Real-Mode Kernel Header: no \"HdrS\" at 0x202")
    void noHdrSSignature() {
        assertRefused(pattern(0x4000, 1), null, "", "bzImage is not a Linux kernel", "no \"HdrS\" signature at offset 0x202");
    }

    @Test
    @DisplayName("boot.rst, The Real-Mode Kernel Header: a file too short to hold the signature")
    void tooShortForTheSignature() {
        assertRefused(Arrays.copyOf(new BzImageBuilder().build(), 0x204), null, "", "no \"HdrS\" signature");
    }

    @Test
    @DisplayName("boot.rst, boot_flag: must be 0xAA55")
    void badBootFlag() {
        assertRefused(new BzImageBuilder().bootFlag(0x1234), "boot_flag 0x1234", "not 0xaa55");
    }

    @Test
    @DisplayName("boot.rst, syssize: protocols before 2.04 cannot give a bzImage's size")
    void protocolTooOld() {
        assertRefused(new BzImageBuilder().version(0x0203), "boot protocol 2.03", "2.04 or later");
    }

    @Test
    @DisplayName("boot.rst, Loading The Rest of The Kernel: a zImage (LOADED_HIGH clear) needs the real-mode BIOS")
    void notLoadedHigh() {
        assertRefused(new BzImageBuilder().loadFlags(0), "is a zImage", "LOADED_HIGH");
    }

    @Test
    @DisplayName("boot.rst, The kernel_info: the setup header must end before 0x290")
    void setupHeaderPastTheHole() {
        assertRefused(new BzImageBuilder().headerLengthByte(0x90), "setup header ending at 0x292");
    }

    @Test
    @DisplayName("boot.rst, setup_sects: a file that ends within its real-mode code")
    void fileEndsInTheSetupSectors() {
        byte[] image = Arrays.copyOf(new BzImageBuilder().setupSectors(20).build(), 0x1000);
        assertRefused(image, null, "", "bzImage is truncated", "setup_sects 20");
    }

    @Test
    @DisplayName("boot.rst, syssize: a protected-mode kernel shorter than syssize says")
    void protectedModeShorterThanSyssize() {
        assertRefused(new BzImageBuilder().syssizeParagraphs(0x200), "is truncated", "syssize", "8192 bytes");
    }

    @Test
    @DisplayName("boot.rst, Loading The Rest of The Kernel: a kernel at 0x100000 larger than RAM")
    void kernelLargerThanRam() {
        BzImageBuilder kernel = new BzImageBuilder().protectedMode(new byte[RAM]).initSize(0);
        assertRefused(kernel, "protected-mode kernel of 67108864 bytes", "does not fit in 64 MiB of RAM");
    }

    @Test
    @DisplayName("boot.rst, init_size: the memory the kernel runs in must be RAM")
    void initSizeBeyondRam() {
        assertRefused(new BzImageBuilder().initSize(0x400_0000), "needs RAM up to 0x5000000", "init_size 0x4000000",
                "64 MiB of RAM");
    }

    @Test
    @DisplayName("boot.rst, code32_start: the entry point must lie in the loaded kernel")
    void code32StartOutsideTheKernel() {
        assertRefused(new BzImageBuilder().code32Start(0x20_0000), "code32_start 0x200000 is outside");
    }

    @Test
    @DisplayName("boot.rst, cmdline_size: a longer command line is refused, not cut")
    void commandLineLongerThanCmdlineSize() {
        assertRefused(new BzImageBuilder().cmdlineSize(16).build(), null, "console=ttyS0 earlyprintk",
                "command line of 25 bytes is longer than the 16", "cmdline_size");
    }

    @Test
    @DisplayName("boot.rst, The Kernel Command Line: before protocol 2.06 the limit is 255")
    void commandLineLongerThan255BeforeProtocol206() {
        assertRefused(new BzImageBuilder().version(0x0205).build(), null, "z".repeat(256), "256 bytes", "255",
                "boot protocol 2.05");
    }

    @Test
    @DisplayName("boot.rst, Sample Boot Configuration: the command line must fit between 0xe000 and 0x10000")
    void commandLineLongerThanTheArea() {
        assertRefused(new BzImageBuilder().cmdlineSize(100_000).build(), null, "c".repeat(9000),
                "hvlab's command line area");
    }

    @Test
    @DisplayName("boot.rst, initrd_addr_max: an initrd that fits nowhere above the kernel and below the ceiling")
    void initrdTooBig() {
        assertRefused(new BzImageBuilder().build(), new byte[RAM - 0x100_0000], "", "initrd of 50331648 bytes",
                "does not fit", "kernel's end 0x1100000");
    }

    @Test
    @DisplayName("boot.rst, initrd_addr_max: a low ceiling leaves no room for the initrd")
    void initrdCeilingBelowTheKernel() {
        assertRefused(new BzImageBuilder().initrdAddrMax(0xFF_FFFF).build(), pattern(0x1000, 2), "",
                "initrd_addr_max 0xffffff");
    }

    @Test
    @DisplayName("an empty initrd")
    void emptyInitrd() {
        assertRefused(new BzImageBuilder().build(), new byte[0], "", "the initrd is an empty file");
    }

    @Test
    @DisplayName("a bzImage given to the Multiboot loader is named as such")
    void multibootLoaderNamesABzImage() {
        assertThatThrownBy(() -> MultibootLoader.load(memory, "bzImage", new BzImageBuilder().build(), ""))
                .hasMessageContaining("bzImage is a Linux bzImage, not a Multiboot kernel");
    }
}

package hvlab.hw.boot;

import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import hvlab.spi.GuestImage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's unmodified i386 kernel (linux-image-686) from the cache guests/linux/fetch-linux.sh fills: the loader
 * takes it, and the kernel boots on the machine far enough to print what the loader handed it. Skipped without the
 * cache, unless HVLAB_REQUIRE_LINUX=1.
 */
class LinuxBootDebianKernelTest {
    static final boolean LINUX_REQUIRED = "1".equals(System.getenv("HVLAB_REQUIRE_LINUX"));
    private static final int RAM = 128 << 20;
    private static final String COMMAND_LINE = "console=ttyS0 earlyprintk=serial,ttyS0,115200";
    /** The kernel reaches this line after about 2.4 billion instructions, most of them decompressing; room is left. */
    private static final String MARKER = "Kernel command line: " + COMMAND_LINE;
    private static final long BUDGET = 6_000_000_000L;

    private static Path cache;

    /** The cache folder: $HVLAB_LINUX_DIR, or ~/.cache/hvlab/linux, as fetch-linux.sh has it. */
    static Path cacheFolder() {
        String configured = System.getenv("HVLAB_LINUX_DIR");
        return configured != null && !configured.isEmpty() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "hvlab", "linux");
    }

    @BeforeAll
    static void needsTheFetchedKernel() {
        cache = cacheFolder();
        boolean present = Files.isRegularFile(cache.resolve("vmlinuz")) && Files.isRegularFile(cache.resolve("initrd.gz"));
        if (LINUX_REQUIRED && !present) {
            throw new IllegalStateException("the Debian kernel is required (HVLAB_REQUIRE_LINUX=1) but " + cache
                    + " has no vmlinuz and initrd.gz: run guests/linux/fetch-linux.sh");
        }
        assumeTrue(present, "no Debian kernel in " + cache + " (guests/linux/fetch-linux.sh fetches it)");
    }

    private static byte[] read(String name) throws IOException {
        return Files.readAllBytes(cache.resolve(name));
    }

    @Test
    @DisplayName("boot.rst, 32-bit Boot Protocol: Debian's bzImage (protocol 2.10+, relocatable) loads with its initrd")
    void loaderTakesTheDebianKernel() throws Exception {
        hvlab.hw.memory.PhysicalMemory memory = new hvlab.hw.memory.PhysicalMemory(RAM, new hvlab.hw.bus.MmioBus());
        byte[] initrd = read("initrd.gz");
        BootState state = LinuxLoader.load(memory, "vmlinuz", read("vmlinuz"), initrd, COMMAND_LINE);

        int zp = LinuxLoader.ZERO_PAGE;
        assertThat(memory.readU32(zp + LinuxSetupHeader.HEADER)).isEqualTo(LinuxSetupHeader.MAGIC);
        assertThat(memory.readU16(zp + LinuxSetupHeader.VERSION)).isGreaterThanOrEqualTo(LinuxSetupHeader.V2_10);
        assertThat(memory.readU8(zp + LinuxSetupHeader.RELOCATABLE_KERNEL)).isNotZero();
        assertThat(state.eip()).isEqualTo(LinuxLoader.KERNEL_LOAD_ADDRESS);
        long ramdisk = Integer.toUnsignedLong(memory.readU32(zp + LinuxSetupHeader.RAMDISK_IMAGE));
        assertThat(ramdisk + initrd.length).isLessThanOrEqualTo(RAM);
        assertThat(memory.readU32(zp + LinuxSetupHeader.RAMDISK_SIZE)).isEqualTo(initrd.length);
    }

    @Test
    @DisplayName("boot.rst, zero-page.rst: the kernel prints the E820 map, the initrd and the command line it was given")
    void kernelPrintsWhatTheLoaderHandedIt() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        String text;
        try (Machine machine = Machine.builder().ramBytes(RAM).serialOutput(console::write).build()) {
            machine.boot(new GuestImage.LinuxKernel("vmlinuz", read("vmlinuz"), read("initrd.gz"), COMMAND_LINE));
            RunOutcome outcome = null;
            for (long run = 0; run < BUDGET && !console.toString(StandardCharsets.ISO_8859_1).contains(MARKER);
                 run += 100_000_000) {
                outcome = machine.run(100_000_000);
                if (!(outcome instanceof RunOutcome.InstructionLimit)) {
                    break;
                }
            }
            text = console.toString(StandardCharsets.ISO_8859_1);
            assertThat(text).as("console after %s", outcome).contains(MARKER);
        }
        String release = Files.readString(cache.resolve("kernel-package")).split(" ")[0].replace("linux-image-", "");
        assertThat(text).contains("Linux version " + release);
        for (MemoryMapEntry range : MemoryMapEntry.pc(RAM)) {
            assertThat(text).contains(String.format("BIOS-e820: [mem 0x%016x-0x%016x] %s", range.base(),
                    range.end() - 1, range.type() == MemoryMapEntry.AVAILABLE ? "usable" : "reserved"));
        }
        assertThat(text).containsPattern("RAMDISK: \\[mem 0x[0-9a-f]{8}-0x07ffffff\\]");
        assertThat(text).doesNotContain("unchecked MSR access", "Oops", "BUG:", "WARNING:");
    }
}

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
    private static final String MARKER = "Kernel command line: " + COMMAND_LINE;
    /** The boot to power-off takes about 6.9 billion instructions, 2.4 of them to the command line; room is left. */
    private static final long BUDGET = 20_000_000_000L;

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

    /** What the initramfs's /init runs: the checks, each line easy to find in the console. */
    private static final String SCRIPT = """
            echo "script: uname $(uname -r -m)"
            echo "script: sum $((6 * 7))"
            echo "script: processors $(grep -c ^processor /proc/cpuinfo)"
            grep '^flags' /proc/cpuinfo | sed 's/^/script: /'
            """;

    /** hvlab's console and outcome for the kernel with SCRIPT: one boot (about a minute) serves both tests. */
    private static String bootedConsole;
    private static RunOutcome bootedOutcome;

    private static synchronized String bootOnHvlab() throws Exception {
        if (bootedConsole == null) {
            ByteArrayOutputStream console = new ByteArrayOutputStream();
            try (Machine machine = Machine.builder().ramBytes(RAM).serialOutput(console::write).build()) {
                byte[] initrd = withFile(read("initrd.gz"), "test.sh", SCRIPT);
                machine.boot(new GuestImage.LinuxKernel("vmlinuz", read("vmlinuz"), initrd, COMMAND_LINE));
                bootedOutcome = machine.run(BUDGET);
            }
            bootedConsole = console.toString(StandardCharsets.ISO_8859_1);
        }
        return bootedConsole;
    }

    @Test
    @DisplayName("boot.rst, zero-page.rst: the kernel prints the E820 map, initrd and command line it was handed, runs /init's script and powers off through ACPI S5")
    void kernelBootsToTheInitramfsRunsAScriptAndPowersOff() throws Exception {
        String text = bootOnHvlab();
        RunOutcome outcome = bootedOutcome;
        assertThat(outcome).as(text).isInstanceOf(RunOutcome.PowerOff.class);

        String release = Files.readString(cache.resolve("kernel-package")).split(" ")[0].replace("linux-image-", "");
        assertThat(text).contains("Linux version " + release, MARKER);
        for (MemoryMapEntry range : MemoryMapEntry.pc(RAM)) {
            assertThat(text).contains(String.format("BIOS-e820: [mem 0x%016x-0x%016x] %s", range.base(),
                    range.end() - 1, range.type() == MemoryMapEntry.AVAILABLE ? "usable" : "reserved"));
        }
        assertThat(text).containsPattern("RAMDISK: \\[mem 0x[0-9a-f]{8}-0x07ffffff\\]");
        assertThat(text).contains("hvlab-init: up " + release, "script: uname " + release + " i686", "script: sum 42",
                "script: processors 1", "hvlab-init: /test.sh exited with 0", "reboot: Power down");
        assertThat(text).containsPattern("script: flags\\s*: fpu .*\\bcx8\\b.*\\bcmov\\b");
        assertThat(text).doesNotContain("unchecked MSR access", "Oops", "BUG:", "WARNING:", "segfault", "panic");
    }

    /**
     * The parity check: the same kernel, initrd and command line on QEMU TCG print the same script lines.
     * The flags line is left out: QEMU's default qemu32 CPU is another CPU model (SSE, PAE, the hypervisor bit).
     */
    @Test
    @DisplayName("the script's lines on hvlab are QEMU TCG's for the same kernel, initrd and command line")
    void theScriptPrintsWhatItPrintsOnQemu() throws Exception {
        boolean qemu = java.util.stream.Stream.of(System.getenv("PATH").split(java.io.File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, "qemu-system-i386")));
        if (!qemu && "1".equals(System.getenv("HVLAB_REQUIRE_QEMU"))) {
            throw new IllegalStateException("qemu-system-i386 is required (HVLAB_REQUIRE_QEMU=1) but not on the PATH");
        }
        assumeTrue(qemu, "qemu-system-i386 is not on the PATH");
        Path initrd = Files.createTempFile("hvlab-initrd", ".img");
        try {
            Files.write(initrd, withFile(read("initrd.gz"), "test.sh", SCRIPT));
            Process process = new ProcessBuilder("qemu-system-i386", "-nodefaults", "-display", "none", "-m", "128",
                    "-serial", "stdio", "-no-reboot", "-kernel", cache.resolve("vmlinuz").toString(), "-initrd",
                    initrd.toString(), "-append", COMMAND_LINE).redirectErrorStream(true).start();
            String onQemu = new String(process.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(process.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(scriptLines(bootOnHvlab())).isNotEmpty().isEqualTo(scriptLines(onQemu));
        } finally {
            Files.deleteIfExists(initrd);
        }
    }

    private static java.util.List<String> scriptLines(String console) {
        return console.lines().map(String::strip).filter(l -> l.startsWith("script: ") && !l.startsWith("script: flags"))
                .toList();
    }

    static byte[] withFile(byte[] initrd, String name, String contents) {
        return InitramfsArchive.withFile(initrd, name, InitramfsArchive.EXECUTABLE, contents);
    }
}

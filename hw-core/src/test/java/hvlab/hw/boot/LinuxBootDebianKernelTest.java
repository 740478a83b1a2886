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
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

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

    /**
     * What the initramfs's /init runs: the checks, each line easy to find in the console, then an interactive
     * shell on the console as /init gives one, which {@link #TYPED} feeds through COM1.
     */
    private static final String SCRIPT = """
            echo "script: uname $(uname -r -m)"
            echo "script: sum $((6 * 7))"
            echo "script: processors $(grep -c ^processor /proc/cpuinfo)"
            grep '^flags' /proc/cpuinfo | sed 's/^/script: /'
            setsid cttyhack sh
            echo "script: shell exited with $?"
            """;
    /** busybox ash's prompt for root in /. */
    static final String PROMPT = "/ # ";
    /** What a user types at the shell's prompts, one line per prompt. */
    static final List<String> TYPED = List.of("echo \"script: typed $((6*7))\"\n", "exit\n");

    /** Types the next line each time the console shows the prompt, as a user who waits for it does. */
    static final class Typist {
        private final Deque<String> lines = new ArrayDeque<>(TYPED);
        private final StringBuilder recent = new StringBuilder();

        /** The console's next byte; the line to type now, or null. */
        String next(int b) {
            recent.append((char) b);
            if (recent.length() > PROMPT.length()) {
                recent.deleteCharAt(0);
            }
            return recent.toString().equals(PROMPT) ? lines.pollFirst() : null;
        }
    }

    /** hvlab's console and outcome for the kernel with SCRIPT: one boot (about a minute) serves both tests. */
    private static String bootedConsole;
    private static RunOutcome bootedOutcome;

    private static synchronized String bootOnHvlab() throws Exception {
        if (bootedConsole == null) {
            ByteArrayOutputStream console = new ByteArrayOutputStream();
            Typist typist = new Typist();
            Machine[] keyboard = new Machine[1];
            try (Machine machine = Machine.builder().ramBytes(RAM).serialOutput(b -> {
                console.write(b);
                String line = typist.next(b);
                if (line != null) {
                    keyboard[0].offerSerialInput(line.getBytes(StandardCharsets.US_ASCII));
                }
            }).build()) {
                keyboard[0] = machine;
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
        // the P6 performance counters (SDM Vol. 3B, P6 family performance monitoring) pass perf's hardware check
        assertThat(text).contains("Performance Events: p6 PMU driver").doesNotContain("Broken PMU hardware");
        // SMBIOS 2.8 as SeaBIOS gives QEMU's PC: the kernel names the machine from types 0 and 1
        assertThat(text).contains("SMBIOS 2.8 present", "DMI: hvlab hvlab PC").doesNotContain("DMI not present");
    }

    @Test
    @DisplayName("16550 receive path: a shell on the console takes the lines typed at its prompt, first byte and all")
    void anInteractiveShellRunsWhatIsTypedAtItsPrompt() throws Exception {
        String text = bootOnHvlab();
        // ash echoes the whole line it read (after its cursor-position query, ESC [6n, at the prompt)
        assertThat(text).contains(PROMPT, "echo \"script: typed $((6*7))\"", "script: typed 42",
                "script: shell exited with 0").doesNotContain("not found", "input overrun");
    }

    /**
     * The parity check: the same kernel, initrd and command line on QEMU TCG print the same script lines,
     * with the same lines typed at the shell's prompts. The flags line is left out: QEMU's default qemu32 CPU is another CPU model (SSE, PAE, the hypervisor bit).
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
            // a hung QEMU (a shell that never got its line) is ended, and its console then ends too
            Thread watchdog = Thread.ofPlatform().daemon().start(() -> {
                try {
                    if (!process.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)) {
                        process.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    process.destroyForcibly();
                }
            });
            String onQemu = converse(process, new Typist());
            watchdog.join();
            assertThat(process.exitValue()).as(onQemu).isZero();
            assertThat(scriptLines(bootOnHvlab())).isNotEmpty().isEqualTo(scriptLines(onQemu));
        } finally {
            Files.deleteIfExists(initrd);
        }
    }

    /** Reads QEMU's console to its end, typing the typist's lines into QEMU's stdin (its COM1) at the prompts. */
    private static String converse(Process process, Typist typist) throws IOException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        java.io.InputStream out = process.getInputStream();
        java.io.OutputStream keyboard = process.getOutputStream();
        int b;
        while ((b = out.read()) >= 0) {
            console.write(b);
            String line = typist.next(b);
            if (line != null) {
                keyboard.write(line.getBytes(StandardCharsets.US_ASCII));
                keyboard.flush();
            }
        }
        return console.toString(StandardCharsets.ISO_8859_1);
    }

    private static java.util.List<String> scriptLines(String console) {
        return console.lines().map(String::strip).filter(l -> l.startsWith("script: ") && !l.startsWith("script: flags"))
                .toList();
    }

    static byte[] withFile(byte[] initrd, String name, String contents) {
        return InitramfsArchive.withFile(initrd, name, InitramfsArchive.EXECUTABLE, contents);
    }
}

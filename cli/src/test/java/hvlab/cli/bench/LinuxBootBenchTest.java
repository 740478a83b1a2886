package hvlab.cli.bench;

import hvlab.cli.TinyBzImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The Linux boot benchmark: hvlab times the boot to the marker line and counts its instructions; peers beside it. */
class LinuxBootBenchTest {
    @TempDir
    Path dir;

    /** 32-bit code that prints {@code line} on COM1, one OUT per byte, then exits through port 0xf4 with 0. */
    private static byte[] printThenExit(String line) {
        ByteArrayOutputStream code = new ByteArrayOutputStream();
        code.writeBytes(new byte[] {0x66, (byte) 0xBA, (byte) 0xF8, 0x03}); // mov dx, 0x3f8
        for (byte b : line.getBytes(StandardCharsets.US_ASCII)) {
            code.writeBytes(new byte[] {(byte) 0xB0, b, (byte) 0xEE}); // mov al, b; out dx, al
        }
        code.writeBytes(new byte[] {0x31, (byte) 0xC0, (byte) 0xE6, (byte) 0xF4, (byte) 0xF4}); // xor eax,eax; out 0xf4,al; hlt
        return code.toByteArray();
    }

    @Test
    void hvlabTimesTheBootToTheMarkerLineAndCountsTheInstructionsBeforeIt() throws Exception {
        String line = "boot " + LinuxBootBench.MARKER + "\n";
        Path kernel = Files.write(dir.resolve("bzImage"), TinyBzImage.around(printThenExit("early\n" + line + "after\n")));

        Engine.Boot boot = new HvlabEngine().bootLinux(kernel, new byte[16], LinuxBootBench.COMMAND_LINE,
                LinuxBootBench.MARKER);

        // mov dx, then a mov and an out per byte: the marker line's newline is written by the last OUT counted here
        long beforeTheNewline = 1 + 2L * ("early\n" + line).length() - 1;
        assertThat(boot.instructions()).isEqualTo(OptionalLong.of(beforeTheNewline));
        assertThat(boot.startupTime()).isPresent();
        assertThat(boot.wallTime()).isPositive().isGreaterThan(boot.startupTime().orElseThrow());
    }

    @Test
    void aBootWithoutTheMarkerLineFailsWithTheConsolesLastLine() throws Exception {
        Path kernel = Files.write(dir.resolve("bzImage"), TinyBzImage.around(printThenExit("no marker here\n")));
        List<LinuxBootBench.Row> rows = LinuxBootBench.run(List.of(new HvlabEngine()), kernel, new byte[16],
                new PrintWriter(new StringWriter()));
        assertThat(rows).singleElement().satisfies(row -> {
            assertThat(row.boot()).isNull();
            assertThat(row.failure()).contains("no '" + LinuxBootBench.MARKER + "' line", "no marker here");
        });
    }

    @Test
    void anEngineWithoutALinuxLoaderGetsAFailedRowThatSaysSo() throws Exception {
        List<LinuxBootBench.Row> rows = LinuxBootBench.run(List.of(new BochsEngine()), dir.resolve("bzImage"),
                new byte[0], new PrintWriter(new StringWriter()));
        assertThat(rows).singleElement().extracting(LinuxBootBench.Row::failure).asString()
                .contains("Bochs cannot load a Linux bzImage");
    }

    @Test
    void tableShowsEachEnginesTimeToTheMarkerHvlabsInstructionsAndMipsAndTheBootTimeRatio() {
        Engine.Boot hvlab = new Engine.Boot(Duration.ofSeconds(70), Optional.of(Duration.ofMillis(500)),
                OptionalLong.of(6_950_000_000L));
        Engine.Boot qemu = new Engine.Boot(Duration.ofMillis(9_800), Optional.empty(), OptionalLong.empty());
        String table = LinuxBootBench.table(List.of(new LinuxBootBench.Row("hvlab", hvlab, null),
                new LinuxBootBench.Row("QEMU", qemu, null)), "linux-image-test");

        assertThat(table).contains("linux-image-test", LinuxBootBench.COMMAND_LINE);
        // 6.95e9 instructions over 69.5 s past start-up: 100 MIPS; 70 s over 9.8 s: 7.14x
        assertThat(table).containsPattern("hvlab\\s+70\\.00 s\\s+0\\.50 s\\s+6,950,000,000\\s+100\\.0\\s+-");
        assertThat(table).containsPattern("QEMU\\s+9\\.80 s\\s+-\\s+-\\s+-\\s+7\\.14x");
        assertThat(LinuxBootBench.json(List.of(new LinuxBootBench.Row("QEMU", qemu, null)), "k"))
                .contains("\"to_marker_ns\": 9800000000", "\"instructions\": null");
    }

    @Test
    void theScriptPrintsTheMarkerAfterWhatPeerMeasurementsRan() {
        assertThat(LinuxBootBench.SCRIPT).contains("uname -a", "/proc/cpuinfo").endsWith("echo MARKER-OK\n");
        byte[] initrd = LinuxBootBench.initrdWithScript(new byte[] {1, 2, 3});
        assertThat(new String(initrd, StandardCharsets.ISO_8859_1)).startsWith("\1\2\3\0").contains("test.sh",
                LinuxBootBench.SCRIPT, "TRAILER!!!");
    }
}

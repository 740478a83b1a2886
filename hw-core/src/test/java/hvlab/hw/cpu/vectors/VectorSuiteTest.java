package hvlab.hw.cpu.vectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The runner on small hand-written vector files: results, failure reports, metadata masks and exclusions. */
class VectorSuiteTest {
    /** All 14 registers; code at 1000:0000 (physical 0x10000), stack at 2000:0100. */
    private static String regs(int ax, int bx, int flags) {
        return "{\"ax\":" + ax + ",\"bx\":" + bx + ",\"cx\":0,\"dx\":0,\"cs\":4096,\"ss\":8192,\"ds\":0,\"es\":0,"
                + "\"sp\":256,\"bp\":0,\"si\":0,\"di\":0,\"ip\":0,\"flags\":" + flags + "}";
    }

    /** A test of {@code code} (instruction bytes then F4) at 1000:0000. */
    private static String test(int idx, String name, int[] code, String initialRegs, String finalRegs) {
        StringBuilder bytes = new StringBuilder(), ram = new StringBuilder();
        for (int i = 0; i < code.length; i++) {
            String sep = i == 0 ? "" : ",";
            bytes.append(sep).append(code[i]);
            ram.append(sep).append('[').append(0x10000 + i).append(',').append(code[i]).append(']');
        }
        return "{\"idx\":" + idx + ",\"name\":\"" + name + "\",\"bytes\":[" + bytes + "],\"initial\":{\"regs\":"
                + initialRegs + ",\"ram\":[" + ram + "]},\"final\":{\"regs\":" + finalRegs
                + ",\"ram\":[]},\"hash\":\"0\"}";
    }

    private static void write(Path file, String... lines) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(String.join("\n", lines).concat("\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void countsPassesAndDescribesFailures(@TempDir Path dir) throws IOException {
        int[] addAl1 = {0x04, 0x01, 0xF4};
        write(dir.resolve("04.jsonl.gz"),
                test(0, "add al,1", addAl1, regs(1, 0, 2), "{\"ax\":2,\"ip\":3}"),
                test(10, "add al,1", addAl1, regs(1, 0, 2), "{\"ax\":3,\"ip\":3}"));
        List<FileResult> seen = new ArrayList<>();

        SuiteResult result = VectorSuite.run(dir, seen::add);

        assertThat(seen).hasSize(1);
        FileResult file = seen.getFirst();
        assertThat(file.file()).isEqualTo("04");
        assertThat(file.passed()).isEqualTo(1);
        assertThat(file.failed()).isEqualTo(1);
        assertThat(file.failures()).singleElement().satisfies(f -> {
            assertThat(f.idx()).isEqualTo(10);
            assertThat(f.name()).isEqualTo("add al,1");
            assertThat(f.difference()).isEqualTo("ax expected 0003 got 0002");
        });
        assertThat(result.summary()).isEqualTo("1 passed, 1 failed");
        assertThat(file.summary()).isEqualTo("04  1 passed, 1 failed");
    }

    @Test
    void undefinedFlagsFromMetadataAndHighFlagsBitsAreMasked(@TempDir Path dir) throws IOException {
        // or al,0 leaves AF undefined; the 80286 happened to set it. Bits 12-15 of the initial FLAGS are dropped.
        Files.writeString(dir.resolve("metadata.json"),
                "{\"opcodes\": {\"0C\": {\"status\": \"normal\", \"flags\": \".....a..\", \"flags-mask\": 65519}}}");
        write(dir.resolve("0C.jsonl.gz"),
                test(0, "or al,0", new int[] {0x0C, 0x00, 0xF4}, regs(0x80, 0, 0xF002), "{\"ip\":3,\"flags\":146}"));

        SuiteResult result = VectorSuite.run(dir, f -> { });

        assertThat(result.passed()).isEqualTo(1);
        assertThat(result.failed()).isZero();
    }

    @Test
    void lockBeforeAnInstructionTheSdmDoesNotLockRunsWithANeutralPrefix(@TempDir Path dir) throws IOException {
        int[] lockMovAlBl = {0xF0, 0x88, 0xD8, 0xF4};
        write(dir.resolve("88.jsonl.gz"),
                test(0, "lock mov al,bl", lockMovAlBl, regs(0, 0x42, 2), "{\"ax\":66,\"ip\":4}"));

        SuiteResult result = VectorSuite.run(dir, f -> { });

        assertThat(result.passed()).isEqualTo(1);
        assertThat(result.applied()).containsEntry(Exclusions.Rule.LOCK_PREFIX, 1L);
    }

    @Test
    void movFromFsOnThe80286IsExcludedWithItsRule(@TempDir Path dir) throws IOException {
        // mov ax,fs: the 80286 has no FS and raised int 6 (the expected state here is not looked at)
        write(dir.resolve("8C.jsonl.gz"), test(0, "mov ax,fs", new int[] {0x8C, 0xE0, 0xF4}, regs(0, 0, 2),
                "{\"ip\":3}").replace(",\"hash\"", ",\"exception\":{\"number\":6,\"flag_address\":0},\"hash\""));

        SuiteResult result = VectorSuite.run(dir, f -> { });

        assertThat(result.excluded()).isEqualTo(1);
        assertThat(result.passRate()).isEqualTo(1.0);
        assertThat(result.applied()).containsEntry(Exclusions.Rule.SEGMENT_REGISTERS_FS_GS, 1L);
    }

    @Test
    void malformedLinesNameTheFileAndLine(@TempDir Path dir) throws IOException {
        write(dir.resolve("90.jsonl.gz"), "{\"idx\":0,}");

        assertThatThrownBy(() -> VectorSuite.run(dir, f -> { }))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("90.jsonl.gz line 1")
                .hasMessageContaining("trailing comma");
    }

    @Test
    void everyRuleGivesItsReason() {
        for (Exclusions.Rule rule : Exclusions.Rule.values()) {
            assertThat(rule.reason()).as(rule.name()).isNotBlank();
        }
    }
}

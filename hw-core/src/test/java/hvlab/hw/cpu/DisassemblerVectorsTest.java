package hvlab.hw.cpu;

import hvlab.hw.cpu.vectors.RealModeVectorsTest;
import hvlab.hw.cpu.vectors.VectorSuite;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The disassembler against the names the SingleStepTests 80286 vectors give their instruction bytes (NASM syntax,
 * 16-bit code): the first tests of every file, the x87 escapes included. Mnemonics must all agree, and the whole text
 * for nearly all. Each length must also agree with {@link InstructionLength}.
 */
class DisassemblerVectorsTest {
    private static final int TESTS_PER_FILE = 40;
    private static final Pattern NAME = Pattern.compile("\"name\":\\s*\"([^\"]*)\"");
    private static final Pattern BYTES = Pattern.compile("\"bytes\":\\s*\\[([0-9, ]*)]");

    @Test
    void namesOfTheRecordedInstructionsMatch() throws IOException {
        Path dir = RealModeVectorsTest.locate();
        assumeTrue(dir != null, "80286 vectors not found");
        List<String> mnemonicMismatches = new ArrayList<>(), textMismatches = new ArrayList<>();
        int compared = 0;
        for (Path file : VectorSuite.vectorFiles(dir)) {
            String name = file.getFileName().toString();
            for (String[] test : firstTests(file)) {
                String expected = test[0].replace("notrack ", ""); // a later extension's reading of DS
                if (expected.equals("(bad)") || expected.startsWith("v")) {
                    continue; // the recording's decoder gave up, or read C4/C5 as a later processor's VEX
                }
                byte[] bytes = bytes(test[1]);
                Disassembler.Instruction insn = Disassembler.disassemble(bytes, 0, 0, false);
                compared++;
                if (!mnemonic(insn.text()).equals(mnemonic(expected))) {
                    mnemonicMismatches.add(name + ": " + expected + " != " + insn.text());
                } else if (!insn.text().equalsIgnoreCase(expected)) {
                    textMismatches.add(name + ": " + expected + " != " + insn.text());
                }
                int length = InstructionLength.length(bytes, 0, bytes.length, false);
                assertThat(insn.length()).as(expected + " length").isEqualTo(length);
            }
        }
        textMismatches.stream().limit(10).forEach(System.out::println);
        System.out.println("disassembler vs sst-80286: " + compared + " compared, " + mnemonicMismatches.size()
                + " mnemonics and " + textMismatches.size() + " texts differ");
        assertThat(mnemonicMismatches).isEmpty();
        assertThat(textMismatches.size()).isLessThanOrEqualTo(compared / 100);
    }

    /** "lock rep movsb" and "movsb" share "movsb": prefixes are compared with the rest of the text. */
    private static String mnemonic(String text) {
        String[] words = text.toLowerCase().split(" ");
        for (String word : words) {
            if (!word.matches("lock|rep|repe|repne|[cdefgs]s")) {
                return word;
            }
        }
        return "";
    }

    private static List<String[]> firstTests(Path file) throws IOException {
        List<String[]> tests = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8))) {
            String line;
            while (tests.size() < TESTS_PER_FILE && (line = in.readLine()) != null) {
                Matcher name = NAME.matcher(line), bytes = BYTES.matcher(line);
                if (name.find() && bytes.find()) {
                    tests.add(new String[] {name.group(1), bytes.group(1)});
                }
            }
        }
        return tests;
    }

    private static byte[] bytes(String list) {
        String[] parts = list.split(",");
        byte[] bytes = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            bytes[i] = (byte) Integer.parseInt(parts[i].trim());
        }
        return bytes;
    }
}

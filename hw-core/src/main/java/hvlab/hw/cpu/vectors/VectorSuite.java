package hvlab.hw.cpu.vectors;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Runs a directory of SingleStepTests vectors ({@code *.jsonl.gz}, one JSON test per line, and {@code metadata.json}
 * for the undefined-flag masks) against the CPU, file by file in name order. What the 80286 does differently from
 * the SDM is handled as {@link Exclusions} says.
 *
 * <pre>{@code
 * SuiteResult all = VectorSuite.run(dir, file -> System.out.println(file.summary()));
 * System.out.println(all.summary());
 * }</pre>
 */
public final class VectorSuite {
    public static final String SUFFIX = ".jsonl.gz";
    public static final String METADATA = "metadata.json";
    /** Failures kept per file; the counts cover all of them. */
    public static final int FAILURES_PER_FILE = 5;

    private static final Exclusions.Rule[] RULES = Exclusions.Rule.values();

    private final Metadata metadata;
    private final VectorRunner runner = new VectorRunner();
    private final JsonReader reader = new JsonReader();
    private final VectorTest test = new VectorTest();

    private VectorSuite(Metadata metadata) {
        this.metadata = metadata;
    }

    /**
     * Runs every {@code *.jsonl.gz} in {@code dir}, handing each file's result to {@code perFile} as it finishes.
     * Without a {@code metadata.json} no flag is treated as undefined.
     *
     * @throws IOException if the directory or a file cannot be read, or a file is not in the format
     */
    public static SuiteResult run(Path dir, Consumer<FileResult> perFile) throws IOException {
        VectorSuite suite = forDirectory(dir);
        List<FileResult> results = new ArrayList<>();
        long passed = 0, failed = 0, excluded = 0;
        Map<Exclusions.Rule, Long> applied = new EnumMap<>(Exclusions.Rule.class);
        for (Path file : vectorFiles(dir)) {
            FileResult r = suite.runFile(file);
            results.add(r);
            passed += r.passed();
            failed += r.failed();
            excluded += r.excluded();
            r.applied().forEach((rule, n) -> applied.merge(rule, (long) n, Long::sum));
            perFile.accept(r);
        }
        return new SuiteResult(results, passed, failed, excluded, applied);
    }

    /** A suite for the files of {@code dir}, with its {@code metadata.json} if there is one. */
    public static VectorSuite forDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("not a directory: " + dir);
        }
        Path meta = dir.resolve(METADATA);
        return new VectorSuite(Files.exists(meta) ? readMetadata(meta) : Metadata.none());
    }

    private static Metadata readMetadata(Path meta) throws IOException {
        try {
            return Metadata.read(meta);
        } catch (JsonReader.JsonException e) {
            throw new IOException(meta + ": " + e.getMessage(), e);
        }
    }

    /** The vector files of a directory, sorted by name. */
    public static List<Path> vectorFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        }
    }

    /** Runs one {@code .jsonl.gz} file; its name without the suffix is the opcode key into the metadata. */
    public FileResult runFile(Path file) throws IOException {
        String name = file.getFileName().toString();
        String stem = name.endsWith(SUFFIX) ? name.substring(0, name.length() - SUFFIX.length()) : name;
        byte[] data;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
            data = in.readAllBytes();
        }
        boolean byReg = metadata.splitsByReg(stem);
        int passed = 0, failed = 0, excluded = 0;
        Map<Exclusions.Rule, Integer> applied = new EnumMap<>(Exclusions.Rule.class);
        List<Failure> failures = new ArrayList<>();
        int lineNumber = 0;
        for (int from = 0; from < data.length; ) {
            int to = from;
            while (to < data.length && data[to] != '\n') {
                to++;
            }
            lineNumber++;
            if (!blank(data, from, to)) {
                try {
                    test.read(reader.reset(data, from, to));
                } catch (JsonReader.JsonException e) {
                    throw new IOException(file + " line " + lineNumber + ": " + e.getMessage(), e);
                }
                int mask = metadata.flagsMask(stem, byReg ? modrmReg(test) : -1);
                VectorRunner.Outcome outcome = runner.run(test, mask);
                switch (outcome) {
                    case PASSED -> passed++;
                    case FAILED -> {
                        failed++;
                        if (failures.size() < FAILURES_PER_FILE) {
                            failures.add(new Failure(stem, test.idx, test.name(), runner.difference.toString()));
                        }
                    }
                    case EXCLUDED -> excluded++;
                }
                for (Exclusions.Rule rule : RULES) {
                    if ((runner.applied & 1 << rule.ordinal()) != 0) {
                        applied.merge(rule, 1, Integer::sum);
                    }
                }
            }
            from = to + 1;
        }
        return new FileResult(stem, passed, failed, excluded, applied, failures);
    }

    private static boolean blank(byte[] data, int from, int to) {
        for (int i = from; i < to; i++) {
            if (data[i] != ' ' && data[i] != '\r' && data[i] != '\t') {
                return false;
            }
        }
        return true;
    }

    /** The ModRM reg field of the test's instruction (after its prefixes), or -1 if there is no ModRM byte. */
    private static int modrmReg(VectorTest t) {
        int i = 0;
        while (i < t.byteCount && Exclusions.isPrefix(t.bytes[i])) {
            i++;
        }
        return i + 1 < t.byteCount ? (t.bytes[i + 1] >>> 3) & 7 : -1;
    }
}

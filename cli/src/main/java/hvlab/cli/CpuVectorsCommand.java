package hvlab.cli;

import hvlab.hw.cpu.vectors.SuiteResult;
import hvlab.hw.cpu.vectors.VectorSuite;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code hvlab cpu-vectors DIR}: runs single-instruction test vectors in the SingleStepTests JSON-lines format
 * (registers and RAM before and after) on the CPU model; one line per file, then {@code N passed, M failed}.
 */
@Command(name = "cpu-vectors", mixinStandardHelpOptions = true, description = "Runs SingleStepTests-format CPU test vectors (*.jsonl.gz) from DIR.")
final class CpuVectorsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "A folder of *.jsonl.gz files (and metadata.json).")
    Path dir;

    @Override
    public Integer call() {
        if (!Files.isDirectory(dir)) {
            throw new UserInputException("not a folder of test vectors: " + dir);
        }
        PrintWriter out = spec.commandLine().getOut();
        try {
            SuiteResult result = VectorSuite.run(dir, file -> {
                out.println(file.summary());
                file.failures().forEach(failure -> out.println("  " + failure));
                out.flush();
            });
            out.println(result.summary());
            out.flush();
            return result.failed() == 0 ? 0 : 1;
        } catch (IOException e) {
            throw new UserInputException("cannot read the vectors in " + dir + ": " + e.getMessage());
        }
    }
}

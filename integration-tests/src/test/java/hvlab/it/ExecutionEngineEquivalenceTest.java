package hvlab.it;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.it.tck.GuestRun;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The block compiler is an execution engine, not a strategy: with it and without it ({@code -Dhvlab.jit=false}) a
 * guest must print the same, retire the same number of instructions and end in the same CPU state. The engine is
 * chosen when a CPU is built, so the interpreter-only run happens in a second JVM.
 */
class ExecutionEngineEquivalenceTest {
    @ParameterizedTest(name = "lab:{0} compiled vs interpreted")
    @ValueSource(strings = {"selftest", "compute", "forkwait", "syscall", "pgfault"})
    void compiledBlocksGiveExactlyTheInterpretersResults(String name) throws Exception {
        LabGuest guest = LabGuests.find(name).orElseThrow();
        GuestRun compiled = GuestRun.multiboot("lab.elf", guest.kernelImage(), guest.commandLine());
        String interpreted = runInterpreterOnly(name);

        assertThat(compiled.console() + summary(compiled)).isEqualTo(interpreted);
    }

    static String summary(GuestRun run) {
        return "\n--- " + run.outcome() + " after " + run.instructions() + " instructions; " + run.finalState() + "\n";
    }

    /** Runs {@link InterpreterOnlyRun} in a JVM started with -Dhvlab.jit=false and returns what it printed. */
    private static String runInterpreterOnly(String name) throws IOException, InterruptedException {
        Path javaExecutable = Path.of(System.getProperty("java.home"), "bin", "java");
        // Everything on the class path: the child needs no module features, and surefire may run us either way.
        String classPath = String.join(File.pathSeparator, System.getProperty("jdk.module.path", ""),
                System.getProperty("java.class.path", ""));
        List<String> command = List.of(javaExecutable.toString(), "-Dhvlab.jit=false", "-cp", classPath,
                InterpreterOnlyRun.class.getName(), name);
        Path out = Files.createTempFile("interpreted", ".txt");
        try {
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("interpreter-only run finished").isTrue();
            assertThat(process.exitValue()).as("interpreter-only run exit status").isZero();
            return Files.readString(out, StandardCharsets.ISO_8859_1);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}

package hvlab.guests.peers;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A peer emulator run as a child process in a scratch folder: stdin from /dev/null, stdout and stderr to files (so a
 * hung peer cannot block a pipe reader), a time limit, and the wall time from start to exit.
 */
final class PeerProcess {
    /** What the process left behind: its stdout and stderr, exit code and wall time. */
    record Result(String stdout, String stderr, int exitCode, Duration wallTime) { }

    /** A body that runs in a scratch folder, deleted afterwards. */
    interface InFolder<T> {
        T run(Path folder) throws IOException, InterruptedException;
    }

    private PeerProcess() {
    }

    /** True if {@code executable} is an executable file in one of the PATH's folders. */
    static boolean onPath(String executable) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, executable))) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code body} in a fresh temporary folder and deletes the folder whatever happens. */
    static <T> T inScratchFolder(String prefix, InFolder<T> body) throws IOException, InterruptedException {
        Path folder = Files.createTempDirectory(prefix);
        try {
            return body.run(folder);
        } finally {
            deleteTree(folder);
        }
    }

    /** Runs {@code command} in {@code folder}; a run longer than {@code timeout} is killed and reported. */
    static Result run(List<String> command, Path folder, Duration timeout) throws IOException, InterruptedException {
        Path stdout = folder.resolve("stdout.txt");
        Path stderr = folder.resolve("stderr.txt");
        ProcessBuilder builder = new ProcessBuilder(command).directory(folder.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        long start = System.nanoTime();
        Process process = builder.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IOException(command.getFirst() + " did not exit within " + timeout + ": " + command);
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - start);
        return new Result(readText(stdout), readText(stderr), process.exitValue(), wall);
    }

    /** A file's bytes as ISO-8859-1 text (every byte one char, as a serial line carries it), or "" if absent. */
    static String readText(Path file) throws IOException {
        return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1) : "";
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}

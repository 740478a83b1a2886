package hvlab.guests.peers;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A peer emulator run as a child process in a scratch folder: stdin from /dev/null, stdout and stderr to files (so a
 * hung peer cannot block a pipe reader), a time limit, and the wall time from start to exit.
 */
final class PeerProcess {
    /**
     * What the process left behind: its stdout and stderr, exit code, wall time, and the time from start to the
     * first stdout line holding the watched text (empty when none was watched or it never came).
     */
    record Result(String stdout, String stderr, int exitCode, Duration wallTime, Optional<Duration> toMarker) { }

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
        return run(command, folder, timeout, null);
    }

    /**
     * The same, and notes when a stdout line first holds {@code marker} (null: none). stdout then comes through a
     * pipe that a thread of its own drains, so a hung peer still cannot block anyone.
     */
    static Result run(List<String> command, Path folder, Duration timeout, String marker)
            throws IOException, InterruptedException {
        Path stdout = folder.resolve("stdout.txt");
        Path stderr = folder.resolve("stderr.txt");
        ProcessBuilder builder = new ProcessBuilder(command).directory(folder.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(marker == null ? ProcessBuilder.Redirect.to(stdout.toFile())
                        : ProcessBuilder.Redirect.PIPE)
                .redirectError(stderr.toFile());
        long start = System.nanoTime();
        Process process = builder.start();
        MarkerWatch watch = marker == null ? null : MarkerWatch.start(process.getInputStream(), marker, start);
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IOException(command.getFirst() + " did not exit within " + timeout + ": " + command);
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - start);
        if (watch == null) {
            return new Result(readText(stdout), readText(stderr), process.exitValue(), wall, Optional.empty());
        }
        watch.finish();
        return new Result(watch.text(), readText(stderr), process.exitValue(), wall, watch.toMarker());
    }

    /** Drains a process's stdout and notes the time of the first line that holds the marker. */
    private static final class MarkerWatch {
        private final ByteArrayOutputStream text = new ByteArrayOutputStream();
        private final Thread thread;
        private volatile long markerNanos = -1;

        private MarkerWatch(InputStream in, String marker, long start) {
            thread = Thread.ofPlatform().daemon().name("peer-stdout").unstarted(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1))) {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        if (markerNanos < 0 && line.contains(marker)) {
                            markerNanos = System.nanoTime() - start;
                        }
                        synchronized (text) {
                            text.writeBytes((line + "\n").getBytes(StandardCharsets.ISO_8859_1));
                        }
                    }
                } catch (IOException e) {
                    // the process went away: what was read is all there is
                }
            });
        }

        static MarkerWatch start(InputStream in, String marker, long start) {
            MarkerWatch watch = new MarkerWatch(in, marker, start);
            watch.thread.start();
            return watch;
        }

        void finish() throws InterruptedException {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        }

        String text() {
            synchronized (text) {
                return text.toString(StandardCharsets.ISO_8859_1);
            }
        }

        Optional<Duration> toMarker() {
            long nanos = markerNanos;
            return nanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(nanos));
        }
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

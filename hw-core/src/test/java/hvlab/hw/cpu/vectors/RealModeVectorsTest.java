package hvlab.hw.cpu.vectors;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The SingleStepTests 80286 real-mode vectors (118,700 single instructions captured on a real 80286) against the
 * CPU. The data lives outside the repository at {@code shared/testdata/sst-80286/real-mode} beside it, or where the
 * system property {@code hvlab.sst.dir} says; without it the test is skipped, unless the environment sets
 * {@code HVLAB_REQUIRE_TESTDATA=1}.
 */
public class RealModeVectorsTest {
    private static final String PROPERTY = "hvlab.sst.dir";
    private static final Path RELATIVE = Path.of("shared", "testdata", "sst-80286", "real-mode");
    private static final double REQUIRED_PASS_RATE = 0.999;

    @Test
    void realModeVectorsMatchTheRecorded80286State() throws IOException {
        Path dir = locate();
        if (dir == null) {
            String message = "80286 vectors not found: set -D" + PROPERTY + " or put them at ../" + RELATIVE;
            if ("1".equals(System.getenv("HVLAB_REQUIRE_TESTDATA"))) {
                fail(message + " (HVLAB_REQUIRE_TESTDATA=1)");
            }
            assumeTrue(false, message);
        }
        SuiteResult result = VectorSuite.run(dir, file -> {
            if (file.failed() > 0) {
                System.out.println(file.summary());
                file.failures().forEach(f -> System.out.println("    " + f));
            }
        });
        System.out.println("sst-80286 real mode: " + result.summary() + ", " + result.excluded() + " excluded, of "
                + result.total() + "; rules applied per test: " + result.applied());

        assertThat(result.files()).isNotEmpty();
        assertThat((double) result.passed() / result.total())
                .as("passed / all tests, excluded ones counted as not passed")
                .isGreaterThanOrEqualTo(REQUIRED_PASS_RATE);
    }

    /** {@code hvlab.sst.dir}, or {@code shared/testdata/...} in the working directory or one above it. */
    public static Path locate() {
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) {
            Path dir = Path.of(property);
            return Files.isDirectory(dir) ? dir : null;
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared").resolve("testdata"))) {
                Path dir = p.resolve(RELATIVE);
                return Files.isDirectory(dir) ? dir : null;
            }
        }
        return null;
    }
}

package hvlab.hw.cpu.vectors;

import java.util.List;
import java.util.Map;

/**
 * Totals over a directory of vector files. {@link #passRate()} is over the tests that ran (excluded tests are
 * counted apart, each under the {@link Exclusions.Rule} that excluded it).
 */
public record SuiteResult(List<FileResult> files, long passed, long failed, long excluded,
                          Map<Exclusions.Rule, Long> applied) {
    public SuiteResult {
        files = List.copyOf(files);
        applied = Map.copyOf(applied);
    }

    public long total() {
        return passed + failed + excluded;
    }

    /** Passed over passed + failed; 1.0 for an empty run. */
    public double passRate() {
        long ran = passed + failed;
        return ran == 0 ? 1.0 : (double) passed / ran;
    }

    /** The last line of a listing: {@code N passed, M failed} (excluded tests are in {@link #excluded()}). */
    public String summary() {
        return passed + " passed, " + failed + " failed";
    }
}

package hvlab.hw.cpu.vectors;

import java.util.List;
import java.util.Map;

/**
 * The outcome of one vector file: counts, how often each {@link Exclusions.Rule} that acts per test was applied,
 * and the first failures in file order.
 */
public record FileResult(String file, int passed, int failed, int excluded, Map<Exclusions.Rule, Integer> applied,
                         List<Failure> failures) {
    public FileResult {
        applied = Map.copyOf(applied);
        failures = List.copyOf(failures);
    }

    public int total() {
        return passed + failed + excluded;
    }

    /** One line for a listing: {@code 80.4  400 passed, 0 failed}, and {@code (n excluded)} when there are. */
    public String summary() {
        return file + "  " + passed + " passed, " + failed + " failed"
                + (excluded > 0 ? " (" + excluded + " excluded)" : "");
    }
}

package hvlab.it.tck;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.spi.HypervisorProvider;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * The conformance suite as JUnit 5 tests for one provider: a plugin's own build subclasses this in its test sources
 * and returns its provider, as a Reactive Streams implementation subclasses {@code PublisherVerification}. Each
 * rule is one dynamic test named after it: PASS passes, FAIL fails with the violations, SKIP is aborted with the
 * reason (a missing capability, or an untested rule).
 */
public abstract class HypervisorConformanceSuite {
    /** The provider under test; called once per suite run. */
    protected abstract HypervisorProvider provider();

    /** The lab guests the rules run on; all of them unless a subclass narrows it. */
    protected List<LabGuest> guests() {
        return LabGuests.all();
    }

    @TestFactory
    public Stream<DynamicTest> conformance() {
        return rulesAsTests(ConformanceSuite.over(guests()).verification(provider()));
    }

    /** One dynamic test per rule; each prints its report line. */
    static Stream<DynamicTest> rulesAsTests(ConformanceSuite.Verification verification) {
        return Arrays.stream(ConformanceRule.values()).map(rule -> DynamicTest.dynamicTest(
                verification.providerId() + " " + rule.id(), () -> report(verification.check(rule))));
    }

    private static void report(RuleResult result) {
        System.out.println(result.line());
        switch (result.verdict()) {
            case PASS -> { }
            case FAIL -> fail(result.line() + " (" + result.rule().source() + ")");
            case SKIP, KNOWN_LIMIT -> abort(result.line());
        }
    }
}

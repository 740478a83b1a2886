package hvlab.it.tck;

/** What one rule said about one provider: a line of the suite's report. */
public record RuleResult(String providerId, ConformanceRule rule, Verdict verdict, String reason) {
    public enum Verdict { PASS, FAIL, SKIP }

    /** E.g. {@code tck xen-pv required_equivalence_001_console_output PASS: 11 lab guests}. */
    public String line() {
        return "tck " + providerId + " " + rule.id() + " " + verdict + (reason.isEmpty() ? "" : ": " + reason);
    }

    @Override
    public String toString() {
        return line();
    }
}

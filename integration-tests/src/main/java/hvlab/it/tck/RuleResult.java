package hvlab.it.tck;

/** What one rule said about one provider: a line of the suite's report. */
public record RuleResult(String providerId, ConformanceRule rule, Verdict verdict, String reason) {
    /**
     * PASS and FAIL as they say; SKIP when the rule does not apply to the provider; KNOWN_LIMIT when the rule's
     * deviations are all explained by limits the provider declares (neither a pass nor a failure).
     */
    public enum Verdict { PASS, FAIL, SKIP, KNOWN_LIMIT }

    /** E.g. {@code tck xen-pv required_equivalence_001_console_output PASS: 11 lab guests}. */
    public String line() {
        return "tck " + providerId + " " + rule.id() + " " + verdict + (reason.isEmpty() ? "" : ": " + reason);
    }

    @Override
    public String toString() {
        return line();
    }
}

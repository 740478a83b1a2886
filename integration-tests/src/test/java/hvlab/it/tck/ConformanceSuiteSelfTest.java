package hvlab.it.tck;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.spi.Capability;
import hvlab.it.tck.RuleResult.Verdict;
import hvlab.spi.HypervisorProvider;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The suite proves itself (the Reactive Streams TCK's {@code requireTestFailure}): a provider that delegates to the
 * bare machine passes every required rule, and each deliberately broken provider fails exactly the rule it breaks.
 * A few lab guests keep it quick: selftest for the instruction rules, two nanobenchmarks for accounting; the
 * resource-control rules run their hostile guests whatever the list.
 */
class ConformanceSuiteSelfTest {
    private static final ConformanceSuite SUITE = ConformanceSuite.over(
            List.of("hello", "selftest", "in", "syscall").stream().map(n -> LabGuests.find(n).orElseThrow()).toList());

    @Test
    void providerDelegatingToTheBareMachinePassesEveryRequiredRule() {
        Map<ConformanceRule, RuleResult> results = verify(new DelegatingProvider());

        results.forEach((rule, result) -> assertThat(result.verdict()).as(result.line())
                .isEqualTo(rule.required() && !rule.needs().contains(Capability.MULTIPLE_DOMAINS) ? Verdict.PASS
                        : Verdict.SKIP)); // one guest at a time: the rules for several domains skip
    }

    @Test
    void resourceControlRulesRunTheirHostileGuestEvenOutsideTheSuitesGuests() {
        Map<ConformanceRule, RuleResult> results = verify(new DelegatingProvider());

        Map.of(ConformanceRule.REQUIRED_RESOURCE_CONTROL_002_MEMORY_OUTSIDE_DOMAIN, "lab:wildmem",
                ConformanceRule.REQUIRED_RESOURCE_CONTROL_003_HYPERVISOR_MEMORY, "lab:hvmem",
                ConformanceRule.REQUIRED_RESOURCE_CONTROL_004_HOST_INTERRUPTS_UNMASKABLE, "lab:clispin",
                ConformanceRule.REQUIRED_RESOURCE_CONTROL_005_SENSITIVE_UNPRIVILEGED_ESCAPE, "lab:robin-irvine")
                .forEach((rule, guest) -> assertThat(results.get(rule).line()).as(rule.id())
                        .endsWith(" PASS: " + guest + " as on native"));
    }

    @Test
    void consoleChangedByTheProviderFailsOnlyConsoleEquivalence() {
        assertOnlyFailure(new BrokenProviders.ConsoleChanging(),
                ConformanceRule.REQUIRED_EQUIVALENCE_001_CONSOLE_OUTPUT, "lab:hello: console line");
    }

    @Test
    void hostStateInTheCountsFailsOnlyDeterminism() {
        assertOnlyFailure(new BrokenProviders.NonDeterministic(),
                ConformanceRule.REQUIRED_DETERMINISM_001_TWO_RUNS_BIT_IDENTICAL, "counts differ");
    }

    @Test
    void exitsThatNoGuestEventCausedFailOnlyAccounting() {
        assertOnlyFailure(new BrokenProviders.OverCounting(),
                ConformanceRule.REQUIRED_ACCOUNTING_001_COUNTS_BOUNDED_BY_GUEST_EVENTS, "exits and hypercalls, but");
    }

    @Test
    void missingCapabilitySkipsTheRulesItExcludesAndSaysWhich() {
        Map<ConformanceRule, RuleResult> results = verify(new BrokenProviders.ParavirtualOnly());

        results.values().forEach(result -> assertThat(result.verdict()).as(result.line()).isEqualTo(Verdict.SKIP));
        assertThat(results.get(ConformanceRule.REQUIRED_EQUIVALENCE_001_CONSOLE_OUTPUT).line()).isEqualTo(
                "tck paravirtual-only required_equivalence_001_console_output SKIP: excluded by capabilities:"
                        + " the provider does not declare [UNMODIFIED_GUESTS]");
    }

    /**
     * A paravirtualizing provider runs the PV port of each guest (xen-pv, lab-pv:NAME); a guest with no port is a
     * known limit only when the provider declares the limit that keeps the port out, and a failure otherwise.
     */
    @Test
    void aGuestWithoutAParavirtualPortIsAKnownLimitOnlyWhenTheProviderDeclaresWhy() {
        HypervisorProvider xen = ConformanceSuite.installedProvider("xen-pv").orElseThrow();
        ConformanceSuite suite = ConformanceSuite.over(List.of("hello", "clispin").stream()
                .map(n -> LabGuests.find(n).orElseThrow()).toList());
        ConformanceRule console = ConformanceRule.REQUIRED_EQUIVALENCE_001_CONSOLE_OUTPUT;

        RuleResult declared = suite.verification(xen).check(console);
        RuleResult undeclared = suite.verification(new WithoutDeclaredLimits(xen)).check(console);

        assertThat(declared.verdict()).as(declared.line()).isEqualTo(Verdict.KNOWN_LIMIT);
        assertThat(declared.reason()).contains("lab:clispin has no paravirtual port", "[INTERRUPT_HARDWARE]")
                .doesNotContain("lab:hello");
        assertThat(undeclared.verdict()).as(undeclared.line()).isEqualTo(Verdict.FAIL);
        assertThat(undeclared.reason()).isEqualTo("lab:clispin: no paravirtual port");
    }

    /**
     * lab-pv:robin-irvine runs in ring 1 and ring 3 under xen-pv: each check ring compression fails is a known limit
     * naming the sensitive instruction that leaked (Robin & Irvine 2000's list against Xen's ring compression), and
     * without the declared limits the same run fails.
     */
    @Test
    void xenPvsRobinIrvineDeviationsAreNamedInstructionByInstruction() {
        HypervisorProvider xen = ConformanceSuite.installedProvider("xen-pv").orElseThrow();
        ConformanceSuite suite = ConformanceSuite.over(List.of(LabGuests.find("hello").orElseThrow()));
        ConformanceRule escape = ConformanceRule.REQUIRED_RESOURCE_CONTROL_005_SENSITIVE_UNPRIVILEGED_ESCAPE;

        RuleResult declared = suite.verification(xen).check(escape);
        RuleResult undeclared = suite.verification(new WithoutDeclaredLimits(xen)).check(escape);

        assertThat(declared.verdict()).as(declared.line()).isEqualTo(Verdict.KNOWN_LIMIT);
        assertThat(declared.reason()).contains("lab:robin-irvine", "ring0_sgdt", "ring0_popf_if_iopl", "lar", "lsl",
                "ring3_int3_dpl0_gate_gp", "callgate_ring3_to_ring0_frame", "SGDT", "SIDT", "STR", "PUSHF", "POPF",
                "MOV_SEGMENT_REGISTER", "PUSH_SEGMENT_REGISTER", "LAR", "LSL", "INT_N", "CALL_FAR")
                .doesNotContain("no paravirtual port", "verr_verw", "ring3_interrupt_tss_stack_and_iret");
        assertThat(undeclared.verdict()).as(undeclared.line()).isEqualTo(Verdict.FAIL);
    }

    /** The provider with no declared limits. */
    private record WithoutDeclaredLimits(HypervisorProvider provider) implements HypervisorProvider {
        @Override
        public String id() {
            return provider.id();
        }

        @Override
        public String description() {
            return provider.description();
        }

        @Override
        public hvlab.spi.HypervisorType type() {
            return provider.type();
        }

        @Override
        public java.util.Set<hvlab.spi.Capability> capabilities() {
            return provider.capabilities();
        }

        @Override
        public hvlab.spi.Availability probe(hvlab.spi.MachineDescription machine) {
            return provider.probe(machine);
        }

        @Override
        public hvlab.spi.Hypervisor create(hvlab.spi.HostContext context) {
            return provider.create(context);
        }
    }

    private static void assertOnlyFailure(HypervisorProvider broken, ConformanceRule expected, String because) {
        Map<ConformanceRule, RuleResult> results = verify(broken);

        assertThat(results.values().stream().filter(r -> r.verdict() == Verdict.FAIL).map(RuleResult::rule))
                .as("failing rules").containsExactly(expected);
        assertThat(results.get(expected).reason()).contains(because);
    }

    private static Map<ConformanceRule, RuleResult> verify(HypervisorProvider provider) {
        List<RuleResult> results = SUITE.verify(provider);
        results.forEach(result -> System.out.println(result.line()));
        return results.stream().collect(Collectors.toMap(RuleResult::rule, Function.identity()));
    }
}

package hvlab.it.tck;

import hvlab.spi.Capability;

import java.util.Locale;
import java.util.Set;

/**
 * Every rule of the conformance suite, in the order it runs (the Reactive Streams TCK's {@code *VerificationRules}:
 * no rule can vanish unnoticed, and {@link ConformanceSuite} must check each one). Names carry their strength:
 * {@code required_} must pass; {@code untested_} cannot be verified yet and always reports SKIP, never PASS.
 *
 * @param source where the rule comes from
 * @param needs capabilities a provider must declare for the rule to apply; without them the rule is skipped
 */
public enum ConformanceRule {
    REQUIRED_EQUIVALENCE_001_CONSOLE_OUTPUT(Source.POPEK_GOLDBERG, Needs.UNMODIFIED_KERNEL,
            "every lab guest prints what it prints on native (time-dependent numbers masked)"),
    REQUIRED_EQUIVALENCE_002_EXIT_VALUE(Source.POPEK_GOLDBERG, Needs.UNMODIFIED_KERNEL,
            "every lab guest's run ends as on native, with the same debug-exit value"),
    REQUIRED_EQUIVALENCE_003_FINAL_GUEST_STATE(Source.POPEK_GOLDBERG, Needs.UNMODIFIED_KERNEL,
            "every lab guest ends with native's general, segment and system registers"),
    REQUIRED_EQUIVALENCE_004_SENSITIVE_UNPRIVILEGED_INSTRUCTIONS(Source.ROBIN_IRVINE, Needs.UNMODIFIED_KERNEL,
            "SGDT, SIDT, SMSW, STR, POPF and LAR show the guest its own state (lab:selftest's checks of them pass)"),
    REQUIRED_EQUIVALENCE_005_DOMAINS_SIDE_BY_SIDE(Source.BARHAM, Needs.MULTIPLE_DOMAINS,
            "two domains, lab:compute as d1 and lab:forkwait as d2, each print behind their '(dN) ' prefix what the"
            + " guest prints alone under the provider (time-dependent numbers masked), and the run ends as d1's alone"),
    REQUIRED_RESOURCE_CONTROL_001_USER_MODE_PRIVILEGED_INSTRUCTIONS_TRAP(Source.POPEK_GOLDBERG,
            Needs.UNMODIFIED_KERNEL, "CLI, HLT, MOV CR3, LGDT, WBINVD, IN and OUT in ring 3 raise #GP(0) as on"
            + " native (lab:selftest's ring3_* checks pass)"),
    REQUIRED_RESOURCE_CONTROL_002_MEMORY_OUTSIDE_DOMAIN(Source.POPEK_GOLDBERG, Needs.UNMODIFIED_KERNEL,
            "hostile lab:wildmem checks as on native: unmapped, supervisor and kernel pages fault with #PF error"
            + " code and CR2 at CPL 0 and 3, memory past its RAM stores nothing, its own memory stays intact"),
    REQUIRED_RESOURCE_CONTROL_003_HYPERVISOR_MEMORY(Source.POPEK_GOLDBERG, Needs.UNMODIFIED_KERNEL,
            "hostile lab:hvmem checks as on native: the top 64 MiB of linear space (Xen's reserved region on IA-32)"
            + " maps the guest's own RAM, the physical I/O hole there stores nothing, its own memory stays intact"),
    REQUIRED_RESOURCE_CONTROL_004_HOST_INTERRUPTS_UNMASKABLE(Source.POPEK_GOLDBERG, Needs.UNMODIFIED_KERNEL,
            "hostile lab:clispin checks as on native: with CLI and every PIC line masked the PIT keeps counting,"
            + " IRQ0 waits in the IRR and is taken right after STI"),
    REQUIRED_RESOURCE_CONTROL_005_SENSITIVE_UNPRIVILEGED_ESCAPE(Source.ROBIN_IRVINE, Needs.UNMODIFIED_KERNEL,
            "hostile lab:robin-irvine checks as on native: SGDT, SIDT, SLDT, STR, SMSW, PUSHF, MOV and PUSH CS at"
            + " CPL 0 and 3 show the guest's own tables, CR0, IF/IOPL and CPL; POPF, LAR, LSL, VERR, VERW, INT,"
            + " IRET and a call gate behave as on native"),
    REQUIRED_RESOURCE_CONTROL_006_CRASHING_DOMAIN_ENDS_ALONE(Source.BARHAM, Needs.MULTIPLE_DOMAINS,
            "a domain that crashes (lab:crash as d2, a triple fault; the PV lab kernel's crash, a fault with no"
            + " handler, under a paravirtualizing provider) ends alone: d1, lab:compute, prints what it prints alone"
            + " and the run ends as d1's alone"),
    REQUIRED_ACCOUNTING_001_COUNTS_BOUNDED_BY_GUEST_EVENTS(Source.POPEK_GOLDBERG, Needs.UNMODIFIED_KERNEL,
            "no count is negative, and exits plus hypercalls never outnumber the guest's instructions, exceptions"
            + " and interrupts that could cause them"),
    REQUIRED_ACCOUNTING_002_SENSITIVE_OPERATIONS_ACCOUNTED(Source.POPEK_GOLDBERG, Needs.UNMODIFIED_KERNEL,
            "every sensitive operation of a nanobenchmark that native counts shows, as the same hardware event or"
            + " as an exit, hypercall or translation"),
    REQUIRED_DETERMINISM_001_TWO_RUNS_BIT_IDENTICAL(Source.HVLAB, Needs.UNMODIFIED_KERNEL,
            "two runs of every lab guest give identical console bytes, outcome, CPU state, instruction count and"
            + " counters");

    private final Source source;
    private final Set<Capability> needs;
    private final String statement;

    ConformanceRule(Source source, Set<Capability> needs, String statement) {
        this.source = source;
        this.needs = needs;
        this.statement = statement;
    }

    /** The rule's name as a test method would carry it, e.g. {@code required_equivalence_001_console_output}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether a provider's declared limits can explain the rule's deviations (not accounting or determinism). */
    public boolean excusableByDeclaredLimits() {
        return name().contains("_EQUIVALENCE_") || name().contains("_RESOURCE_CONTROL_");
    }

    /**
     * Whether the rule can judge a paravirtualized port of a guest against the unmodified guest on native: all but
     * the final-state rule, as a PV kernel's registers (its ring-1 selectors, Xen's tables) are its own.
     */
    public boolean runsOnParavirtualPorts() {
        return this != REQUIRED_EQUIVALENCE_003_FINAL_GUEST_STATE;
    }

    public boolean required() {
        return name().startsWith("REQUIRED_");
    }

    public String source() {
        return source.citation;
    }

    public Set<Capability> needs() {
        return needs;
    }

    public String statement() {
        return statement;
    }

    private enum Source {
        POPEK_GOLDBERG("Popek & Goldberg 1974, Formal requirements for virtualizable third generation"
                + " architectures, CACM 17(7)"),
        ROBIN_IRVINE("Robin & Irvine 2000, Analysis of the Intel Pentium's ability to support a secure virtual"
                + " machine monitor, USENIX Security"),
        BARHAM("Barham et al. 2003, Xen and the Art of Virtualization, SOSP: domains share one machine, each isolated"
                + " from the others' behaviour"),
        HVLAB("hvlab architecture: every source of time is the virtual clock, a run replays bit-identical");

        private final String citation;

        Source(String citation) {
            this.citation = citation;
        }
    }

    /** Capability sets rules name; a rule's set says which missing capability excludes it. */
    private static final class Needs {
        /** The lab kernel is an ordinary IA-32 kernel, not ported to a paravirtual interface. */
        static final Set<Capability> UNMODIFIED_KERNEL = Set.of(Capability.UNMODIFIED_GUESTS);
        static final Set<Capability> NOTHING = Set.of();
        /** Several domains at once, one per image. */
        static final Set<Capability> MULTIPLE_DOMAINS = Set.of(Capability.MULTIPLE_DOMAINS);
    }
}

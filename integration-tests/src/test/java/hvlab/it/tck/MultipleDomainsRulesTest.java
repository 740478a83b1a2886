package hvlab.it.tck;

import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.RunOutcome;
import hvlab.it.tck.RuleResult.Verdict;
import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.GuestImage;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.HypervisorType;
import hvlab.spi.MachineDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules for providers that declare MULTIPLE_DOMAINS (Barham et al. 2003: domains side by side, each isolated
 * from the others): every reactor provider with the capability passes them, one without it skips them, and a
 * provider that mixes up its domains fails them.
 */
class MultipleDomainsRulesTest {
    private static final ConformanceRule SIDE_BY_SIDE = ConformanceRule.REQUIRED_EQUIVALENCE_005_DOMAINS_SIDE_BY_SIDE;
    private static final ConformanceRule CRASH = ConformanceRule.REQUIRED_RESOURCE_CONTROL_006_CRASHING_DOMAIN_ENDS_ALONE;

    /** The rules run their own guests; the suite's list only needs to be short. */
    private static ConformanceSuite.Verification verification(HypervisorProvider provider) {
        return ConformanceSuite.over(List.of(LabGuests.find("hello").orElseThrow())).verification(provider);
    }

    @ParameterizedTest
    @ValueSource(strings = {"xen-pv", "vtx", "vtx-ept"})
    void everyReactorProviderWithSeveralDomainsPassesBothRules(String id) {
        HypervisorProvider provider = ConformanceSuite.installedProvider(id).orElseThrow();
        assertThat(provider.capabilities()).contains(Capability.MULTIPLE_DOMAINS);
        ConformanceSuite.Verification verification = verification(provider);
        for (ConformanceRule rule : List.of(SIDE_BY_SIDE, CRASH)) {
            RuleResult result = verification.check(rule);
            System.out.println(result.line());
            assertThat(result.verdict()).as(result.line()).isEqualTo(Verdict.PASS);
        }
    }

    @Test
    void aProviderWithOneDomainSkipsThem() {
        ConformanceSuite.Verification verification = verification(new DelegatingProvider());
        for (ConformanceRule rule : List.of(SIDE_BY_SIDE, CRASH)) {
            assertThat(verification.check(rule).verdict()).isEqualTo(Verdict.SKIP);
            assertThat(verification.check(rule).line()).contains("MULTIPLE_DOMAINS");
        }
    }

    /** vtx with its domains in the wrong order: d1 prints d2's guest, so neither prints what it prints alone. */
    @Test
    void swappedDomainsFailBothRules() {
        ConformanceSuite.Verification verification = verification(new Rebooting(images -> images.reversed()));
        RuleResult sideBySide = verification.check(SIDE_BY_SIDE);
        assertThat(sideBySide.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(sideBySide.line()).contains("d1 (lab:compute): console line", "d2 (lab:forkwait)");
        RuleResult crash = verification.check(CRASH);
        assertThat(crash.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(crash.line()).contains("d1 (lab:compute)", "the run ended");
    }

    /** vtx that runs d1's image in both domains: the crashing domain never runs, which the rule sees. */
    @Test
    void aCrashingDomainThatNeverRanFailsTheCrashRule() {
        RuleResult crash = verification(new Rebooting(images -> List.of(images.getFirst(), images.getFirst())))
                .check(CRASH);
        assertThat(crash.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(crash.line()).contains("d2 (crash) did not run and crash");
    }

    /** vtx, with the images it is given changed before it boots them. */
    private static final class Rebooting implements HypervisorProvider {
        private final HypervisorProvider vtx = ConformanceSuite.installedProvider("vtx").orElseThrow();
        private final UnaryOperator<List<GuestImage>> change;

        Rebooting(UnaryOperator<List<GuestImage>> change) {
            this.change = change;
        }

        @Override
        public String id() {
            return "broken-domains";
        }

        @Override
        public String description() {
            return "test double: vtx booting other images than it was given";
        }

        @Override
        public HypervisorType type() {
            return vtx.type();
        }

        @Override
        public Set<Capability> capabilities() {
            return vtx.capabilities();
        }

        @Override
        public Availability probe(MachineDescription machine) {
            return vtx.probe(machine);
        }

        @Override
        public Hypervisor create(HostContext context) {
            Hypervisor real = vtx.create(context);
            return new Hypervisor() {
                @Override
                public void boot(GuestImage image) throws BootImageException {
                    real.boot(image);
                }

                @Override
                public void boot(List<GuestImage> images) throws BootImageException {
                    real.boot(change.apply(images));
                }

                @Override
                public RunOutcome run(long maxInstructions) {
                    return real.run(maxInstructions);
                }
            };
        }
    }
}

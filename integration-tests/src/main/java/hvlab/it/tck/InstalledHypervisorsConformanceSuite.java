package hvlab.it.tck;

import hvlab.spi.HypervisorProvider;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.stream.Stream;

/**
 * The conformance suite over every provider {@link java.util.ServiceLoader} finds on the test path, one container
 * per provider: a build with plugin jars on its test path subclasses this (with an empty body) and needs nothing
 * else. With no provider besides native it reports that in one passing test, so the suite always leaves a line.
 */
public abstract class InstalledHypervisorsConformanceSuite {
    @TestFactory
    public Stream<DynamicNode> conformanceOfEveryInstalledProvider() {
        List<HypervisorProvider> providers = ConformanceSuite.installedProviders();
        if (providers.isEmpty()) {
            return Stream.of(DynamicTest.dynamicTest("no providers", () -> System.out.println(
                    "tck: no hypervisor provider found besides native; no rule to check")));
        }
        ConformanceSuite suite = ConformanceSuite.overAllLabGuests();
        return providers.stream().map(provider -> DynamicContainer.dynamicContainer(provider.id(),
                HypervisorConformanceSuite.rulesAsTests(suite.verification(provider))));
    }
}

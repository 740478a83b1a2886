/**
 * The hypervisor conformance suite (TCK): {@link hvlab.it.tck.ConformanceRule} lists the rules,
 * {@link hvlab.it.tck.ConformanceSuite} runs them against a provider with native as the reference, and
 * {@link hvlab.it.tck.HypervisorConformanceSuite} / {@link hvlab.it.tck.InstalledHypervisorsConformanceSuite} are
 * the JUnit 5 entry points a plugin's build subclasses in its test sources.
 */
package hvlab.it.tck;

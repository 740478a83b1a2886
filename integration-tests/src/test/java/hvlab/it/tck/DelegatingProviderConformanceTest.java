package hvlab.it.tck;

import hvlab.spi.HypervisorProvider;

/**
 * How a plugin's build uses the suite (the Reactive Streams TCK's {@code examples/}): subclass, return the provider.
 * Here the provider that delegates to the bare machine, over every lab guest.
 */
class DelegatingProviderConformanceTest extends HypervisorConformanceSuite {
    @Override
    protected HypervisorProvider provider() {
        return new DelegatingProvider();
    }
}

package hvlab.example.trapemulate;

import hvlab.it.tck.HypervisorConformanceSuite;
import hvlab.spi.HypervisorProvider;

/** hvlab's conformance suite over this plugin, run from the plugin's own build as any third party would. */
class TrapAndEmulateConformanceTest extends HypervisorConformanceSuite {
    @Override
    protected HypervisorProvider provider() {
        return new TrapAndEmulateProvider();
    }
}

package hvlab.spi;

import java.util.Set;

/**
 * A hypervisor strategy, found through {@link java.util.ServiceLoader}. The constructor is trivial and the identity
 * methods are cheap; {@link #create(HostContext)} does the work. Modelled on the JDK's
 * {@code InetAddressResolverProvider} and JUnit's {@code TestEngine}.
 */
public interface HypervisorProvider {
    /** The SPI version this runtime implements: major.minor; a provider built for another major is refused. */
    String SPI_VERSION = "0.1";

    /** The SPI version the provider was built against. */
    default String spiVersion() {
        return SPI_VERSION;
    }

    /** A unique, stable, lower-case id, e.g. {@code xen-pv}; selected with {@code hvlab run --hypervisor ID}. */
    String id();

    /** One line for {@code hvlab list}. */
    String description();

    HypervisorType type();

    /** What the strategy can do, as data: the runtime refuses what it cannot serve and the TCK skips on it. */
    Set<Capability> capabilities();

    /**
     * Where the strategy knowingly differs from the real machine (Popek &amp; Goldberg's holes it leaves open, the
     * address space it takes, features it does not virtualize); none for a faithful strategy. The conformance suite
     * reports deviations these explain as known limits.
     */
    default Set<VirtualizationLimit> knownLimits() {
        return Set.of();
    }

    /** Whether this provider can serve the machine, and why not. Must not throw for an unsuitable machine. */
    Availability probe(MachineDescription machine);

    /** Builds the hypervisor on the machine the context describes. */
    Hypervisor create(HostContext context);
}

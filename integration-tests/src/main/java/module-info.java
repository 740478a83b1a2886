/**
 * The hypervisor conformance suite (TCK), exported for plugins to depend on in test scope; its own tests compare
 * lab guests on hvlab with QEMU and prove the suite against broken providers.
 */
module hvlab.it {
    requires transitive hvlab.hw;
    requires transitive hvlab.guests;
    requires transitive org.junit.jupiter.api;
    requires jdk.jfr;

    exports hvlab.it.tck;

    uses hvlab.spi.HypervisorProvider;
}

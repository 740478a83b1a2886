/**
 * An example hypervisor built outside hvlab's reactor against the published SPI: classic trap-and-emulate, the
 * guest kernel deprivileged to ring 1. It exports nothing; hvlab finds it with {@code --plugin-path}.
 */
module hvlab.example.trapemulate {
    requires hvlab.hw;

    provides hvlab.spi.HypervisorProvider with hvlab.example.trapemulate.TrapAndEmulateProvider;
}

package hvlab.spi;

/** The machine a hypervisor is asked to serve, as {@link HypervisorProvider#probe} sees it. */
public record MachineDescription(long ramBytes, int cpus) {
    public MachineDescription {
        if (ramBytes <= 0 || cpus <= 0) {
            throw new IllegalArgumentException("a machine needs RAM and at least one CPU");
        }
    }
}

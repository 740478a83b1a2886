package hvlab.spi;

/** Where the hypervisor runs: on the bare machine (Type I) or as a process of a host OS (Type II). */
public enum HypervisorType {
    TYPE_1,
    TYPE_2
}

package hvlab.spi;

/** What a strategy uses or offers, declared as data (kvm-ioctls' {@code Cap} is the model). */
public enum Capability {
    /** Guests call the hypervisor by hypercall (Xen's {@code int 0x82} or hypercall page). */
    PARAVIRT_HYPERCALLS,
    /** Guest kernel code is translated before it runs (VMware's BT). */
    BINARY_TRANSLATION,
    /** The CPU's VMX operation (VT-x). */
    VMX,
    /** Extended page tables: hardware two-dimensional paging. */
    EPT,
    /** Shadow page tables kept by the hypervisor. */
    SHADOW_PAGING,
    /** Paravirtual I/O: shared rings and event channels. */
    PV_IO,
    /** Runs hosted on a modelled host OS (Type II). */
    HOSTED,
    /** Several virtual CPUs. */
    SMP,
    /** State capture and restore. */
    SNAPSHOT,
    /** Runs unmodified guests (no paravirtual kernel needed). */
    UNMODIFIED_GUESTS,
    /**
     * Several guest domains at once on one machine, one per image given to {@link Hypervisor#boot(java.util.List)},
     * sharing the CPU under the hypervisor's scheduler.
     */
    MULTIPLE_DOMAINS,
    /**
     * With {@link #MULTIPLE_DOMAINS}: the scheduler shares the CPU among domains in proportion to their {@link
     * DomainConfig#cpuWeight()} (Xen's credit scheduler), as {@link Hypervisor#boot(java.util.List, java.util.List)}
     * gives them.
     */
    DOMAIN_WEIGHTS,
    /** Runs paravirtualized ports of the guests in their place (the lab kernel's PV port, lab-pv:NAME for lab:NAME). */
    PARAVIRTUALIZED_GUESTS,
    /** Classic trap-and-emulate: the guest kernel is deprivileged and its privileged instructions trap. */
    TRAP_AND_EMULATE
}

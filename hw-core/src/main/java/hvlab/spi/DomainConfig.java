package hvlab.spi;

/**
 * What a domain gets besides its image, as a domain's config file tells Xen's toolstack (xl.cfg(5)): its share of
 * the CPU against the other domains, its {@code cpu_weight} (as {@code xl sched-credit -w} sets it later). A weight
 * is honoured by a hypervisor that declares {@link Capability#DOMAIN_WEIGHTS}; the default asks for nothing.
 *
 * @param cpuWeight the domain's weight in the scheduler, 1..65535 (Xen's credit scheduler: a domain of weight 512
 *                  gets twice the CPU of one of weight 256 when both want it; xen/common/sched_credit.c)
 */
public record DomainConfig(int cpuWeight) {
    /** CSCHED_DEFAULT_WEIGHT (xen/common/sched_credit.c): what a domain gets when its config names no weight. */
    public static final int DEFAULT_CPU_WEIGHT = 256;
    /** The range xl and Xen's csched_dom_cntl accept. */
    public static final int MIN_CPU_WEIGHT = 1, MAX_CPU_WEIGHT = 65535;
    public static final DomainConfig DEFAULT = new DomainConfig(DEFAULT_CPU_WEIGHT);

    public DomainConfig {
        if (cpuWeight < MIN_CPU_WEIGHT || cpuWeight > MAX_CPU_WEIGHT) {
            throw new IllegalArgumentException("a domain's cpu weight is " + MIN_CPU_WEIGHT + ".." + MAX_CPU_WEIGHT
                    + " (xl.cfg cpu_weight, default " + DEFAULT_CPU_WEIGHT + "), not " + cpuWeight);
        }
    }

    /** Whether this asks for anything a hypervisor without weights could not give: a weight other than the default. */
    public boolean isDefault() {
        return cpuWeight == DEFAULT_CPU_WEIGHT;
    }
}

package hvlab.spi;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.machine.RunOutcome;

import java.util.List;
import java.util.Optional;

/**
 * One hypervisor instance on one machine, hosting one guest domain, or several when its provider declares
 * {@link Capability#MULTIPLE_DOMAINS}.
 */
public interface Hypervisor extends AutoCloseable {
    /** Builds the guest's domain from its image and leaves the CPU ready to run it. */
    void boot(GuestImage image) throws BootImageException;

    /**
     * Builds one domain per image, in order (domain 1 is the first), and leaves the CPU ready to run them; {@link
     * #run} then runs them all until every one has ended, and its outcome is that of the first. Only a hypervisor
     * whose provider declares {@link Capability#MULTIPLE_DOMAINS} takes more than one image; the default boots a
     * single image and refuses more (the framework checks the capability first and says so to the user).
     */
    default void boot(List<GuestImage> images) throws BootImageException {
        if (images.size() != 1) {
            throw new UnsupportedOperationException("this hypervisor hosts one guest; " + images.size()
                    + " images need Capability.MULTIPLE_DOMAINS");
        }
        boot(images.getFirst());
    }

    /**
     * As {@link #boot(List)}, each domain with its config ({@code configs.get(k)} for {@code images.get(k)}). Only
     * a hypervisor whose provider declares {@link Capability#DOMAIN_WEIGHTS} honours weights; the default boots the
     * images when every config is {@link DomainConfig#DEFAULT} and refuses otherwise, so no weight is silently lost.
     */
    default void boot(List<GuestImage> images, List<DomainConfig> configs) throws BootImageException {
        if (configs.size() != images.size()) {
            throw new IllegalArgumentException(images.size() + " images but " + configs.size() + " domain configs");
        }
        if (!configs.stream().allMatch(DomainConfig::isDefault)) {
            throw new UnsupportedOperationException("this hypervisor does not share the CPU by weight; cpu weights"
                    + " need Capability.DOMAIN_WEIGHTS");
        }
        boot(images);
    }

    /** Runs the guest until it ends or the budget is spent; routine exits are handled inside. */
    RunOutcome run(long maxInstructions);

    /**
     * The CPU state as the guest sees it, where that is not the machine's CPU (a deprivileged kernel, a VMCS guest
     * area, a virtual CPU); empty when the guest runs on the machine's CPU as is. The TCK compares it with native's.
     */
    default Optional<CpuState> guestCpuState() {
        return Optional.empty();
    }

    /**
     * The declared limit ({@link HypervisorProvider#knownLimits()}) at which the hypervisor stopped the guest, when
     * the last run ended because the guest needed something the strategy does not virtualize.
     */
    default Optional<VirtualizationLimit> limitReached() {
        return Optional.empty();
    }

    @Override
    default void close() {
    }
}

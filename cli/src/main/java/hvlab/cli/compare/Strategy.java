package hvlab.cli.compare;

import hvlab.hw.machine.Machine;
import hvlab.spi.Capability;
import hvlab.spi.Hypervisor;

import java.util.Set;
import java.util.function.Function;

/**
 * One way to run a workload: the bare machine ({@code native}) or a hypervisor provider.
 *
 * @param capabilities what the strategy declares; they decide which kernel image it runs ({@link GuestChoice})
 * @param hypervisorOn creates the strategy on a fresh machine
 */
public record Strategy(String id, Set<Capability> capabilities, Function<Machine, Hypervisor> hypervisorOn) {
    /** The bare machine runs the unmodified lab kernel, as any strategy that declares so. */
    public static final Set<Capability> NATIVE_CAPABILITIES = Set.of(Capability.UNMODIFIED_GUESTS);
}

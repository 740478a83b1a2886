package hvlab.hw.machine;

import hvlab.spi.HostContext;
import hvlab.spi.MachineDescription;

/** The framework's {@link HostContext}: a machine, its description and a logger named after the hypervisor. */
public record MachineHostContext(Machine machine, MachineDescription description, System.Logger logger)
        implements HostContext {
}

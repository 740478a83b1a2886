package hvlab.spi;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.Platform;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.hw.stats.Counters;

/**
 * What the framework hands a hypervisor: the machine it runs on, as host software sees it. Implemented by the
 * framework only (sealed), as the JDK's resolver SPI does with its {@code Configuration}.
 */
public sealed interface HostContext permits MachineHostContext {
    /** The machine; the hypervisor is software on it. */
    Machine machine();

    /** The processor the hypervisor runs on, in ring 0 or VMX root operation. */
    default Cpu cpu() {
        return machine().cpu();
    }

    /** The board: interrupt controllers, timers, the console. */
    default Platform platform() {
        return machine().platform();
    }

    default PhysicalMemory memory() {
        return platform().memory();
    }

    default PortBus ports() {
        return platform().ports();
    }

    default MmioBus mmio() {
        return platform().mmio();
    }

    default VirtualClock clock() {
        return platform().clock();
    }

    /** Where the hypervisor counts its mechanisms (exits by reason, hypercalls by number, ...). */
    default Counters counters() {
        return machine().counters();
    }

    MachineDescription description();

    System.Logger logger();
}

/** The PC model: CPU, memory and MMU, buses, devices, clock, loaders and the machine that composes them. */
module hvlab.hw {
    requires org.slf4j;

    exports hvlab.hw.bus;
    exports hvlab.hw.irq;
    exports hvlab.hw.clock;
    exports hvlab.hw.memory;
    exports hvlab.hw.cpu;
    exports hvlab.hw.cpu.vectors;
    exports hvlab.hw.boot;
}

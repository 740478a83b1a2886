/** The PC model: CPU, memory and MMU, buses, devices, clock, loaders and the machine that composes them. */
module hvlab.hw {
    requires org.slf4j;
    requires jdk.jfr;

    exports hvlab.hw.bus;
    exports hvlab.hw.irq;
    exports hvlab.hw.clock;
    exports hvlab.hw.memory;
    exports hvlab.hw.cpu;
    exports hvlab.hw.cpu.vmx; // VMCS field encodings, exit reasons, controls: what VMX-root software (hv-vtx) needs
    exports hvlab.hw.cpu.vectors;
    exports hvlab.hw.boot;
    exports hvlab.hw.machine;
    exports hvlab.hw.stats;
    exports hvlab.spi;

    uses hvlab.spi.HypervisorProvider;
    exports hvlab.hw.device;
    exports hvlab.hw.device.pic;
    exports hvlab.hw.device.pit;
    exports hvlab.hw.device.uart;
    exports hvlab.hw.device.cmos;
    exports hvlab.hw.device.i8042;
    exports hvlab.hw.device.debugexit;
    exports hvlab.hw.device.post;
    exports hvlab.hw.device.apic;
    exports hvlab.hw.device.ioapic;
    exports hvlab.hw.device.pci;
    exports hvlab.hw.device.acpi;
    exports hvlab.hw.firmware;
}

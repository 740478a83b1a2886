package hvlab.hw.machine;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.device.acpi.AcpiPmBlock;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.device.cmos.Cmos;
import hvlab.hw.device.ioapic.IoApic;
import hvlab.hw.device.pci.PciHost;
import hvlab.hw.device.pic.DualPic;
import hvlab.hw.device.pit.Pit8254;
import hvlab.hw.device.uart.Uart16550;
import hvlab.hw.memory.PhysicalMemory;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The parts of one PC as {@link MachineBuilder} wired them, and the board-level signals (debug exit, reset,
 * shutdown, power off) that end a run. Hypervisors and tests reach the hardware through here.
 */
public final class Platform implements AutoCloseable {
    private final VirtualClock clock;
    private final PhysicalMemory memory;
    private final MmioBus mmio;
    private final PortBus ports;
    private final Cpu cpu;
    private final DualPic pic;
    private final Pit8254 pit;
    private final Uart16550 uart;
    private final Cmos cmos;
    private final LocalApic localApic;
    private final IoApic ioApic;
    private final PciHost pci;
    private final AcpiPmBlock acpiPm;
    private final List<Clocked> timers;

    private IntConsumer exitListener = value -> { };
    private Consumer<String> resetListener = source -> { };
    private Consumer<String> shutdownListener = reason -> { };
    private Consumer<String> powerOffListener = source -> { };

    Platform(VirtualClock clock, PhysicalMemory memory, MmioBus mmio, PortBus ports, Cpu cpu, DualPic pic,
             Pit8254 pit, Uart16550 uart, Cmos cmos, LocalApic localApic, IoApic ioApic, PciHost pci,
             AcpiPmBlock acpiPm) {
        this.clock = clock;
        this.memory = memory;
        this.mmio = mmio;
        this.ports = ports;
        this.cpu = cpu;
        this.pic = pic;
        this.pit = pit;
        this.uart = uart;
        this.cmos = cmos;
        this.localApic = localApic;
        this.ioApic = ioApic;
        this.pci = pci;
        this.acpiPm = acpiPm;
        this.timers = List.of(pit, cmos, localApic, uart, acpiPm);
    }

    public VirtualClock clock() {
        return clock;
    }

    public PhysicalMemory memory() {
        return memory;
    }

    public MmioBus mmio() {
        return mmio;
    }

    public PortBus ports() {
        return ports;
    }

    public Cpu cpu() {
        return cpu;
    }

    public DualPic pic() {
        return pic;
    }

    public Pit8254 pit() {
        return pit;
    }

    public Uart16550 uart() {
        return uart;
    }

    public Cmos cmos() {
        return cmos;
    }

    public LocalApic localApic() {
        return localApic;
    }

    public IoApic ioApic() {
        return ioApic;
    }

    /** PCI configuration mechanism #1 and the functions on bus 0. */
    public PciHost pci() {
        return pci;
    }

    /** The ACPI fixed hardware of the PIIX4 (PM1 registers, PM timer). */
    public AcpiPmBlock acpiPm() {
        return acpiPm;
    }

    /** Devices with events in virtual time. */
    List<Clocked> timers() {
        return timers;
    }

    void onExit(IntConsumer listener) {
        exitListener = listener;
    }

    void onReset(Consumer<String> listener) {
        resetListener = listener;
    }

    void onShutdown(Consumer<String> listener) {
        shutdownListener = listener;
    }

    void onPowerOff(Consumer<String> listener) {
        powerOffListener = listener;
    }

    void debugExit(int value) {
        exitListener.accept(value);
    }

    void reset(String source) {
        resetListener.accept(source);
    }

    void shutdown(String reason) {
        shutdownListener.accept(reason);
    }

    void powerOff(String source) {
        powerOffListener.accept(source);
    }

    @Override
    public void close() {
        // No host resources yet (disk images will be flushed here).
    }
}

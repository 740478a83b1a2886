package hvlab.hw.machine;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.CpuHost;
import hvlab.hw.device.acpi.AcpiPmBlock;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.device.cmos.Cmos;
import hvlab.hw.device.debugexit.DebugExit;
import hvlab.hw.device.i8042.I8042;
import hvlab.hw.device.i8042.SystemControlPortA;
import hvlab.hw.device.ioapic.IoApic;
import hvlab.hw.device.pci.PciHost;
import hvlab.hw.device.pic.DualPic;
import hvlab.hw.device.pit.Pit8254;
import hvlab.hw.device.post.PostCodePort;
import hvlab.hw.device.uart.Uart16550;
import hvlab.hw.irq.IsaIrq;
import hvlab.hw.memory.PhysicalMemory;

import java.util.function.IntConsumer;

/**
 * Composes a PC top to bottom, the way a board is wired: clock, memory, CPU, buses, interrupt controllers, then
 * each device at its PC/AT address. Reading {@link #build()} tells what a PC is made of.
 */
public final class MachineBuilder {
    public static final int DEFAULT_RAM = 128 << 20;

    /** The local APIC's base address MSR (SDM Vol. 3A, 11.4.4). */
    static final int IA32_APIC_BASE = 0x1B;

    private int ramBytes = DEFAULT_RAM;
    private IntConsumer serialOutput = b -> { };

    MachineBuilder() {
    }

    public MachineBuilder ramBytes(int bytes) {
        this.ramBytes = bytes;
        return this;
    }

    /** Receives every byte COM1 transmits. */
    public MachineBuilder serialOutput(IntConsumer sink) {
        this.serialOutput = sink;
        return this;
    }

    public Machine build() {
        // Time: every timer on the board reads this one clock; the CPU advances it.
        VirtualClock clock = new VirtualClock();

        // Memory: RAM from 0, firmware ROM at the top of 4 GiB, device windows in between.
        MmioBus mmio = new MmioBus();
        PhysicalMemory memory = new PhysicalMemory(ramBytes, mmio);
        PortBus ports = new PortBus();

        // The processor.
        Cpu cpu = new Cpu(memory, ports, clock);
        BoardSignals board = new BoardSignals();

        // Interrupt controllers, timers and the console: the 8259A pair on LINT0 of the local APIC (virtual wire), the
        // I/O APIC on the APIC bus, the local APIC as what the CPU's INTR sees; the 8254 on IRQ0, the RTC on IRQ8,
        // COM1 (a 16550A) on IRQ4.
        PcDevices pc = new PcDevices(clock, ports, mmio, cpu::signalInterrupt, serialOutput, ramBytes);
        DualPic pic = pc.pic();
        LocalApic localApic = pc.localApic();
        IoApic ioApic = pc.ioApic();
        Pit8254 pit = pc.pit();
        Cmos cmos = pc.cmos();
        Uart16550 uart = pc.uart();

        // Keyboard controller with the A20 gate and the reset line; port 0x92 does both fast.
        I8042 keyboard = new I8042(pc.irq(IsaIrq.KEYBOARD), pc.irq(IsaIrq.MOUSE), a20 -> setA20(memory, cpu, a20),
                () -> board.reset("i8042 reset pulse"));
        ports.map(I8042.DATA_PORT, 1, "i8042 data", keyboard.dataPort());
        ports.map(I8042.COMMAND_PORT, 1, "i8042 command/status", keyboard.commandPort());
        ports.map(SystemControlPortA.PORT, 1, "system control port A",
                new SystemControlPortA(a20 -> setA20(memory, cpu, a20), () -> board.reset("port 0x92 fast reset")));

        // The 440FX chipset's PCI bus 0, with the PIIX3's reset control register at 0xCF9.
        PcChipset chipset = new PcChipset(pc, clock, ports, () -> board.reset("PIIX3 reset control register 0xcf9"),
                () -> board.powerOff("ACPI soft off (S5)"));
        chipset.mapResetControl(ports);
        PciHost pci = chipset.pci();
        AcpiPmBlock acpiPm = chipset.acpiPm();

        // Debug devices: POST codes, and QEMU's isa-debug-exit so a guest ends the same way on both.
        ports.map(PostCodePort.PORT, 1, "POST code port", new PostCodePort());
        ports.map(DebugExit.DEFAULT_IOBASE, DebugExit.IOSIZE, "isa-debug-exit", new DebugExit(board::debugExit));

        Platform platform = new Platform(clock, memory, mmio, ports, cpu, pic, pit, uart, cmos, localApic, ioApic, pci,
                acpiPm);
        board.attach(platform);
        cpu.connect(localApic, new CpuHost() {
            @Override
            public void shutdown(String reason) {
                board.shutdown(reason);
            }

            @Override
            public long readPlatformMsr(int index) {
                if (index == IA32_APIC_BASE) {
                    return localApic.apicBaseMsr();
                }
                return CpuHost.super.readPlatformMsr(index);
            }

            @Override
            public void writePlatformMsr(int index, long value) {
                if (index == IA32_APIC_BASE) {
                    localApic.setApicBaseMsr(value);
                    return;
                }
                CpuHost.super.writePlatformMsr(index, value);
            }
        });
        return new Machine(platform);
    }

    /** A20 changes what physical addresses mean, so cached translations go. */
    private static void setA20(PhysicalMemory memory, Cpu cpu, boolean enabled) {
        if (memory.a20Enabled() != enabled) {
            memory.setA20(enabled);
            cpu.flushTranslations();
        }
    }

    /** Board-level signals that end a run, forwarded to the platform once it exists. */
    private static final class BoardSignals {
        private Platform platform;

        void attach(Platform built) {
            platform = built;
        }

        void debugExit(int value) {
            platform.debugExit(value);
        }

        void reset(String source) {
            platform.reset(source);
        }

        void shutdown(String reason) {
            platform.shutdown(reason);
        }

        void powerOff(String source) {
            platform.powerOff(source);
        }
    }
}

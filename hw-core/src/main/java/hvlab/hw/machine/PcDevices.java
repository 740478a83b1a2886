package hvlab.hw.machine;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.device.cmos.Cmos;
import hvlab.hw.device.ioapic.IoApic;
import hvlab.hw.device.pic.DualPic;
import hvlab.hw.device.pic.Elcr;
import hvlab.hw.device.pic.Pic8259;
import hvlab.hw.device.pit.Pit8254;
import hvlab.hw.device.pit.SystemControlPortB;
import hvlab.hw.device.uart.Uart16550;
import hvlab.hw.irq.IrqLine;
import hvlab.hw.irq.IsaIrq;

import java.util.function.IntConsumer;

/**
 * The interrupt controllers, timers and console of a PC/AT with APICs, wired as the board wires them and mapped at
 * their PC addresses on the buses given: the 8259A pair on LINT0 of the local APIC (virtual wire), the I/O APIC
 * sending messages over the APIC bus, the 8254 on IRQ0 (counter 2 gated through port 0x61), the RTC on IRQ8 and COM1,
 * a 16550A, on IRQ4. {@link MachineBuilder} builds the machine's with it; a hypervisor builds its VM's own again.
 */
public final class PcDevices {
    private final DualPic pic;
    private final IoApic ioApic;
    private final LocalApic localApic;
    private final IsaInterruptRouting isa;
    private final Pit8254 pit;
    private final Cmos cmos;
    private final Uart16550 uart;

    /**
     * @param interruptRaised told whenever an interrupt may be pending at the local APIC (the CPU looks again)
     * @param serialOutput    receives every byte COM1 transmits
     * @param ramBytes        the RAM the CMOS reports
     */
    public PcDevices(VirtualClock clock, PortBus ports, MmioBus mmio, Runnable interruptRaised,
            IntConsumer serialOutput, long ramBytes) {
        pic = new DualPic(high -> interruptRaised.run());
        ApicBus apicBus = new ApicBus(interruptRaised);
        ioApic = new IoApic(apicBus::deliver);
        localApic = new LocalApic(clock, pic, ioApic::eoi);
        apicBus.attach(localApic);
        isa = new IsaInterruptRouting(pic, ioApic);
        ports.map(DualPic.MASTER_PORT, Pic8259.WINDOW, "8259A master", pic.master());
        ports.map(DualPic.SLAVE_PORT, Pic8259.WINDOW, "8259A slave", pic.slave());
        ports.map(DualPic.ELCR_PORT, Elcr.WINDOW, "ELCR", pic.elcr());
        mmio.map(LocalApic.DEFAULT_BASE, LocalApic.WINDOW_SIZE, "local APIC", localApic);
        mmio.map(IoApic.DEFAULT_BASE, IoApic.WINDOW_SIZE, "I/O APIC", ioApic);

        pit = new Pit8254(isa.irq(IsaIrq.PIT), clock);
        ports.map(Pit8254.PORT, Pit8254.WINDOW, "8254 PIT", pit);
        ports.map(SystemControlPortB.PORT, 1, "system control port B", new SystemControlPortB(pit));
        cmos = new Cmos(isa.irq(IsaIrq.RTC), clock);
        cmos.setMemorySize(ramBytes);
        ports.map(Cmos.PORT, Cmos.WINDOW, "MC146818 RTC/CMOS", cmos);

        uart = new Uart16550(isa.irq(IsaIrq.COM1), serialOutput, clock);
        ports.map(Uart16550.COM1_PORT, Uart16550.WINDOW, "16550A COM1", uart);
    }

    /** ISA IRQ {@code n} (0-15), to the 8259A pair and the I/O APIC. */
    public IrqLine irq(int n) {
        return isa.irq(n);
    }

    public DualPic pic() {
        return pic;
    }

    public IoApic ioApic() {
        return ioApic;
    }

    public LocalApic localApic() {
        return localApic;
    }

    public Pit8254 pit() {
        return pit;
    }

    public Cmos cmos() {
        return cmos;
    }

    public Uart16550 uart() {
        return uart;
    }
}

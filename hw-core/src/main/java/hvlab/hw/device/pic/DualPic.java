package hvlab.hw.device.pic;

import hvlab.hw.irq.InterruptController;
import hvlab.hw.irq.IrqLine;

/**
 * The PC/AT pair of 8259As: a master (ports 0x20-0x21) and a slave (ports 0xA0-0xA1) whose INT drives the master's
 * IR2, plus the ELCR (ports 0x4D0-0x4D1). IRQ n is master input n for n < 8 and slave input n-8 above; the ISA
 * IRQ2 pin is routed to IRQ9, as on the AT, because IR2 carries the cascade.
 */
public final class DualPic implements InterruptController {
    public static final int MASTER_PORT = 0x20;
    public static final int SLAVE_PORT = 0xA0;
    public static final int ELCR_PORT = 0x4D0;
    public static final int CASCADE_INPUT = 2;
    public static final int IRQS = 16;

    public record State(Pic8259.State master, Pic8259.State slave) {
    }

    private final Pic8259 master;
    private final Pic8259 slave;
    private final Elcr elcr;
    private final IrqLine[] irqs = new IrqLine[IRQS];

    /** @param intr the CPU's INTR input (or the local APIC's LINT0, or an I/O APIC pin), driven by the master's INT */
    public DualPic(IrqLine intr) {
        master = new Pic8259(intr);
        slave = new Pic8259(high -> master.setInput(CASCADE_INPUT, high));
        master.attachSlave(CASCADE_INPUT, slave);
        elcr = new Elcr(master, slave);
        for (int n = 0; n < IRQS; n++) {
            irqs[n] = n < 8 ? master.input(n) : slave.input(n - 8);
        }
        irqs[CASCADE_INPUT] = slave.input(1);
    }

    public DualPic() {
        this(IrqLine.NONE);
    }

    /** ISA interrupt request line {@code n} (0-15). */
    public IrqLine irq(int n) {
        return irqs[n];
    }

    public Pic8259 master() {
        return master;
    }

    public Pic8259 slave() {
        return slave;
    }

    public Elcr elcr() {
        return elcr;
    }

    /** The master's INT pin, for wiring to an I/O APIC or a local APIC's LINT0 in virtual wire mode. */
    public boolean intOutput() {
        return master.intOutput();
    }

    @Override
    public boolean hasPendingInterrupt() {
        return master.intOutput();
    }

    @Override
    public int acknowledge() {
        return master.acknowledge();
    }

    public State state() {
        return new State(master.state(), slave.state());
    }

    public void restore(State state) {
        slave.restore(state.slave());
        master.restore(state.master());
    }
}

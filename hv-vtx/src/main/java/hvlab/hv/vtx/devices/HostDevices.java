package hvlab.hv.vtx.devices;

import hvlab.hw.clock.Clocked;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.device.apic.ApicDeliveryMode;
import hvlab.hw.device.acpi.AcpiPmBlock;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.device.pci.Piix4PowerManagement;
import hvlab.hw.device.debugexit.DebugExit;
import hvlab.hw.device.ioapic.IoApic;
import hvlab.hw.device.pic.DualPic;
import hvlab.hw.device.uart.Uart16550;
import hvlab.hw.irq.IsaIrq;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;

/**
 * The machine's own devices, which the hypervisor keeps for itself and programs with its own IN, OUT and MMIO
 * stores in VMX root operation: the 8259A pair masked for good, the I/O APIC sending COM1's receive interrupt to
 * {@link #CONSOLE_VECTOR}, the local APIC's timer as the one-shot that wakes the hypervisor when the next virtual
 * timer event is due ({@link #TIMER_VECTOR}), COM1 as the console the guest's virtual COM1 prints on, and the
 * isa-debug-exit port through which the guest's exit value ends the run. With external-interrupt exiting and
 * "acknowledge interrupt on exit", every one of these interrupts is a VM exit carrying its vector (SDM Vol. 3C
 * 25.2, 27.2.2); the hypervisor answers it with an EOI to the local APIC.
 */
public final class HostDevices {
    public static final int TIMER_VECTOR = 0xF0, CONSOLE_VECTOR = 0xF1, SPURIOUS_VECTOR = 0xFF;
    private static final int LAPIC = (int) LocalApic.DEFAULT_BASE, IOAPIC = (int) IoApic.DEFAULT_BASE;
    private static final int DIVIDE_BY_1 = 0xB; // SDM Vol. 3A 11.5.4, Figure 11-10
    private static final int COM1 = Uart16550.COM1_PORT;
    private static final int LSR = 5, LSR_DATA_READY = 1;
    private static final long MAX_COUNT = 0xFFFF_FFFFL;
    private static final long NOT_ARMED = -1;

    private final Cpu cpu;
    private final Counter timerInterrupts, consoleInterrupts, otherInterrupts;
    private long armedDeadline = NOT_ARMED;
    private boolean consoleInput;

    public HostDevices(Cpu cpu, Counters counters) {
        this.cpu = cpu;
        String family = "host interrupts (hypervisor's own)";
        this.timerInterrupts = counters.counter(family, "local APIC timer 0x" + Integer.toHexString(TIMER_VECTOR));
        this.consoleInterrupts = counters.counter(family, "COM1 receive 0x" + Integer.toHexString(CONSOLE_VECTOR));
        this.otherInterrupts = counters.counter(family, "other");
    }

    /** Programs the machine's interrupt controllers, timer and console for the hypervisor (root operation). */
    public void takeOver() {
        // 8259A pair: initialized (ICW1-ICW4, 8259A datasheet) to unused vectors and every line masked (OCW1).
        for (int[] chip : new int[][] {{DualPic.MASTER_PORT, 0x30, 1 << IsaIrq.CASCADE}, {DualPic.SLAVE_PORT, 0x38,
            IsaIrq.CASCADE}}) {
            cpu.outPort(chip[0], 1, 0x11);
            cpu.outPort(chip[0] + 1, 1, chip[1]);
            cpu.outPort(chip[0] + 1, 1, chip[2]);
            cpu.outPort(chip[0] + 1, 1, 0x01);
            cpu.outPort(chip[0] + 1, 1, 0xFF);
        }
        // Local APIC (SDM Vol. 3A 11.5.1, 11.9): enabled, LINT0 masked (no 8259A), a one-shot timer, stopped.
        lapic(LocalApic.SVR, LocalApic.SVR_SOFTWARE_ENABLE | SPURIOUS_VECTOR);
        lapic(LocalApic.LVT_LINT0, LocalApic.LVT_MASKED | ApicDeliveryMode.EXTINT << 8);
        lapic(LocalApic.TIMER_DIVIDE, DIVIDE_BY_1);
        lapic(LocalApic.LVT_TIMER, TIMER_VECTOR);
        lapic(LocalApic.TIMER_INITIAL_COUNT, 0);
        // I/O APIC (82093AA datasheet 3.2.4): COM1's pin to the console vector, fixed, physical APIC 0, edge.
        int entry = IoApic.REGISTER_REDIRECTION_TABLE + 2 * IsaIrq.COM1;
        ioApic(entry + 1, 0);
        ioApic(entry, CONSOLE_VECTOR);
        // COM1: 115200 8N1, FIFO with a 1-byte trigger, OUT2 (the PC's interrupt enable), receive interrupts.
        cpu.outPort(COM1 + 3, 1, 0x80);
        cpu.outPort(COM1, 1, 1);
        cpu.outPort(COM1 + 1, 1, 0);
        cpu.outPort(COM1 + 3, 1, 0x03);
        cpu.outPort(COM1 + 2, 1, 0x07);
        cpu.outPort(COM1 + 4, 1, 0x0B);
        cpu.outPort(COM1 + 1, 1, 0x01);
    }

    private void lapic(int register, int value) {
        cpu.writeSupervisor32(LAPIC + register, value);
    }

    private void ioApic(int register, int value) {
        cpu.writeSupervisor32(IOAPIC + IoApic.IOREGSEL, register);
        cpu.writeSupervisor32(IOAPIC + IoApic.IOWIN, value);
    }

    /**
     * An external interrupt that exited, acknowledged on exit: counted and ended with an EOI to the local APIC (a
     * spurious vector takes none, SDM Vol. 3A 11.9).
     */
    public void interrupted(int vector) {
        switch (vector) {
            case TIMER_VECTOR -> {
                timerInterrupts.increment();
                armedDeadline = NOT_ARMED;
            }
            case CONSOLE_VECTOR -> {
                consoleInterrupts.increment();
                consoleInput = true;
            }
            default -> otherInterrupts.increment();
        }
        if (vector != SPURIOUS_VECTOR) {
            lapic(LocalApic.EOI, 0);
        }
    }

    /** Moves what the console typed from the machine's COM1 to the guest's, as far as its FIFO has room. */
    public void forwardConsoleInput(VirtualDevices devices) {
        while (consoleInput && devices.receiveRoom() > 0) {
            if ((cpu.inPort(COM1 + LSR, 1) & LSR_DATA_READY) == 0) {
                consoleInput = false;
                return;
            }
            devices.receive(cpu.inPort(COM1, 1));
        }
    }

    /** The local APIC timer fires at {@code deadlineNanos} (virtual time), or never; only a change is written. */
    public void armTimer(long deadlineNanos) {
        if (deadlineNanos == armedDeadline) {
            return;
        }
        armedDeadline = deadlineNanos;
        long count = deadlineNanos == Clocked.NO_EVENT ? 0
                : Math.min(MAX_COUNT, Math.max(1, deadlineNanos - cpu.nanos())); // one tick per ns at divide 1
        lapic(LocalApic.TIMER_INITIAL_COUNT, (int) count);
    }

    /** A byte the guest's COM1 sent, out on the machine's console. */
    public void transmit(int value) {
        cpu.outPort(COM1, 1, value);
    }

    /** The guest's soft off: the hypervisor powers the machine off through its own ACPI registers (S5). */
    public void powerOff() {
        cpu.outPort(Piix4PowerManagement.PM_BASE + AcpiPmBlock.PM1_CNT_OFFSET, 2,
                AcpiPmBlock.SLP_TYP_SOFT_OFF << AcpiPmBlock.SLP_TYP_SHIFT | AcpiPmBlock.SLP_EN);
    }

    /** The guest's exit value, written to the machine's isa-debug-exit: the run ends with it, as on native. */
    public void debugExit(int value) {
        cpu.outPort(DebugExit.DEFAULT_IOBASE, 4, value);
    }
}

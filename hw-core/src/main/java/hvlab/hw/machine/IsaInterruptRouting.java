package hvlab.hw.machine;

import hvlab.hw.device.ioapic.IoApic;
import hvlab.hw.device.pic.DualPic;
import hvlab.hw.irq.IrqLine;
import hvlab.hw.irq.IsaIrq;

/**
 * ISA IRQ lines of a PC with an I/O APIC: each goes to the 8259A pair and to the I/O APIC pin of the same number,
 * except IRQ0 (the PIT), which reaches I/O APIC pin 2 as on QEMU's and most boards (the MP/ACPI interrupt source
 * override that Linux reads).
 */
final class IsaInterruptRouting {
    static final int ISA_IRQS = 16;

    private final IrqLine[] lines = new IrqLine[ISA_IRQS];

    IsaInterruptRouting(DualPic pic, IoApic ioApic) {
        for (int irq = 0; irq < ISA_IRQS; irq++) {
            IrqLine toPic = pic.irq(irq);
            // ISA IRQ2 is the 8259A cascade; I/O APIC pin 2 belongs to IRQ0.
            IrqLine toIoApic = irq == IsaIrq.CASCADE ? IrqLine.NONE : ioApic.pin(irq == IsaIrq.PIT ? 2 : irq);
            lines[irq] = high -> {
                toPic.set(high);
                toIoApic.set(high);
            };
        }
    }

    IrqLine irq(int n) {
        return lines[n];
    }
}

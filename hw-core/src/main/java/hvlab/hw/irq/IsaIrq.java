package hvlab.hw.irq;

/**
 * The PC/AT's ISA interrupt assignments (IBM PC/AT Technical Reference, System Board, "Interrupts"), which the
 * machine wires and the firmware tables describe.
 */
public final class IsaIrq {
    public static final int PIT = 0, KEYBOARD = 1, CASCADE = 2, COM1 = 4, RTC = 8, MOUSE = 12;

    private IsaIrq() {
    }
}

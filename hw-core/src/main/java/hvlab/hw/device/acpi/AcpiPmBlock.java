package hvlab.hw.device.acpi;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.ByteIoRegion;
import hvlab.hw.device.GuestErrorLog;
import hvlab.hw.device.Oscillator;
import hvlab.hw.irq.IrqLine;

/**
 * The ACPI fixed hardware registers (ACPI 6.4, 4.8.3) as the PIIX4 power-management function lays them out in its
 * 64-byte I/O block at PMBASE (82371AB datasheet, 11.2): PM1a_EVT_BLK at +0 (PM1_STS, then PM1_EN), PM1a_CNT_BLK at
 * +4 (PM1_CNT) and PM_TMR_BLK at +8. The other PIIX4 registers of the block (general purpose, processor control,
 * global and device status) are not modelled: they read 0 and ignore writes. Registers are byte-addressable; a
 * wider access is its bytes low first, as the PIIX4 takes it.
 *
 * <p>The PM timer is a free-running 24-bit counter at 3.579545 MHz counted from virtual time 0; TMR_STS is set each
 * time its bit 23 changes, so it is computed from time rather than stored. The SCI is a level: high while SCI_EN
 * is set and a status bit with its enable bit is set (4.8.3.1). Setting SLP_EN asks for the sleep state in SLP_TYP;
 * the PIIX4's type 0 is soft off (S5), the only one the machine acts on.
 */
public final class AcpiPmBlock implements ByteIoRegion, Clocked {
    public static final int WINDOW = 64;
    public static final int PM1_EVT_OFFSET = 0, PM1_EVT_LENGTH = 4;
    public static final int PM1_CNT_OFFSET = 4, PM1_CNT_LENGTH = 2;
    public static final int PM_TMR_OFFSET = 8, PM_TMR_LENGTH = 4;
    static final int PM1_STS = PM1_EVT_OFFSET, PM1_EN = PM1_EVT_OFFSET + 2, PM1_CNT = PM1_CNT_OFFSET;

    /** The ACPI PM timer's crystal (ACPI 6.4, 4.8.3.3). */
    public static final Oscillator TIMER_CLOCK = new Oscillator(3_579_545);
    static final int TIMER_BITS = 24;
    static final int TIMER_CARRY_SHIFT = TIMER_BITS - 1;

    // PM1_STS and PM1_EN (ACPI 6.4, Tables 4.16 and 4.17); the PIIX4 implements these four events.
    public static final int TMR = 1, GBL = 1 << 5, PWRBTN = 1 << 8, RTC = 1 << 10;
    public static final int WAK_STS = 1 << 15;
    static final int EVENTS = TMR | GBL | PWRBTN | RTC;
    static final int STATUS_BITS = EVENTS | WAK_STS;

    // PM1_CNT (ACPI 6.4, Table 4.18).
    public static final int SCI_EN = 1, BM_RLD = 1 << 1, GBL_RLS = 1 << 2;
    public static final int SLP_TYP_SHIFT = 10, SLP_TYP_MASK = 7 << SLP_TYP_SHIFT, SLP_EN = 1 << 13;
    static final int CONTROL_STORED = SCI_EN | BM_RLD | SLP_TYP_MASK;
    /** The PIIX4's SUS_TYP encoding of soft off (82371AB datasheet, PMCNTRL): the value \_S5 must name. */
    public static final int SLP_TYP_SOFT_OFF = 0;

    /** Everything a snapshot needs; TMR_STS is the count of bit-23 changes seen when it was last cleared. */
    public record State(int status, int enable, int control, long timerCarriesCleared) {
    }

    private final IrqLine sci;
    private final VirtualClock clock;
    private final Runnable softOff;
    private final GuestErrorLog errors = new GuestErrorLog(AcpiPmBlock.class);
    /** Stored PM1_STS bits other than TMR_STS. */
    private int status;
    private int enable;
    private int control;
    private long timerCarriesCleared;
    /** The level last driven on the SCI line. */
    private boolean sciAsserted;

    /**
     * @param sci     the system control interrupt line (IRQ 9 on a PIIX4 board)
     * @param softOff called when the guest enters the soft-off state (S5)
     */
    public AcpiPmBlock(IrqLine sci, VirtualClock clock, Runnable softOff) {
        this.sci = sci;
        this.clock = clock;
        this.softOff = softOff;
    }

    @Override
    public int readByte(int offset) {
        return switch (offset) {
            case PM1_STS, PM1_STS + 1 -> byteOf(status(), offset - PM1_STS);
            case PM1_EN, PM1_EN + 1 -> byteOf(enable, offset - PM1_EN);
            case PM1_CNT, PM1_CNT + 1 -> byteOf(control, offset - PM1_CNT);
            case PM_TMR_OFFSET, PM_TMR_OFFSET + 1, PM_TMR_OFFSET + 2, PM_TMR_OFFSET + 3 ->
                    byteOf(timerValue(), offset - PM_TMR_OFFSET);
            default -> 0;
        };
    }

    @Override
    public void writeByte(int offset, int value) {
        switch (offset) {
            case PM1_STS, PM1_STS + 1 -> clearStatus((value & 0xFF) << (8 * (offset - PM1_STS)));
            case PM1_EN, PM1_EN + 1 -> enable = replaceByte(enable, offset - PM1_EN, value) & EVENTS;
            case PM1_CNT, PM1_CNT + 1 -> writeControl(replaceByte(control, offset - PM1_CNT, value),
                    offset - PM1_CNT);
            case PM_TMR_OFFSET, PM_TMR_OFFSET + 1, PM_TMR_OFFSET + 2, PM_TMR_OFFSET + 3 -> { } // read-only
            default -> errors.report("write to an unmodelled PIIX4 power-management register, offset", offset);
        }
        updateSci();
    }

    /** PM_TMR: the 24-bit count of 3.579545 MHz ticks since power-on (ACPI 6.4, 4.8.3.3). */
    public int timerValue() {
        return (int) (ticks(clock.nanos()) & ((1 << TIMER_BITS) - 1));
    }

    /** PM1_STS as read now. */
    public int status() {
        return status | (timerCarries(clock.nanos()) > timerCarriesCleared ? TMR : 0);
    }

    /** Someone pressed the power button: PWRBTN_STS (ACPI 6.4, 4.8.3.1.1). */
    public void pressPowerButton() {
        status |= PWRBTN;
        updateSci();
    }

    public boolean sciLevel() {
        return (control & SCI_EN) != 0 && (status() & enable & EVENTS) != 0;
    }

    /** ACPI mode on or off, as the firmware's SMI handler does when the OS writes ACPI_ENABLE or ACPI_DISABLE. */
    public void setSciEnabled(boolean on) {
        control = on ? control | SCI_EN : control & ~SCI_EN;
        updateSci();
    }

    private void clearStatus(int ones) {
        if ((ones & TMR) != 0) {
            timerCarriesCleared = timerCarries(clock.nanos());
        }
        status &= ~(ones & STATUS_BITS);
    }

    private void writeControl(int value, int byteWritten) {
        control = value & CONTROL_STORED;
        if (byteWritten == 1 && (value & SLP_EN) != 0) {
            int type = (value & SLP_TYP_MASK) >>> SLP_TYP_SHIFT;
            if (type == SLP_TYP_SOFT_OFF) {
                softOff.run();
            } else {
                errors.report("sleep state not modelled, SLP_TYP", type);
            }
        }
    }

    private void updateSci() {
        sciAsserted = sciLevel();
        sci.set(sciAsserted);
    }

    /**
     * While the timer event would raise a low SCI: the first bit-23 change since TMR_STS was cleared (which may be
     * now or past, if it has come and the line not yet followed).
     */
    @Override
    public long nextEventNanos() {
        if ((control & SCI_EN) == 0 || (enable & TMR) == 0 || sciAsserted) {
            return NO_EVENT;
        }
        return TIMER_CLOCK.nanosAt((timerCarriesCleared + 1) << TIMER_CARRY_SHIFT);
    }

    @Override
    public void advanceTo(long nowNanos) {
        updateSci();
    }

    private static long ticks(long nanos) {
        return TIMER_CLOCK.ticksAt(nanos);
    }

    private static long timerCarries(long nanos) {
        return ticks(nanos) >>> TIMER_CARRY_SHIFT;
    }

    private static int byteOf(int value, int index) {
        return value >>> (8 * index) & 0xFF;
    }

    private static int replaceByte(int value, int index, int newByte) {
        int shift = 8 * index;
        return value & ~(0xFF << shift) | (newByte & 0xFF) << shift;
    }

    public State state() {
        return new State(status, enable, control, timerCarriesCleared);
    }

    public void restore(State state) {
        status = state.status() & STATUS_BITS & ~TMR;
        enable = state.enable() & EVENTS;
        control = state.control() & CONTROL_STORED;
        timerCarriesCleared = state.timerCarriesCleared();
        updateSci();
    }
}

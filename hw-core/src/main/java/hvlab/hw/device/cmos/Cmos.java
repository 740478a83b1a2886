package hvlab.hw.device.cmos;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.Bcd;
import hvlab.hw.device.ByteIoRegion;
import hvlab.hw.device.Oscillator;
import hvlab.hw.irq.IrqLine;
import java.time.LocalDateTime;

/**
 * The PC/AT's Motorola MC146818A real-time clock with 128 bytes of CMOS RAM. Window of two ports: offset 0 (port
 * 0x70) takes the register index in bits 6-0 and the chipset's NMI mask in bit 7; offset 1 (port 0x71) reads and
 * writes the indexed register. The interrupt line is IRQ8.
 *
 * <p>Time is the start instant plus virtual time: the divider chain's one-second updates fall at whole seconds
 * after its origin (virtual time 0, or 500 ms before the first update after a divider reset). The calendar is held
 * as the fields last set plus the count of updates since; fields are kept as numbers, so switching DM or 24/12
 * re-encodes the same time (the real part would keep the old bits). Interrupt flags are computed on demand from
 * the same arithmetic; {@link Clocked} events exist only to raise IRQ8 when an enabled flag comes due.
 * Daylight saving (DSE) is not modelled: PCs leave it off.
 */
public final class Cmos implements ByteIoRegion, Clocked {
    public static final int PORT = 0x70;
    public static final int WINDOW = 2;
    public static final LocalDateTime DEFAULT_START = LocalDateTime.of(2000, 1, 1, 0, 0, 0);
    public static final Oscillator TIME_BASE = new Oscillator(32_768);

    public static final int SECONDS = 0x00;
    public static final int SECONDS_ALARM = 0x01;
    public static final int MINUTES = 0x02;
    public static final int MINUTES_ALARM = 0x03;
    public static final int HOURS = 0x04;
    public static final int HOURS_ALARM = 0x05;
    public static final int DAY_OF_WEEK = 0x06;
    public static final int DAY_OF_MONTH = 0x07;
    public static final int MONTH = 0x08;
    public static final int YEAR = 0x09;
    public static final int REGISTER_A = 0x0A;
    public static final int REGISTER_B = 0x0B;
    public static final int REGISTER_C = 0x0C;
    public static final int REGISTER_D = 0x0D;
    public static final int EQUIPMENT = 0x14;
    public static final int BASE_MEMORY_KIB = 0x15;
    public static final int EXTENDED_MEMORY_KIB = 0x17;
    public static final int CHECKSUM = 0x2E;
    public static final int POST_EXTENDED_MEMORY_KIB = 0x30;
    public static final int CENTURY = 0x32;
    public static final int MEMORY_ABOVE_16M_64KIB = 0x34;

    static final int A_UPDATE_IN_PROGRESS = 0x80;
    static final int A_DIVIDER = 0x70;
    static final int A_DIVIDER_32768_HZ = 0x20;
    static final int A_RATE = 0x0F;
    static final int B_SET = 0x80;
    static final int B_PERIODIC_ENABLE = 0x40;
    static final int B_ALARM_ENABLE = 0x20;
    static final int B_UPDATE_ENDED_ENABLE = 0x10;
    static final int B_BINARY = 0x04;
    static final int B_24_HOUR = 0x02;
    static final int C_IRQ = 0x80;
    static final int C_PERIODIC = 0x40;
    static final int C_ALARM = 0x20;
    static final int C_UPDATE_ENDED = 0x10;
    static final int C_FLAGS = C_PERIODIC | C_ALARM | C_UPDATE_ENDED;
    static final int D_VALID_RAM_AND_TIME = 0x80;
    static final int ALARM_DONT_CARE = 0xC0;
    static final int NMI_DISABLE = 0x80;
    /** UIP rises 244 us (8 ticks of 32.768 kHz) before each update (MC146818A, Table 6). */
    static final int UPDATE_IN_PROGRESS_TICKS = 8;
    /** What a PC BIOS leaves: 32.768 kHz divider, 1024 Hz periodic rate; 24-hour BCD. */
    static final int RESET_REGISTER_A = 0x26;
    static final int RESET_REGISTER_B = 0x02;

    private static final long NANOS_PER_SECOND = Oscillator.NANOS_PER_SECOND;
    private static final long FIRST_UPDATE_AFTER_DIVIDER_RESET = NANOS_PER_SECOND / 2;
    private static final int TICKS_PER_SECOND = 32_768;
    private static final int BASE_MEMORY_MAX_KIB = 640;
    private static final long MIB = 1 << 20;

    /**
     * {@code ram} is all 128 bytes (the time registers' slots unused); the calendar is the {@code base*} fields
     * plus the updates after {@code baseUpdate}.
     */
    public record State(byte[] ram, int index, boolean nmiMasked, long dividerOriginNanos, int baseYear,
                        int baseMonth, int baseDay, int baseHour, int baseMinute, int baseSecond, int baseDayOfWeek,
                        long baseUpdate, int flags, long evaluatedUntilNanos, boolean irqLevel) {
    }

    private final IrqLine irq;
    private final VirtualClock clock;
    private final byte[] ram = new byte[128];
    private int index;
    private boolean nmiMasked;
    private long dividerOriginNanos;
    private int baseYear;
    private int baseMonth;
    private int baseDay;
    private int baseHour;
    private int baseMinute;
    private int baseSecond;
    private int baseDayOfWeek;
    private long baseUpdate;
    private int flags;
    private long evaluatedUntilNanos;
    private boolean irqLevel;
    private long nextEventNanos = NO_EVENT;

    // The current calendar, materialized by loadCurrentTime.
    private int year;
    private int month;
    private int day;
    private int hour;
    private int minute;
    private int second;
    private int dayOfWeek;

    public Cmos(IrqLine irq, VirtualClock clock) {
        this(irq, clock, DEFAULT_START);
    }

    /** @param start the local date and time the clock shows at virtual time 0 */
    public Cmos(IrqLine irq, VirtualClock clock, LocalDateTime start) {
        this.irq = irq;
        this.clock = clock;
        ram[REGISTER_A] = RESET_REGISTER_A;
        ram[REGISTER_B] = RESET_REGISTER_B;
        baseYear = start.getYear();
        baseMonth = start.getMonthValue();
        baseDay = start.getDayOfMonth();
        baseHour = start.getHour();
        baseMinute = start.getMinute();
        baseSecond = start.getSecond();
        baseDayOfWeek = start.getDayOfWeek().getValue() % 7 + 1;
        baseUpdate = updatesBy(clock.nanos());
        evaluatedUntilNanos = clock.nanos();
        reschedule();
    }

    // ---- firmware-facing setters

    /**
     * Writes the PC/AT memory-size bytes for {@code ramBytes} of RAM: base memory in KiB (0x15-0x16, at most 640),
     * extended memory above 1 MiB in KiB (0x17-0x18 and 0x30-0x31, at most 0xFFFF), memory above 16 MiB in 64 KiB
     * units (0x34-0x35, at most 0xFFFF), and the checksum over 0x10-0x2D.
     */
    public void setMemorySize(long ramBytes) {
        long baseKib = Math.min(ramBytes / 1024, BASE_MEMORY_MAX_KIB);
        long extendedKib = Math.clamp((ramBytes - MIB) / 1024, 0, 0xFFFF);
        long above16M = Math.clamp((ramBytes - 16 * MIB) / 0x1_0000, 0, 0xFFFF);
        putWord(BASE_MEMORY_KIB, (int) baseKib);
        putWord(EXTENDED_MEMORY_KIB, (int) extendedKib);
        putWord(POST_EXTENDED_MEMORY_KIB, (int) extendedKib);
        putWord(MEMORY_ABOVE_16M_64KIB, (int) above16M);
        updateChecksum();
    }

    /** The equipment byte (0x14): floppies, display, coprocessor. */
    public void setEquipment(int equipment) {
        ram[EQUIPMENT] = (byte) equipment;
        updateChecksum();
    }

    /** Any register as the guest would write it, for firmware set-up (boot order bytes and the like). */
    public void setRegister(int register, int value) {
        writeRegister(register & 0x7F, value & 0xFF);
    }

    public int register(int register) {
        return readRegister(register & 0x7F);
    }

    /** Bit 7 of the last index write: the chipset's NMI mask, which the machine applies to NMI sources. */
    public boolean nmiMasked() {
        return nmiMasked;
    }

    private void putWord(int at, int value) {
        ram[at] = (byte) value;
        ram[at + 1] = (byte) (value >>> 8);
    }

    // IBM PC/AT Technical Reference: a 16-bit sum of bytes 0x10-0x2D, high byte first.
    private void updateChecksum() {
        int sum = 0;
        for (int i = 0x10; i <= 0x2D; i++) {
            sum += ram[i] & 0xFF;
        }
        ram[CHECKSUM] = (byte) (sum >>> 8);
        ram[CHECKSUM + 1] = (byte) sum;
    }

    // ---- ports

    @Override
    public int readByte(int offset) {
        return switch (offset) {
            case 0 -> 0xFF; // the index port is write-only
            case 1 -> readRegister(index);
            default -> 0xFF;
        };
    }

    @Override
    public void writeByte(int offset, int value) {
        switch (offset) {
            case 0 -> {
                index = value & 0x7F;
                nmiMasked = (value & NMI_DISABLE) != 0;
            }
            case 1 -> writeRegister(index, value);
            default -> { }
        }
    }

    private int readRegister(int register) {
        long now = clock.nanos();
        switch (register) {
            case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> {
                loadCurrentTime(now);
                return encodedTimeField(register);
            }
            case REGISTER_A -> {
                return ram[REGISTER_A] & 0x7F | (updateInProgress(now) ? A_UPDATE_IN_PROGRESS : 0);
            }
            case REGISTER_C -> {
                evaluate(now);
                int value = flags | (interruptRequested() ? C_IRQ : 0);
                flags = 0;
                updateIrq();
                reschedule();
                return value;
            }
            case REGISTER_D -> {
                return D_VALID_RAM_AND_TIME;
            }
            default -> {
                return ram[register] & 0xFF;
            }
        }
    }

    private void writeRegister(int register, int value) {
        long now = clock.nanos();
        switch (register) {
            case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> {
                evaluate(now);
                setTimeField(register, value, now);
            }
            case REGISTER_A -> writeRegisterA(value, now);
            case REGISTER_B -> writeRegisterB(value, now);
            case REGISTER_C, REGISTER_D -> { } // read-only
            default -> ram[register] = (byte) value;
        }
        reschedule();
    }

    // MC146818A, "Register A": DV2-DV0 select or reset the divider; leaving reset, the first update is 500 ms later.
    private void writeRegisterA(int value, long now) {
        evaluate(now);
        boolean wasRunning = dividerRunning();
        rebase(now);
        ram[REGISTER_A] = (byte) (value & 0x7F);
        if (!wasRunning && dividerRunning()) {
            dividerOriginNanos = now + FIRST_UPDATE_AFTER_DIVIDER_RESET - NANOS_PER_SECOND;
            baseUpdate = updatesBy(now);
        }
    }

    // MC146818A, "Register B": SET=1 stops updates (and clears UIP and UIE); on SET=0 the held time runs on.
    private void writeRegisterB(int value, long now) {
        evaluate(now);
        rebase(now);
        ram[REGISTER_B] = (byte) ((value & B_SET) != 0 ? value & ~B_UPDATE_ENDED_ENABLE : value);
        updateIrq();
    }

    // ---- the calendar

    private boolean dividerRunning() {
        return (ram[REGISTER_A] & A_DIVIDER) == A_DIVIDER_32768_HZ;
    }

    private boolean updatesRunning() {
        return dividerRunning() && (ram[REGISTER_B] & B_SET) == 0;
    }

    /** How many one-second updates the divider chain has made by {@code nanos}. */
    private long updatesBy(long nanos) {
        return Math.floorDiv(nanos - dividerOriginNanos, NANOS_PER_SECOND);
    }

    private long dividerTicks(long nanos) {
        return TIME_BASE.ticksAt(nanos - dividerOriginNanos);
    }

    private boolean updateInProgress(long now) {
        return updatesRunning()
                && Math.floorMod(dividerTicks(now), TICKS_PER_SECOND) >= TICKS_PER_SECOND - UPDATE_IN_PROGRESS_TICKS;
    }

    private long baseEpochSecond() {
        return CivilCalendar.daysFromCivil(baseYear, baseMonth, baseDay) * CivilCalendar.SECONDS_PER_DAY
                + baseHour * 3600L + baseMinute * 60L + baseSecond;
    }

    private long updatesSinceBase(long now) {
        return updatesRunning() ? Math.max(0, updatesBy(now) - baseUpdate) : 0;
    }

    /** Materializes the calendar at {@code now}; fields set since the last update are returned as written. */
    private void loadCurrentTime(long now) {
        long elapsed = updatesSinceBase(now);
        if (elapsed == 0) {
            year = baseYear;
            month = baseMonth;
            day = baseDay;
            hour = baseHour;
            minute = baseMinute;
            second = baseSecond;
            dayOfWeek = baseDayOfWeek;
            return;
        }
        long baseDays = CivilCalendar.daysFromCivil(baseYear, baseMonth, baseDay);
        long epochSecond = baseEpochSecond() + elapsed;
        long days = Math.floorDiv(epochSecond, CivilCalendar.SECONDS_PER_DAY);
        int secondOfDay = Math.floorMod(epochSecond, CivilCalendar.SECONDS_PER_DAY);
        long date = CivilCalendar.civilFromDays(days);
        year = CivilCalendar.year(date);
        month = CivilCalendar.month(date);
        day = CivilCalendar.day(date);
        hour = secondOfDay / 3600;
        minute = secondOfDay / 60 % 60;
        second = secondOfDay % 60;
        dayOfWeek = Math.floorMod(baseDayOfWeek - 1 + days - baseDays, 7) + 1;
    }

    /** Makes the calendar at {@code now} the new base, counting updates from now on. */
    private void rebase(long now) {
        loadCurrentTime(now);
        storeBase(now);
    }

    private void storeBase(long now) {
        baseYear = year;
        baseMonth = month;
        baseDay = day;
        baseHour = hour;
        baseMinute = minute;
        baseSecond = second;
        baseDayOfWeek = dayOfWeek;
        baseUpdate = updatesBy(now);
    }

    private int encodedTimeField(int register) {
        return switch (register) {
            case SECONDS -> encode(second);
            case MINUTES -> encode(minute);
            case HOURS -> encodeHours(hour);
            case DAY_OF_WEEK -> encode(dayOfWeek);
            case DAY_OF_MONTH -> encode(day);
            case MONTH -> encode(month);
            case YEAR -> encode(Math.floorMod(year, 100));
            default -> encode(Math.floorMod(year / 100, 100));
        };
    }

    // Out-of-range values are clamped to the field's range; a day past the month's end rolls over on the next update.
    private void setTimeField(int register, int value, long now) {
        loadCurrentTime(now);
        switch (register) {
            case SECONDS -> second = Math.clamp(decode(value), 0, 59);
            case MINUTES -> minute = Math.clamp(decode(value), 0, 59);
            case HOURS -> hour = decodeHours(value);
            case DAY_OF_WEEK -> dayOfWeek = Math.clamp(decode(value), 1, 7);
            case DAY_OF_MONTH -> day = Math.clamp(decode(value), 1, 31);
            case MONTH -> month = Math.clamp(decode(value), 1, 12);
            case YEAR -> year = year / 100 * 100 + Math.clamp(decode(value), 0, 99);
            default -> year = Math.clamp(decode(value), 0, 99) * 100 + Math.floorMod(year, 100);
        }
        storeBase(now);
    }

    private boolean binaryMode() {
        return (ram[REGISTER_B] & B_BINARY) != 0;
    }

    private int encode(int value) {
        return binaryMode() ? value : Bcd.encode(value);
    }

    private int decode(int raw) {
        return binaryMode() ? raw : Bcd.decode(raw);
    }

    // 12-hour mode: 1-12 with bit 7 set for PM (MC146818A, Table 3).
    private int encodeHours(int hours24) {
        if ((ram[REGISTER_B] & B_24_HOUR) != 0) {
            return encode(hours24);
        }
        int hours12 = hours24 % 12 == 0 ? 12 : hours24 % 12;
        return encode(hours12) | (hours24 >= 12 ? 0x80 : 0);
    }

    private int decodeHours(int raw) {
        if ((ram[REGISTER_B] & B_24_HOUR) != 0) {
            return Math.clamp(decode(raw), 0, 23);
        }
        int hours12 = Math.clamp(decode(raw & 0x7F), 1, 12);
        return hours12 % 12 + ((raw & 0x80) != 0 ? 12 : 0);
    }

    // ---- interrupts (MC146818A, "Interrupts" and "Register C")

    /** Sets PF, UF and AF for every divider event in (evaluatedUntil, now]. */
    private void evaluate(long now) {
        if (now <= evaluatedUntilNanos) {
            return;
        }
        long from = evaluatedUntilNanos;
        evaluatedUntilNanos = now;
        if (!dividerRunning()) {
            return;
        }
        int period = periodicTicks();
        if (period != 0 && Math.floorDiv(dividerTicks(now), period) > Math.floorDiv(dividerTicks(from), period)) {
            flags |= C_PERIODIC;
        }
        if (updatesRunning()) {
            long firstUpdate = updatesBy(from) + 1;
            long lastUpdate = updatesBy(now);
            if (lastUpdate >= firstUpdate) {
                flags |= C_UPDATE_ENDED;
                if (alarmMatchesAnUpdate(firstUpdate, lastUpdate)) {
                    flags |= C_ALARM;
                }
            }
        }
        updateIrq();
    }

    /** Whether the alarm bytes match the time after any update in [first, last]; a day covers every time. */
    private boolean alarmMatchesAnUpdate(long firstUpdate, long lastUpdate) {
        long last = Math.min(lastUpdate, firstUpdate + CivilCalendar.SECONDS_PER_DAY - 1);
        long baseSecondOfDay = Math.floorMod(baseEpochSecond(), CivilCalendar.SECONDS_PER_DAY);
        for (long update = firstUpdate; update <= last; update++) {
            int secondOfDay = Math.floorMod(baseSecondOfDay + update - baseUpdate, CivilCalendar.SECONDS_PER_DAY);
            if (alarmMatches(SECONDS_ALARM, encode(secondOfDay % 60))
                    && alarmMatches(MINUTES_ALARM, encode(secondOfDay / 60 % 60))
                    && alarmMatches(HOURS_ALARM, encodeHours(secondOfDay / 3600))) {
                return true;
            }
        }
        return false;
    }

    private boolean alarmMatches(int alarmRegister, int encodedTime) {
        int alarm = ram[alarmRegister] & 0xFF;
        return alarm >= ALARM_DONT_CARE || alarm == encodedTime;
    }

    /** Periodic rate in 32.768 kHz ticks: RS 1 and 2 alias 8 and 9; RS n is 2^(n-1) ticks (MC146818A, Table 5). */
    private int periodicTicks() {
        int rate = ram[REGISTER_A] & A_RATE;
        if (rate == 0) {
            return 0;
        }
        return 1 << (rate <= 2 ? rate + 6 : rate - 1);
    }

    /** IRQF = PF.PIE + AF.AIE + UF.UIE; the flags sit at the same bit positions as their enables. */
    private boolean interruptRequested() {
        return (flags & ram[REGISTER_B] & C_FLAGS) != 0;
    }

    private void updateIrq() {
        boolean level = interruptRequested();
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    @Override
    public long nextEventNanos() {
        return nextEventNanos;
    }

    @Override
    public void advanceTo(long nowNanos) {
        evaluate(nowNanos);
        reschedule();
    }

    /** The next instant an enabled flag could be set while IRQ8 is not already asserted. */
    private void reschedule() {
        long next = NO_EVENT;
        int enables = ram[REGISTER_B];
        if (!irqLevel && dividerRunning()) {
            int period = periodicTicks();
            if ((enables & B_PERIODIC_ENABLE) != 0 && period != 0) {
                long nextTick = (Math.floorDiv(dividerTicks(evaluatedUntilNanos), period) + 1) * period;
                next = dividerOriginNanos + TIME_BASE.nanosAt(nextTick);
            }
            if ((enables & (B_UPDATE_ENDED_ENABLE | B_ALARM_ENABLE)) != 0 && updatesRunning()) {
                long nextUpdate = dividerOriginNanos + (updatesBy(evaluatedUntilNanos) + 1) * NANOS_PER_SECOND;
                next = Math.min(next, nextUpdate);
            }
        }
        nextEventNanos = next;
    }

    // ---- state

    public State state() {
        return new State(ram.clone(), index, nmiMasked, dividerOriginNanos, baseYear, baseMonth, baseDay, baseHour,
                baseMinute, baseSecond, baseDayOfWeek, baseUpdate, flags, evaluatedUntilNanos, irqLevel);
    }

    public void restore(State s) {
        System.arraycopy(s.ram(), 0, ram, 0, ram.length);
        index = s.index();
        nmiMasked = s.nmiMasked();
        dividerOriginNanos = s.dividerOriginNanos();
        baseYear = s.baseYear();
        baseMonth = s.baseMonth();
        baseDay = s.baseDay();
        baseHour = s.baseHour();
        baseMinute = s.baseMinute();
        baseSecond = s.baseSecond();
        baseDayOfWeek = s.baseDayOfWeek();
        baseUpdate = s.baseUpdate();
        flags = s.flags();
        evaluatedUntilNanos = s.evaluatedUntilNanos();
        irqLevel = s.irqLevel();
        irq.set(irqLevel);
        reschedule();
    }
}

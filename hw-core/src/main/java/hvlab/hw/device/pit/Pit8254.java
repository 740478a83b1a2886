package hvlab.hw.device.pit;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.ByteIoRegion;
import hvlab.hw.device.GuestErrorLog;
import hvlab.hw.device.Oscillator;
import hvlab.hw.irq.IrqLine;

/**
 * The Intel 8254 programmable interval timer of a PC. Window of four ports: counters 0-2 at offsets 0-2, the
 * control word register at 3 (ports 0x40-0x43). All counters run from the 1.193182 MHz input derived from virtual
 * time; a count or OUT level is computed from the tick number when asked, so reads are exact at any instant.
 *
 * <p>OUT0 drives IRQ0. Each rising edge of OUT0 is an event ({@link Clocked}): {@link #advanceTo} raises at most
 * one edge per call however many periods have passed (the PIC latches one edge anyway), so a one-tick period costs
 * O(1) per call. Gates 0 and 1 are tied high on a PC; gate 2 and OUT2 belong to {@link SystemControlPortB}.
 * At power-up every counter is idle as after a mode 3 control word (OUT high, no count), and the IRQ0 wire is taken
 * to be high with it: a machine without a BIOS leaves programming to the guest.
 */
public final class Pit8254 implements ByteIoRegion, Clocked {
    public static final int PORT = 0x40;
    public static final int WINDOW = 4;
    public static final long INPUT_HZ = 1_193_182L;
    public static final Oscillator INPUT_CLOCK = new Oscillator(INPUT_HZ);

    private static final int CONTROL_WORD = 3;
    private static final int READ_BACK = 3;
    private static final int LATCH = 0;

    public record CounterState(int modeBits, boolean bcd, int access, int countRegister, boolean countWritten,
                               int lsbPending, boolean writeMsbNext, boolean readMsbNext, boolean countLatched,
                               int latchedCount, boolean statusLatched, int latchedStatus, boolean gate,
                               boolean counting, long loadTick, int startCount, int startPhase, int heldCount,
                               boolean terminalPassed, long reloadTick, int reloadCount, int reloadPhase,
                               long crLoadTick) {
    }

    /** {@code edgesSignalledToTick}: OUT0's rising edges up to this tick have reached IRQ0. */
    public record State(CounterState counter0, CounterState counter1, CounterState counter2, boolean irq0Level,
                        long edgesSignalledToTick) {
    }

    private final IrqLine irq0;
    private final VirtualClock clock;
    private final Counter[] counters = {new Counter(), new Counter(), new Counter()};
    private final GuestErrorLog errors = new GuestErrorLog(Pit8254.class);
    private boolean irq0Level = true;
    private long edgesSignalledToTick;
    private long nextEventNanos = NO_EVENT;

    public Pit8254(IrqLine irq0, VirtualClock clock) {
        this.irq0 = irq0;
        this.clock = clock;
        this.edgesSignalledToTick = currentTick();
    }

    @Override
    public int readByte(int offset) {
        if (offset >= CONTROL_WORD) {
            return 0xFF; // the control word register cannot be read (8254 datasheet, Table 1)
        }
        return counters[offset].read(signalOut0Now());
    }

    @Override
    public void writeByte(int offset, int value) {
        long tick = signalOut0Now();
        if (offset < CONTROL_WORD) {
            counters[offset].writeCount(tick, value & 0xFF);
        } else if (offset == CONTROL_WORD) {
            controlWord(tick, value & 0xFF);
        } else {
            errors.report("write outside the 8254's four ports, offset", offset);
        }
        signalOut0(tick);
    }

    private void controlWord(long tick, int value) {
        int select = value >>> 6;
        if (select == READ_BACK) {
            readBack(tick, value);
            return;
        }
        int access = value >>> 4 & 3;
        if (access == LATCH) {
            counters[select].latchCount(tick);
        } else {
            counters[select].program(tick, access, value >>> 1 & 7, (value & 1) != 0);
        }
    }

    // 8254 datasheet, "Read-Back Command": bit 5 = !COUNT, bit 4 = !STATUS, bits 3-1 select counters 2-0.
    private void readBack(long tick, int value) {
        for (int n = 0; n < 3; n++) {
            if ((value & 2 << n) == 0) {
                continue;
            }
            if ((value & 0x20) == 0) {
                counters[n].latchCount(tick);
            }
            if ((value & 0x10) == 0) {
                counters[n].latchStatus(tick);
            }
        }
    }

    /** OUT of counter {@code n} now. */
    public boolean out(int n) {
        long tick = signalOut0Now();
        counters[n].catchUp(tick);
        return counters[n].outAt(tick);
    }

    /** Drives the GATE input of counter {@code n}. */
    public void setGate(int n, boolean high) {
        long tick = signalOut0Now();
        counters[n].setGate(tick, high);
        signalOut0(tick);
    }

    long currentTick() {
        return INPUT_CLOCK.ticksAt(clock.nanos());
    }

    @Override
    public long nextEventNanos() {
        return nextEventNanos;
    }

    @Override
    public void advanceTo(long nowNanos) {
        signalOut0(INPUT_CLOCK.ticksAt(nowNanos));
    }

    /**
     * Every access first lets OUT0's edges up to now reach IRQ0 under the programming that made them, since an
     * access may reprogram the counter or apply a pending reload; returns the current tick.
     */
    private long signalOut0Now() {
        long tick = currentTick();
        signalOut0(tick);
        return tick;
    }

    private void signalOut0(long tick) {
        Counter counter0 = counters[0];
        boolean rose = counter0.nextRisingEdgeAfter(edgesSignalledToTick) <= tick;
        edgesSignalledToTick = Math.max(edgesSignalledToTick, tick);
        counter0.catchUp(tick);
        boolean level = counter0.outAt(tick);
        if (rose) {
            if (irq0Level) {
                irq0.set(false);
            }
            irq0.set(true);
            irq0Level = true;
        }
        if (level != irq0Level) {
            irq0Level = level;
            irq0.set(level);
        }
        nextEventNanos = INPUT_CLOCK.nanosAt(counter0.nextRisingEdgeAfter(edgesSignalledToTick));
    }

    public State state() {
        return new State(counters[0].state(), counters[1].state(), counters[2].state(), irq0Level,
                edgesSignalledToTick);
    }

    public void restore(State state) {
        counters[0].restore(state.counter0());
        counters[1].restore(state.counter1());
        counters[2].restore(state.counter2());
        irq0Level = state.irq0Level();
        edgesSignalledToTick = state.edgesSignalledToTick();
        irq0.set(irq0Level);
        nextEventNanos = INPUT_CLOCK.nanosAt(counters[0].nextRisingEdgeAfter(edgesSignalledToTick));
    }
}

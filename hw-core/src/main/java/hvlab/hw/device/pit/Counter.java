package hvlab.hw.device.pit;

import hvlab.hw.device.Bcd;

/**
 * One 8254 counter: its control logic, count register (CR), output latch, and the counting element (CE) laid out on
 * the input clock's tick timeline. Nothing is stepped per tick: the CE value and OUT at any tick are computed from
 * where the current count was loaded ({@code loadTick}, {@code startCount}) and, for the periodic modes, the phase
 * within the cycle. Tick numbers are absolute ticks of the 1.193182 MHz input since virtual time 0.
 */
final class Counter {
    static final long NEVER = Long.MAX_VALUE;
    static final int ACCESS_LSB = 1;
    static final int ACCESS_MSB = 2;
    static final int ACCESS_WORD = 3;

    // Power-up: as after a mode 3 control word with no count yet, so OUT is high and idle.
    private int modeBits = 3;
    private int mode = 3;
    private boolean bcd;
    private int access = ACCESS_WORD;
    private int countRegister;          // CR as a binary count; 0 stands for the full modulus
    private boolean countWritten;       // CR holds a count written since the last control word
    private int lsbPending;
    private boolean writeMsbNext;
    private boolean readMsbNext;
    private boolean countLatched;
    private int latchedCount;
    private boolean statusLatched;
    private int latchedStatus;
    private boolean gate = true;
    private boolean counting;           // the CE decrements on every tick after loadTick
    private long loadTick = NEVER;      // tick at which the CE holds startCount (and, periodic, startPhase)
    private int startCount;
    private int startPhase;             // periodic modes: ticks into the cycle at loadTick
    private int heldCount;              // the CE while not counting, or before loadTick
    private boolean terminalPassed;     // one-shot modes: the CE reached zero since the count was loaded
    private long reloadTick = NEVER;    // periodic modes: a count written mid-cycle takes over here
    private int reloadCount;
    private int reloadPhase;
    private long crLoadTick = NEVER;    // the CR moves into the CE here; Null Count reads 1 until then

    // ---- programming

    /** A control word for this counter with RW != 00 (8254 datasheet, "Write Operations"). */
    void program(long tick, int accessBits, int modeField, boolean bcdCounting) {
        catchUp(tick);
        heldCount = countAt(tick);
        modeBits = modeField;
        mode = modeField >= 6 ? modeField - 4 : modeField;
        bcd = bcdCounting;
        access = accessBits;
        countWritten = false;
        counting = false;
        terminalPassed = false;
        loadTick = NEVER;
        reloadTick = NEVER;
        crLoadTick = NEVER;
        writeMsbNext = false;
        readMsbNext = false;
        countLatched = false;
        statusLatched = false;
    }

    void writeCount(long tick, int value) {
        catchUp(tick);
        switch (access) {
            case ACCESS_LSB -> loadCountRegister(tick, value);
            case ACCESS_MSB -> loadCountRegister(tick, value << 8);
            default -> {
                if (!writeMsbNext) {
                    lsbPending = value;
                    writeMsbNext = true;
                    if (mode == 0) {
                        // Mode 0: "writing the first byte disables counting; OUT is set low immediately".
                        freeze(tick);
                        terminalPassed = false;
                    }
                } else {
                    writeMsbNext = false;
                    loadCountRegister(tick, lsbPending | value << 8);
                }
            }
        }
    }

    private void loadCountRegister(long tick, int raw) {
        countRegister = bcd ? Bcd.decode(raw & 0xFFFF) % 10_000 : raw & 0xFFFF;
        countWritten = true;
        switch (mode) {
            case 0, 4 -> {
                loadTick = tick + 1;
                startCount = countRegister;
                terminalPassed = false;
                counting = gate;
                if (!gate) {
                    heldCount = countRegister;
                }
                crLoadTick = tick + 1;
            }
            case 2, 3 -> {
                if (counting && tick >= loadTick) {
                    // Modes 2 and 3: a new count does not disturb the current cycle (half-cycle in mode 3).
                    long cycleEnd = mode == 2 ? cycleStartAfter(tick) : halfCycleStartAfter(tick);
                    // Ending a high half-cycle, the new count starts with its low half.
                    boolean entersLowHalf = phaseAt(cycleEnd) != 0;
                    reloadPhase = entersLowHalf ? highTicks(distance(countRegister)) : 0;
                    reloadTick = cycleEnd;
                    reloadCount = countRegister;
                    crLoadTick = cycleEnd;
                } else {
                    loadTick = tick + 1;
                    startCount = countRegister;
                    startPhase = 0;
                    counting = gate;
                    crLoadTick = tick + 1;
                }
            }
            default -> crLoadTick = NEVER; // modes 1 and 5 load the CR on the next gate trigger
        }
    }

    /** Counter latch command: the first latch holds until read; later ones are ignored. */
    void latchCount(long tick) {
        catchUp(tick);
        if (!countLatched) {
            countLatched = true;
            latchedCount = readFormat(countAt(tick));
        }
    }

    /** Read-back status byte: OUT, Null Count, RW1 RW0, M2 M1 M0, BCD (8254 datasheet, "Read-Back Command"). */
    void latchStatus(long tick) {
        catchUp(tick);
        if (!statusLatched) {
            statusLatched = true;
            latchedStatus = (outAt(tick) ? 0x80 : 0) | (tick < crLoadTick ? 0x40 : 0)
                    | access << 4 | modeBits << 1 | (bcd ? 1 : 0);
        }
    }

    int read(long tick) {
        catchUp(tick);
        if (statusLatched) {
            statusLatched = false;
            return latchedStatus;
        }
        int value = countLatched ? latchedCount : readFormat(countAt(tick));
        switch (access) {
            case ACCESS_LSB -> {
                countLatched = false;
                return value & 0xFF;
            }
            case ACCESS_MSB -> {
                countLatched = false;
                return value >>> 8 & 0xFF;
            }
            default -> {
                if (!readMsbNext) {
                    readMsbNext = true;
                    return value & 0xFF;
                }
                readMsbNext = false;
                countLatched = false;
                return value >>> 8 & 0xFF;
            }
        }
    }

    // ---- gate (8254 datasheet, Table "Gate Pin Operations Summary")

    void setGate(long tick, boolean high) {
        catchUp(tick);
        if (high == gate) {
            return;
        }
        gate = high;
        switch (mode) {
            case 0, 4 -> {
                if (!high) {
                    freeze(tick);
                } else if (countWritten && !writeMsbNext && !counting) {
                    counting = true;
                    loadTick = tick;
                    startCount = heldCount;
                }
            }
            case 1, 5 -> {
                if (high && countWritten) {
                    restartFromCountRegister(tick);
                    terminalPassed = false;
                }
            }
            default -> {
                if (high) {
                    if (countWritten) {
                        restartFromCountRegister(tick);
                    }
                } else {
                    heldCount = countAt(tick);
                    counting = false;
                    reloadTick = NEVER;
                }
            }
        }
    }

    /** A trigger: the CR is loaded into the CE on the next clock pulse. */
    private void restartFromCountRegister(long tick) {
        counting = true;
        loadTick = tick + 1;
        startCount = countRegister;
        startPhase = 0;
        reloadTick = NEVER;
        if (crLoadTick > tick) {
            crLoadTick = tick + 1;
        }
    }

    private void freeze(long tick) {
        if (!counting) {
            return;
        }
        if (tick < loadTick) {
            heldCount = startCount;
        } else {
            heldCount = countAt(tick);
            terminalPassed |= tick >= loadTick + distance(startCount);
        }
        counting = false;
    }

    // ---- the timeline

    /** Applies a periodic reload whose tick has come. */
    void catchUp(long tick) {
        if (tick >= reloadTick) {
            loadTick = reloadTick;
            startCount = reloadCount;
            startPhase = reloadPhase;
            reloadTick = NEVER;
        }
    }

    int countAt(long tick) {
        if (!counting || tick < loadTick) {
            return heldCount;
        }
        long elapsed = tick - loadTick;
        return switch (mode) {
            case 2 -> Math.floorMod(period() - phaseAt(tick), modulus());
            case 3 -> {
                int n = period();
                int phase = phaseAt(tick);
                int high = highTicks(n);
                int stepsIntoHalf = phase < high ? phase : phase - high;
                // Odd counts load N-1 and count down by two (8254 datasheet, "Mode 3").
                yield Math.floorMod((n & ~1) - 2 * stepsIntoHalf, modulus());
            }
            default -> (int) Math.floorMod(startCount - elapsed, (long) modulus());
        };
    }

    boolean outAt(long tick) {
        boolean loaded = counting && tick >= loadTick;
        long terminal = loaded ? loadTick + distance(startCount) : NEVER;
        return switch (mode) {
            case 0 -> terminalPassed || loaded && tick >= terminal;
            case 1 -> !(loaded && tick < terminal);
            case 4 -> !(loaded && !terminalPassed && tick == terminal);
            case 5 -> !(loaded && tick == terminal);
            case 2 -> !(loaded && period() > 1 && phaseAt(tick) == period() - 1);
            default -> !loaded || phaseAt(tick) < highTicks(period());
        };
    }

    /** The first tick after {@code tick} at which OUT goes from low to high, or {@link #NEVER}. */
    long nextRisingEdgeAfter(long tick) {
        if (!counting) {
            return NEVER;
        }
        long terminal = loadTick + distance(startCount);
        long edge = switch (mode) {
            case 0 -> terminalPassed ? NEVER : terminal;
            case 1 -> terminal;
            case 4 -> terminalPassed ? NEVER : terminal + 1;
            case 5 -> terminal + 1;
            default -> {
                long cycleEnd = cycleStartAfter(tick);
                if (cycleEnd > reloadTick) {
                    int n = distance(reloadCount);
                    yield reloadTick + (n - reloadPhase);
                }
                yield cycleEnd;
            }
        };
        return edge > tick ? edge : NEVER;
    }

    // ---- periodic-mode arithmetic

    private int period() {
        return distance(startCount);
    }

    private int phaseAt(long tick) {
        return (int) ((tick - loadTick + startPhase) % period());
    }

    /** Mode 3: OUT is high for the first (N+1)/2 ticks of each cycle. */
    private static int highTicks(int n) {
        return (n + 1) / 2;
    }

    /** The first cycle start (OUT rising) after {@code tick}; the load tick itself starts no new cycle. */
    private long cycleStartAfter(long tick) {
        long from = Math.max(tick, loadTick);
        int n = period();
        return from + (n - (from - loadTick + startPhase) % n);
    }

    private long halfCycleStartAfter(long tick) {
        long from = Math.max(tick, loadTick);
        int n = period();
        int phase = (int) ((from - loadTick + startPhase) % n);
        int high = highTicks(n);
        return phase < high ? from + (high - phase) : from + (n - phase);
    }

    private int distance(int count) {
        return count == 0 ? modulus() : count;
    }

    private int modulus() {
        return bcd ? 10_000 : 0x1_0000;
    }

    private int readFormat(int count) {
        int value = Math.floorMod(count, modulus());
        return bcd ? Bcd.encode(value) : value;
    }

    // ---- state

    Pit8254.CounterState state() {
        return new Pit8254.CounterState(modeBits, bcd, access, countRegister, countWritten, lsbPending, writeMsbNext,
                readMsbNext, countLatched, latchedCount, statusLatched, latchedStatus, gate, counting, loadTick,
                startCount, startPhase, heldCount, terminalPassed, reloadTick, reloadCount, reloadPhase, crLoadTick);
    }

    void restore(Pit8254.CounterState s) {
        modeBits = s.modeBits();
        mode = modeBits >= 6 ? modeBits - 4 : modeBits;
        bcd = s.bcd();
        access = s.access();
        countRegister = s.countRegister();
        countWritten = s.countWritten();
        lsbPending = s.lsbPending();
        writeMsbNext = s.writeMsbNext();
        readMsbNext = s.readMsbNext();
        countLatched = s.countLatched();
        latchedCount = s.latchedCount();
        statusLatched = s.statusLatched();
        latchedStatus = s.latchedStatus();
        gate = s.gate();
        counting = s.counting();
        loadTick = s.loadTick();
        startCount = s.startCount();
        startPhase = s.startPhase();
        heldCount = s.heldCount();
        terminalPassed = s.terminalPassed();
        reloadTick = s.reloadTick();
        reloadCount = s.reloadCount();
        reloadPhase = s.reloadPhase();
        crLoadTick = s.crLoadTick();
    }
}

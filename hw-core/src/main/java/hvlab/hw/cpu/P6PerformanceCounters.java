package hvlab.hw.cpu;

/**
 * The P6 family's two performance-monitoring counters (SDM Vol. 3B, "Performance Monitoring for P6 Family
 * Processors": PerfEvtSel0/1 at MSRs 186H/187H, PerfCtr0/1 at C1H/C2H, 40 bits wide; RDPMC reads them).
 *
 * <p>The model retires one instruction per clock (its time base), so two events have exact counts: 0C0H
 * INST_RETIRED and 079H CPU_CLK_UNHALTED both advance by one per retired instruction, and stand still while the CPU
 * is halted. Any other event is accepted and its counter keeps the value software wrote. Counting is lazy: a
 * counter holds its value at the last settling and the retired count since then, so the instruction loop does
 * nothing for it; settling happens at reads, writes and changes of CPL (for the USR and OS flags). Overflow does
 * not raise the local APIC's performance-counter interrupt (the INT flag is stored, not acted on).
 */
final class P6PerformanceCounters {
    static final int PERF_CTR0 = 0xC1, PERF_CTR1 = 0xC2, PERF_EVT_SEL0 = 0x186, PERF_EVT_SEL1 = 0x187;
    static final int COUNTERS = 2;
    static final long COUNTER_MASK = (1L << 40) - 1;
    // PerfEvtSel fields (SDM Vol. 3B, Figure "PerfEvtSel0 and PerfEvtSel1 MSRs")
    static final int EVENT_MASK = 0xFF, USR = 1 << 16, OS = 1 << 17, EDGE = 1 << 18, INV = 1 << 23, EN = 1 << 22;
    static final int CMASK_SHIFT = 24;
    static final int INST_RETIRED = 0xC0, CPU_CLK_UNHALTED = 0x79;

    private final long[] settled = new long[COUNTERS];
    private final int[] eventSelect = new int[COUNTERS];
    /** The retired count at the last settling. */
    private long settledAt;
    /** Which counters advance at CPL 0 and at CPL 1-3, bit per counter: the cold paths look here only. */
    private int countingAtCpl0, countingAboveCpl0;

    /** True if some counter advances at some CPL: only then does a CPL change need to settle the counts. */
    boolean counting() {
        return (countingAtCpl0 | countingAboveCpl0) != 0;
    }

    /** Adds the instructions retired since the last settling, at {@code cpl}, to the counters counting there. */
    void settle(long retired, int cpl) {
        long elapsed = retired - settledAt;
        settledAt = retired;
        int mask = cpl == 0 ? countingAtCpl0 : cpl > 0 ? countingAboveCpl0 : 0;
        for (int i = 0; i < COUNTERS; i++) {
            if ((mask & 1 << i) != 0) {
                settled[i] = settled[i] + elapsed & COUNTER_MASK;
            }
        }
    }

    /** After a state restore: the counts go on from this retired count. */
    void rebase(long retired) {
        settledAt = retired;
    }

    /** The counter's 40-bit value before the instruction at {@code retired}. */
    long counter(int index, long retired, int cpl) {
        settle(retired, cpl);
        return settled[index];
    }

    long eventSelect(int index) {
        return eventSelect[index] & 0xFFFF_FFFFL;
    }

    /**
     * WRMSR to PerfCtr0/1: the low 32 bits are written and bits 39:32 copy bit 31 (the SDM's "PerfCtr0 and PerfCtr1
     * MSRs"). Counting goes on after the WRMSR, which is not counted itself.
     */
    void writeCounter(int index, long value, long retired, int cpl) {
        settle(retired + 1, cpl); // the WRMSR counts in the other counter
        settled[index] = (long) (int) value & COUNTER_MASK;
    }

    /**
     * WRMSR to PerfEvtSel0/1. Counting starts after the WRMSR that sets PerfEvtSel0's EN flag (the SDM's "Starting
     * and Stopping the Performance-Monitoring Counters"): the WRMSR itself counts as the counters were set before it.
     */
    void writeEventSelect(int index, long value, long retired, int cpl) {
        settle(retired + 1, cpl);
        eventSelect[index] = (int) value;
        countingAtCpl0 = 0;
        countingAboveCpl0 = 0;
        if ((eventSelect[0] & EN) == 0) {
            return; // EN, only in PerfEvtSel0, enables both counters
        }
        for (int i = 0; i < COUNTERS; i++) {
            int select = eventSelect[i];
            if (countsOnePerRetiredInstruction(select)) {
                countingAtCpl0 |= (select & OS) != 0 ? 1 << i : 0;
                countingAboveCpl0 |= (select & USR) != 0 ? 1 << i : 0;
            }
        }
    }

    /**
     * Whether the counter adds one per clock for the event: instructions retired or unhalted clocks, one of each per
     * clock here. A counter mask compares with that one event per clock: CMASK 0 or 1 counts every clock, a larger one
     * none, and INV turns that over. The edge flag counts a change of the compared condition, which never changes.
     */
    private static boolean countsOnePerRetiredInstruction(int select) {
        int event = select & EVENT_MASK;
        if (event != INST_RETIRED && event != CPU_CLK_UNHALTED || (select & EDGE) != 0) {
            return false;
        }
        int cmask = select >>> CMASK_SHIFT;
        return cmask == 0 || (cmask <= 1) != ((select & INV) != 0);
    }
}

package hvlab.cli.compare;

import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;
import hvlab.hw.stats.Counters.CounterValue;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ComparisonTest {
    private static final List<String> RESULT = List.of("result workload=syscall iterations=101 total_cycles=_"
            + " per_op_cycles=_");

    /** Boot and set-up are in both runs and cancel; what is left is divided by the extra iterations. */
    @Test
    void perOperationFiguresAreTheRunMinusTheBaselineOverTheExtraIterations() {
        GuestRun full = new GuestRun.Ended(101, RESULT, List.of(
                new CounterValue(Counters.INSTRUCTIONS, "retired", 5_000 + 101 * 50),
                new CounterValue(Counters.INTERRUPTS, "software 0x80", 2 + 101),
                new CounterValue(Counters.IO, "port accesses", 300)));
        GuestRun baseline = new GuestRun.Ended(1, RESULT, List.of(
                new CounterValue(Counters.INSTRUCTIONS, "retired", 5_000 + 50),
                new CounterValue(Counters.INTERRUPTS, "software 0x80", 2 + 1),
                new CounterValue(Counters.IO, "port accesses", 300)));
        Cell.Measured cell = (Cell.Measured) Comparison.difference("native", "lab:syscall", full, baseline);
        assertThat(cell.cyclesPerOp()).isEqualTo(50 * CostModel.CYCLES_PER_INSTRUCTION
                + CostModel.NATIVE_SOFTWARE_INTERRUPT);
        assertThat(cell.instructionsPerOp()).isEqualTo(50);
        assertThat(cell.mechanisms()).containsExactly(new Cell.Mechanism(Counters.INTERRUPTS, "software 0x80", 1));
        assertThat(cell.iterations()).isEqualTo(101);
    }

    @Test
    void theRatioIsTheCostOverNativesAndDifferentResultLinesAreSeen() {
        Cell.Measured nativeCell = new Cell.Measured("native", "lab:in", 10, 3_209, 3, List.of(), RESULT);
        Cell.Measured vtx = new Cell.Measured("vtx", "lab:in", 10, 15_826, 3, List.of(), RESULT);
        Cell.Measured other = new Cell.Measured("vtx", "lab:in", 10, 15_826, 3, List.of(),
                List.of("result workload=syscall iterations=100 total_cycles=_ per_op_cycles=_"));
        assertThat(vtx.ratioTo(nativeCell)).isEqualTo(15_826.0 / 3_209);
        assertThat(vtx.sameResultAs(nativeCell)).isTrue();
        assertThat(other.sameResultAs(nativeCell)).isFalse();
    }

    @Test
    void aBaselineWithAsManyIterationsIsAFailureNotADivisionByZero() {
        GuestRun same = new GuestRun.Ended(1, RESULT, List.of());
        assertThat(Comparison.difference("vtx", "lab:syscall", same, same)).isInstanceOf(Cell.Failed.class);
    }

    /** kernel.c and pvkernel.c print_result: the guest says how many operations it did. */
    @Test
    void theIterationCountIsReadFromTheGuestsResultLine() {
        assertThat(GuestRun.iterations("lab: workload=callret\nresult workload=callret iterations=1000000"
                + " total_cycles=7 per_op_cycles=0\n")).hasValue(1_000_000);
        assertThat(GuestRun.iterations("lab: done status=pass\n")).isEmpty();
    }
}

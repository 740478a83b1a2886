package hvlab.hw.stats;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The cost model's prices, each from Adams and Agesen 2006, Figure 4 (../shared/reference/perf-anchors.md 1a). */
class CostModelTest {
    private static long cycles(String family, String key, long count) {
        return CostModel.cycles(new Counters.CounterValue(family, key, count));
    }

    @Test
    void nativeEventsCostWhatTheirNanobenchmarksMeasured() {
        assertThat(cycles(Counters.INTERRUPTS, "software 0x80", 1)).isEqualTo(242);
        assertThat(cycles(Counters.EXCEPTIONS, "#PF", 1)).isEqualTo(1_093);
        assertThat(cycles(Counters.EXCEPTIONS, "#DE", 1)).isEqualTo(889);
        assertThat(cycles(Counters.IO, "port accesses", 1)).isEqualTo(3_209);
    }

    /** `in` under first-generation VT-x is 15,826 cycles: one native IN (3,209) plus one exit round trip. */
    @Test
    void aVtxExitCostsTheDifferenceBetweenTheHardwareVmmsInAndNativesIn() {
        long exitThenIn = cycles(Counters.EXITS, CostModel.VMX_EXIT_PREFIX + "I/O instruction", 1)
                + cycles(Counters.IO, "port accesses", 1);
        assertThat(exitThenIn).isEqualTo(15_826);
    }

    @Test
    void softwareTrapsIntoAHypervisorArePricedAsTheExceptionsTheCpuCounted() {
        assertThat(cycles(Counters.EXITS, "#GP: privileged instruction or IRET", 100)).isZero();
        assertThat(CostModel.totalCycles(List.of(new Counters.CounterValue(Counters.INSTRUCTIONS, "retired", 10),
                new Counters.CounterValue(Counters.EXCEPTIONS, "#GP", 1)))).isEqualTo(10 + 889);
    }

    /**
     * Barham et al. 2003, Table 5: a page fault is 1.42 us native and 2.73 us under Xen, two transitions through
     * Xen more. A PV page fault (the #PF to Xen, its bounce, the guest's update_va_mapping hypercall) costs the
     * native fault times 2.73 / 1.42, to the cycle's rounding.
     */
    @Test
    void aPvPageFaultCostsWhatBarhamEtAlMeasuredRelativeToNative() {
        long pv = cycles(Counters.EXCEPTIONS, "#PF", 1)
                + cycles(Counters.EXITS, CostModel.PV_BOUNCE_PREFIX + "#PF", 1)
                + cycles(Counters.INTERRUPTS, "software 0x82", 1)
                + cycles(Counters.HYPERCALLS, "update_va_mapping", 1);
        assertThat((double) pv / cycles(Counters.EXCEPTIONS, "#PF", 1)).isCloseTo(2.73 / 1.42,
                org.assertj.core.data.Offset.offset(0.002));
        assertThat(cycles(Counters.EXITS, CostModel.PV_EMULATION_PREFIX + "in", 1)).isEqualTo(504);
        assertThat(cycles(Counters.HYPERCALLS, "mmu_update", 3)).isEqualTo(3 * (504 - 242));
    }
}

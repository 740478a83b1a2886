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

    /**
     * A switch between domains is a native process switch's work (lmbench 2p/0K, 0.77 us on L-UP, Barham et al.
     * 2003, Table 4), on the scale where 1.42 us is the native page fault's 1,093 cycles: 593.
     */
    @Test
    void aDomainSwitchCostsANativeProcessSwitchOnTheModelsScale() {
        assertThat(cycles(Counters.WORLD_SWITCHES, CostModel.DOMAIN_SWITCH_KEY, 1)).isEqualTo(593);
        assertThat((double) cycles(Counters.WORLD_SWITCHES, CostModel.DOMAIN_SWITCH_KEY, 1)
                / cycles(Counters.EXCEPTIONS, "#PF", 1)).isCloseTo(0.77 / 1.42, org.assertj.core.data.Offset.offset(0.001));
        assertThat(cycles(Counters.WORLD_SWITCHES, "something else", 5)).isZero();
    }

    /** An upcall is Xen's exit to the guest through a bounce frame ([X32] entry.S create_bounce_frame): one transition. */
    @Test
    void anEventUpcallCostsOneTransitionThroughXen() {
        assertThat(cycles(Counters.EVENTS, CostModel.UPCALL_KEY, 2)).isEqualTo(2 * 504);
        assertThat(cycles(Counters.EVENTS, CostModel.UPCALL_KEY, 1))
                .isEqualTo(cycles(Counters.EXITS, CostModel.PV_BOUNCE_PREFIX + "#PF", 1));
        assertThat(cycles(Counters.EVENTS, "interdomain channel ops refused", 3)).isZero();
        assertThat(cycles("domain d1", "events delivered (upcalls)", 3)).isZero(); // counted once, in "events"
    }
}

package hvlab.example.trapemulate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The GDT copy's ring compression (descriptor format: SDM Vol. 3A 3.4.5, system types: Table 3-2). */
class RingCompressionTest {
    private static final long FLAT_RING0_CODE = 0x00CF9B000000FFFFL;

    private static int dpl(long descriptor) {
        return (int) (descriptor >>> 45) & 3;
    }

    private static long limitInBytes(long descriptor) {
        long raw = (descriptor >>> 32 & 0xF0000) | (descriptor & 0xFFFF);
        return (descriptor & (1L << 55)) != 0 ? raw << 12 | 0xFFF : raw;
    }

    @Test
    void ringZeroSegmentBecomesRingOneCutBelowTheMonitor() {
        long copy = ShadowDescriptorTables.compress(FLAT_RING0_CODE);
        assertThat(dpl(copy)).isEqualTo(1);
        assertThat(limitInBytes(copy)).isEqualTo((MonitorLayout.LINEAR_BASE & 0xFFFFFFFFL) - 1);
        assertThat(copy & 0xFF000FFFFFFF0000L).as("base and type unchanged")
                .isEqualTo(FLAT_RING0_CODE & 0xFF000FFFFFFF0000L);
    }

    @Test
    void ringThreeSegmentKeepsItsDplAndIsCutToo() {
        long userData = 0x00CFF3000000FFFFL;
        long copy = ShadowDescriptorTables.compress(userData);
        assertThat(dpl(copy)).isEqualTo(3);
        assertThat(limitInBytes(copy)).isEqualTo((MonitorLayout.LINEAR_BASE & 0xFFFFFFFFL) - 1);
    }

    @Test
    void smallSegmentBelowTheMonitorKeepsItsLimit() {
        long byteGranular = ShadowDescriptorTables.segmentDescriptor(0x1000, 0x1234, 0x4093);
        assertThat(limitInBytes(ShadowDescriptorTables.compress(byteGranular))).isEqualTo(0x1234);
    }

    @Test
    void taskStateSegmentsAndTaskGatesAreNotPresentSoTaskSwitchesTrap() {
        long availableTss = ShadowDescriptorTables.segmentDescriptor(0x5000, 0x67, 0x0089);
        long taskGate = 0x0000850000500000L;
        assertThat(ShadowDescriptorTables.compress(availableTss) & (1L << 47)).isZero();
        assertThat(ShadowDescriptorTables.compress(taskGate) & (1L << 47)).isZero();
    }

    @Test
    void callGateIsCopiedAsIs() {
        long callGate = 0x0010EC0100081000L; // 32-bit call gate, DPL 3, one parameter, to 0008:00101000
        assertThat(ShadowDescriptorTables.compress(callGate)).isEqualTo(callGate);
    }

    @Test
    void segmentWhollyInsideTheMonitorIsNotPresent() {
        long inside = ShadowDescriptorTables.segmentDescriptor(MonitorLayout.LINEAR_BASE, 0xFFF, 0x4093);
        assertThat(ShadowDescriptorTables.compress(inside) & (1L << 47)).isZero();
    }
}

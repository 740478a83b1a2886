package hvlab.hv.xenpv.mm;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** [X32] xen/arch/x86/x86_32/mm.c check_descriptor (../shared/reference/xen-pv-abi.md section 7). */
class DescriptorCheckTest {
    private static int dpl(long d) {
        return (int) (d >>> 45) & 3;
    }

    private static long lastByte(long d) {
        long base = (d >>> 16 & 0xFFFFFF) | (d >>> 56 & 0xFF) << 24;
        long limit = (d >>> 32 & 0xF0000) | (d & 0xFFFF);
        return base + ((d & (1L << 55)) != 0 ? limit << 12 | 0xFFF : limit);
    }

    @Test
    void notPresentDescriptorsPassUnchanged() {
        assertThat(DescriptorCheck.check(0x1234, 0x00CF1B00)).isEqualTo(0x00CF1B0000001234L);
    }

    @Test
    void ringZeroIsRaisedToRingOne() {
        assertThat(dpl(DescriptorCheck.check(0x0000FFFF, 0x00CF9B00))).isEqualTo(1);
    }

    @Test
    void flatSegmentsAreCutBelowXensArea() {
        assertThat(lastByte(DescriptorCheck.check(0x0000FFFF, 0x00CFF300))).isEqualTo(0xFC3FFFFFL);
    }

    @Test
    void byteGranularSegmentReachingXenIsRefused() {
        int base = 0xFC350000;
        int lo = base << 16 | 0xFFFF, hi = (base & 0xFF000000) | (base >>> 16 & 0xFF) | 0x000FF300;
        assertThat(DescriptorCheck.check(lo, hi)).isEqualTo(DescriptorCheck.REJECTED);
    }

    @Test
    void onlyCallGatesAmongSystemDescriptors() {
        assertThat(DescriptorCheck.check(0x00680000, 0x00008900)).as("TSS").isEqualTo(DescriptorCheck.REJECTED);
        assertThat(DescriptorCheck.check(0x00080000, 0x0000EE00)).as("interrupt gate")
                .isEqualTo(DescriptorCheck.REJECTED);
        long gate = DescriptorCheck.check(0x00081000, 0x0010EC00);
        assertThat(gate).isNotEqualTo(DescriptorCheck.REJECTED);
        assertThat((gate >>> 16) & 3).as("target RPL").isEqualTo(1);
    }

    @Test
    void expandDownSegmentsAreRefused() {
        assertThat(DescriptorCheck.check(0x0000FFFF, 0x00CF9700)).isEqualTo(DescriptorCheck.REJECTED);
    }
}

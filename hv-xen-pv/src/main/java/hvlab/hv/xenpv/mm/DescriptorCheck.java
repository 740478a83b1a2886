package hvlab.hv.xenpv.mm;

/**
 * Xen's check of a guest segment descriptor ([X32] xen/arch/x86/x86_32/mm.c check_descriptor;
 * ../shared/reference/xen-pv-abi.md section 7): not-present descriptors pass; DPL 0 is raised to 1; of system
 * descriptors only 32-bit call gates pass, their target RPL raised to 1; code and data segments must not reach
 * Xen's area (limits are cut to end at FC400000, which needs G=1; expand-down segments are refused).
 */
public final class DescriptorCheck {
    /** Returned for a descriptor Xen refuses. */
    public static final long REJECTED = -1L;
    /** GUEST_SEGMENT_MAX_ADDR: guest segments end here, so the read-only M2P stays readable. */
    static final long GUEST_SEGMENT_END = 0xFC400000L;

    private DescriptorCheck() {
    }

    /** The descriptor as Xen installs it (DPL raised, limit cut), or {@link #REJECTED}. */
    public static long check(int lo, int hi) {
        if ((hi & 0x8000) == 0) {
            return pack(lo, hi);
        }
        if ((hi & 0x6000) == 0) {
            hi |= 0x2000;
        }
        if ((hi & 0x1000) == 0) {
            if (((hi >>> 8) & 0xF) != 0xC || (hi & 0xE0) != 0) {
                return REJECTED;
            }
            return pack(lo | 0x10000, hi); // the call gate's target selector gets RPL 1
        }
        long base = (hi & 0xFF000000L) | (hi & 0xFF) << 16 | (lo >>> 16);
        if (base >= GUEST_SEGMENT_END - 0x1000) {
            return REJECTED;
        }
        boolean pageGranular = (hi & 0x800000) != 0;
        long limit = (hi & 0xF0000) | (lo & 0xFFFF);
        long last = base + (pageGranular ? limit << 12 | 0xFFF : limit);
        if ((hi & 0x1C00) == 0x1400) {
            return REJECTED; // expand-down data reaches the top of the address space; Xen rewrites its limit instead
        }
        if (last >= GUEST_SEGMENT_END) {
            if (!pageGranular) {
                return REJECTED;
            }
            limit = ((GUEST_SEGMENT_END - base) >>> 12) - 1;
            hi = (hi & ~0xF0000) | (int) (limit & 0xF0000);
            lo = (lo & 0xFFFF0000) | (int) (limit & 0xFFFF);
        }
        return pack(lo, hi);
    }

    private static long pack(int lo, int hi) {
        return (lo & 0xFFFFFFFFL) | (long) hi << 32;
    }
}

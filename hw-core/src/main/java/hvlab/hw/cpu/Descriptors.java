package hvlab.hw.cpu;

/** Field extraction from 8-byte segment and gate descriptors (SDM Vol. 3A, 3.4.5 and 6.11). */
final class Descriptors {
    static final int ACCESSED = 1 << 8;
    static final int S = 1 << 12;
    static final int PRESENT = 1 << 15;
    static final int DB = 1 << 22;
    static final int G = 1 << 23;
    /** The busy bit of a TSS descriptor (type 3 or 11 rather than 1 or 9). */
    static final int TSS_BUSY = 1 << 9;

    // System descriptor types (SDM Vol. 3A, Table 3-2).
    static final int TSS16_AVAILABLE = 1, LDT = 2, TSS16_BUSY = 3, CALL_GATE16 = 4, TASK_GATE = 5,
            INTERRUPT_GATE16 = 6, TRAP_GATE16 = 7, TSS32_AVAILABLE = 9, TSS32_BUSY = 11, CALL_GATE32 = 12,
            INTERRUPT_GATE32 = 14, TRAP_GATE32 = 15;

    private Descriptors() {
    }

    static int base(int hi, int lo) {
        return (lo >>> 16) | (hi & 0xFF) << 16 | (hi & 0xFF000000);
    }

    /** The limit in bytes, scaled by the granularity bit. */
    static int limit(int hi, int lo) {
        int raw = (lo & 0xFFFF) | (hi & 0xF0000);
        return (hi & G) != 0 ? raw << 12 | 0xFFF : raw;
    }

    static int type(int hi) {
        return (hi >>> 8) & 0xF;
    }

    static int dpl(int hi) {
        return (hi >>> 13) & 3;
    }

    static boolean present(int hi) {
        return (hi & PRESENT) != 0;
    }

    /** A code or data segment (S = 1), as opposed to a system descriptor. */
    static boolean isSegment(int hi) {
        return (hi & S) != 0;
    }

    static boolean isCode(int hi) {
        return isSegment(hi) && (hi & 0x800) != 0;
    }

    static boolean isConformingCode(int hi) {
        return isCode(hi) && (hi & 0x400) != 0;
    }

    static boolean isWritableData(int hi) {
        return isSegment(hi) && (hi & 0x800) == 0 && (hi & 0x200) != 0;
    }

    /** A TSS descriptor, 16- or 32-bit, available or busy (types 1, 3, 9, 11). */
    static boolean isTss(int hi) {
        return !isSegment(hi) && (type(hi) & 5) == 1;
    }

    static boolean isBusyTss(int hi) {
        return isTss(hi) && (hi & TSS_BUSY) != 0;
    }

    static int gateSelector(int lo) {
        return lo >>> 16;
    }

    static int gateOffset(int hi, int lo, boolean is32) {
        return is32 ? (hi & 0xFFFF0000) | (lo & 0xFFFF) : lo & 0xFFFF;
    }
}

package hvlab.hv.vtx;

import java.util.Locale;

/** The memory modes of issue 7, chosen at run time with {@code -Dhvlab.vtx.memory=shadow|ept}. */
enum MemoryMode {
    /** Shadow page tables as a virtual TLB: CR3 loads, INVLPG and #PF exit (Adams &amp; Agesen's VT-x). */
    SHADOW,
    /** Extended page tables: the processor walks the guest's tables and the hypervisor's EPT tables. */
    EPT;

    static final String PROPERTY = "hvlab.vtx.memory";

    static MemoryMode configured() {
        String value = System.getProperty(PROPERTY, "shadow");
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PROPERTY + " must be shadow or ept, not " + value, e);
        }
    }
}

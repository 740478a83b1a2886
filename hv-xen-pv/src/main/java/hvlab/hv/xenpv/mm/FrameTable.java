package hvlab.hv.xenpv.mm;

import java.util.Arrays;

/**
 * One record per machine frame: owning domain, type, type count, general reference count, pinned and validated
 * bits ([X32] struct page_info: count_info and type_info). Plain arrays, so a snapshot is a copy of them.
 */
public final class FrameTable {
    public static final int FREE = -1;

    private final int[] owner;
    private final PageType[] type;
    private final int[] typeCount;
    private final int[] references;
    private final boolean[] pinned;
    private final boolean[] validated;

    public FrameTable(int frames) {
        owner = new int[frames];
        type = new PageType[frames];
        typeCount = new int[frames];
        references = new int[frames];
        pinned = new boolean[frames];
        validated = new boolean[frames];
        Arrays.fill(owner, FREE);
        Arrays.fill(type, PageType.NONE);
    }

    public int frames() {
        return owner.length;
    }

    /** Gives a free frame to a domain; the allocation holds one general reference, as Xen's PGC_allocated does. */
    public void assign(int mfn, int domain) {
        if (owner[mfn] != FREE) {
            throw new IllegalStateException("frame 0x" + Integer.toHexString(mfn) + " already belongs to domain "
                    + owner[mfn]);
        }
        owner[mfn] = domain;
        references[mfn] = 1;
        type[mfn] = PageType.NONE;
        typeCount[mfn] = 0;
    }

    /** Takes a frame back from its domain: it must hold nothing but its allocation reference. */
    public boolean release(int mfn, int domain) {
        if (!exists(mfn) || owner[mfn] != domain || references[mfn] != 1 || typeCount[mfn] != 0 || pinned[mfn]) {
            return false;
        }
        free(mfn);
        return true;
    }

    /** Back to Xen's free pool, whatever it held: for a dead domain's frames once its references are let go. */
    void free(int mfn) {
        owner[mfn] = FREE;
        references[mfn] = 0;
        type[mfn] = PageType.NONE;
        typeCount[mfn] = 0;
        pinned[mfn] = false;
        validated[mfn] = false;
    }

    public boolean exists(int mfn) {
        return mfn >= 0 && mfn < owner.length;
    }

    public int owner(int mfn) {
        return owner[mfn];
    }

    public PageType type(int mfn) {
        return type[mfn];
    }

    public int typeCount(int mfn) {
        return typeCount[mfn];
    }

    public int references(int mfn) {
        return references[mfn];
    }

    public boolean pinned(int mfn) {
        return pinned[mfn];
    }

    public boolean validated(int mfn) {
        return validated[mfn];
    }

    void setType(int mfn, PageType newType, int count, boolean isValidated) {
        type[mfn] = newType;
        typeCount[mfn] = count;
        validated[mfn] = isValidated;
    }

    void addTypeCount(int mfn, int delta) {
        typeCount[mfn] += delta;
    }

    void addReferences(int mfn, int delta) {
        references[mfn] += delta;
    }

    void setPinned(int mfn, boolean value) {
        pinned[mfn] = value;
    }
}

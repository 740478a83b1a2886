package hvlab.hv.xenpv.mm;

/** What a machine frame is used as; a frame has one type at a time ([X32] type_info bits 31:29). */
public enum PageType {
    NONE,
    /** A page table (L1): its entries map frames. */
    L1_PAGE_TABLE,
    /** A page directory (L2), the root on non-PAE x86_32. */
    L2_PAGE_TABLE,
    /** A GDT or LDT frame: its descriptors are checked. */
    SEGMENT_DESCRIPTORS,
    /** Ordinary data that some mapping may write. */
    WRITABLE
}

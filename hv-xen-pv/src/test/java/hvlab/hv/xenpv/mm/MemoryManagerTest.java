package hvlab.hv.xenpv.mm;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static hvlab.hv.xenpv.mm.XenErrno.EINVAL;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Page types, reference counts and page-table validation as Xen's x86_32 mm.c does them
 * (../shared/reference/xen-pv-abi.md sections 4 and 5, [X32] xen/arch/x86/mm.c).
 */
class MemoryManagerTest {
    private static final int DOM1 = 1, DOM2 = 2;
    private static final int P = 1, RW = 2, US = 4, A = 0x20, PCD = 0x10, PSE = 0x80;
    /** Frames 0x100-0x1FF belong to domain 1, 0x200-0x2FF to domain 2. */
    private static final int L2 = 0x100, L1 = 0x101, DATA = 0x102, OTHER_L1 = 0x103, FOREIGN = 0x200;

    private PhysicalMemory memory;
    private MemoryManager mm;
    private FrameTable frames;

    @BeforeEach
    void domains() {
        memory = new PhysicalMemory(4 << 20, new MmioBus());
        frames = new FrameTable(1024);
        for (int mfn = 0x100; mfn < 0x200; mfn++) {
            frames.assign(mfn, DOM1);
        }
        for (int mfn = 0x200; mfn < 0x300; mfn++) {
            frames.assign(mfn, DOM2);
        }
        mm = new MemoryManager(memory, frames);
    }

    private void entry(int mfn, int index, int value) {
        memory.writeU32((mfn << 12) + index * 4, value);
    }

    private int entry(int mfn, int index) {
        return memory.readU32((mfn << 12) + index * 4);
    }

    private static int pointer(int mfn, int index) {
        return (mfn << 12) + index * 4;
    }

    // get_page_type, get_page_from_l1e

    @Test
    void pinningAnL1ValidatesItAndTypesTheFramesItMapsWritable() {
        entry(L1, 0, DATA << 12 | P | RW | US);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(frames.type(L1)).isEqualTo(PageType.L1_PAGE_TABLE);
        assertThat(frames.validated(L1)).isTrue();
        assertThat(frames.pinned(L1)).isTrue();
        assertThat(frames.type(DATA)).isEqualTo(PageType.WRITABLE);
        assertThat(frames.typeCount(DATA)).isEqualTo(1);
    }

    @Test
    void anL1ThatMapsItselfWritableIsRefused() {
        entry(L1, 5, L1 << 12 | P | RW);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isEqualTo(EINVAL);
        assertThat(frames.typeCount(L1)).isZero();
        assertThat(frames.pinned(L1)).isFalse();
    }

    @Test
    void anL1MayMapAPageTableReadOnly() {
        entry(L1, 5, L1 << 12 | P);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
    }

    @Test
    void aPinnedPageTableCannotBeMappedWritableLater() {
        assertThat(mm.pin(DOM1, OTHER_L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(mm.updateEntry(DOM1, pointer(L1, 3), OTHER_L1 << 12 | P | RW)).isEqualTo(EINVAL);
        assertThat(entry(L1, 3)).isZero();
        assertThat(mm.updateEntry(DOM1, pointer(L1, 3), OTHER_L1 << 12 | P)).isZero();
    }

    @Test
    void anotherDomainsFrameCannotBeMapped() {
        entry(L1, 0, FOREIGN << 12 | P);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isEqualTo(EINVAL);
    }

    @Test
    void cacheAndGlobalBitsAreRefusedInL1Entries() {
        entry(L1, 0, DATA << 12 | P | PCD);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isEqualTo(EINVAL);
    }

    @Test
    void aFailedValidationReleasesTheEntriesAlreadyTaken() {
        entry(L1, 0, DATA << 12 | P | RW);
        entry(L1, 1, FOREIGN << 12 | P);
        int before = frames.references(DATA);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isEqualTo(EINVAL);
        assertThat(frames.references(DATA)).isEqualTo(before);
        assertThat(frames.typeCount(DATA)).isZero();
    }

    // get_page_from_l2e, alloc_l2_table

    @Test
    void anL2ValidatesTheTablesItPointsToAsL1() {
        entry(L2, 0, L1 << 12 | P | RW | US);
        entry(L1, 0, DATA << 12 | P | RW);
        assertThat(mm.pin(DOM1, L2, PageType.L2_PAGE_TABLE)).isZero();
        assertThat(frames.type(L1)).isEqualTo(PageType.L1_PAGE_TABLE);
        assertThat(frames.type(DATA)).isEqualTo(PageType.WRITABLE);
    }

    @Test
    void largePagesAreRefusedInL2Entries() {
        entry(L2, 0, 0x400000 | P | RW | PSE);
        assertThat(mm.pin(DOM1, L2, PageType.L2_PAGE_TABLE)).isEqualTo(EINVAL);
    }

    @Test
    void anL2EntryCannotPointAtAWritableDataFrame() {
        entry(L1, 0, DATA << 12 | P | RW);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
        entry(L2, 0, DATA << 12 | P);
        assertThat(mm.pin(DOM1, L2, PageType.L2_PAGE_TABLE)).isEqualTo(EINVAL);
    }

    @Test
    void xensSlotsCannotBeUpdated() {
        assertThat(mm.pin(DOM1, L2, PageType.L2_PAGE_TABLE)).isZero();
        assertThat(mm.updateEntry(DOM1, pointer(L2, MemoryManager.FIRST_XEN_SLOT), L1 << 12 | P)).isEqualTo(EINVAL);
        assertThat(mm.updateEntry(DOM1, pointer(L2, 1007), L1 << 12 | P)).isZero();
    }

    // mmu_update and mmuext_op

    @Test
    void updatesOfAnotherDomainsFramesAreRefused() {
        assertThat(mm.updateEntry(DOM1, pointer(FOREIGN, 0), 0x1234)).isEqualTo(EINVAL);
        assertThat(entry(FOREIGN, 0)).isZero();
    }

    @Test
    void replacingAnEntryMovesTheReferences() {
        int second = 0x104;
        entry(L1, 0, DATA << 12 | P | RW);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(mm.updateEntry(DOM1, pointer(L1, 0), second << 12 | P | RW)).isZero();
        assertThat(frames.typeCount(DATA)).isZero();
        assertThat(frames.typeCount(second)).isEqualTo(1);
    }

    @Test
    void accessedAndDirtyChangesTakeTheFastPath() {
        entry(L1, 0, DATA << 12 | P | RW);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(mm.updateEntry(DOM1, pointer(L1, 0), DATA << 12 | P | RW | A)).isZero();
        assertThat(frames.typeCount(DATA)).isEqualTo(1);
    }

    @Test
    void aFrameWithoutPageTableTypeIsWrittenAsData() {
        assertThat(mm.updateEntry(DOM1, pointer(DATA, 7), 0xCAFE)).isZero();
        assertThat(entry(DATA, 7)).isEqualTo(0xCAFE);
        assertThat(frames.typeCount(DATA)).isZero();
    }

    @Test
    void unpinningReleasesTheTableAndWhatItMapped() {
        entry(L1, 0, DATA << 12 | P | RW);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(mm.unpin(DOM1, L1)).isZero();
        assertThat(frames.typeCount(L1)).isZero();
        assertThat(frames.validated(L1)).isFalse();
        assertThat(frames.typeCount(DATA)).isZero();
        assertThat(mm.unpin(DOM1, L1)).as("not pinned any more").isEqualTo(EINVAL);
    }

    /** decrease_reservation's rule: only a frame that nothing maps, types or pins goes back to Xen. */
    @Test
    void onlyAnUnusedFrameCanBeReleased() {
        entry(L1, 0, DATA << 12 | P);
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(frames.release(DATA, DOM1)).as("mapped").isFalse();
        assertThat(frames.release(L1, DOM1)).as("pinned").isFalse();
        assertThat(frames.release(FOREIGN, DOM1)).as("another domain's").isFalse();
        assertThat(frames.release(0x104, DOM1)).isTrue();
        assertThat(frames.owner(0x104)).isEqualTo(FrameTable.FREE);
    }

    @Test
    void aDescriptorFrameIsValidatedAndThenNeverWrittenAsData() {
        memory.writeU32(DATA << 12 | 8, 0x0000FFFF);
        memory.writeU32(DATA << 12 | 12, 0x00CF9300);
        assertThat(mm.getDescriptorTable(DOM1, DATA)).isTrue();
        assertThat(mm.updateEntry(DOM1, pointer(DATA, 2), 0)).isEqualTo(EINVAL);
        assertThat(mm.updateDescriptor(DOM1, DATA << 12 | 8, 0x0000FFFF, 0x00CFF300)).isZero();
        memory.writeU32(OTHER_L1 << 12 | 12, 0xFC0F9335); // byte granular at FC350000: reaches Xen
        memory.writeU32(OTHER_L1 << 12 | 8, 0x0000FFFF);
        assertThat(mm.getDescriptorTable(DOM1, OTHER_L1)).isFalse();
    }

    @Test
    void pinningTwiceIsRefused() {
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(mm.pin(DOM1, L1, PageType.L1_PAGE_TABLE)).isEqualTo(EINVAL);
    }

    @Test
    void aNewBasePointerMustBeAValidL2AndReleasesTheOldOne() {
        entry(L2, 0, L1 << 12 | P | RW);
        assertThat(mm.newBase(DOM1, L2, -1)).isZero();
        assertThat(frames.type(L2)).isEqualTo(PageType.L2_PAGE_TABLE);
        assertThat(mm.newBase(DOM1, DATA, L2)).as("DATA's entries are zero: it validates").isZero();
        assertThat(frames.typeCount(L2)).isZero();
        assertThat(frames.typeCount(L1)).as("released with the old base").isZero();
        assertThat(mm.newBase(DOM1, FOREIGN, DATA)).isEqualTo(EINVAL);
    }

    /**
     * domain_relinquish_resources ([X32] xen/arch/x86/domain.c, from xen/common/domain.c domain_kill): a dead
     * domain's pins, base table and GDT are let go and every frame it owned is free again; the other domain's
     * frames are untouched, and it cannot map a freed frame.
     */
    @Test
    void aDeadDomainsFramesGoBackToTheFreePool() {
        int gdt = 0x104, foreignL1 = 0x201;
        entry(L1, 0, DATA << 12 | P | RW | US);
        entry(L2, 0, L1 << 12 | P | RW | US);
        assertThat(mm.pin(DOM1, L2, PageType.L2_PAGE_TABLE)).isZero();
        assertThat(mm.newBase(DOM1, L2, -1)).isZero();
        assertThat(mm.pin(DOM1, OTHER_L1, PageType.L1_PAGE_TABLE)).isZero();
        assertThat(mm.getDescriptorTable(DOM1, gdt)).isTrue();
        assertThat(mm.pin(DOM2, foreignL1, PageType.L1_PAGE_TABLE)).isZero();

        java.util.List<Integer> freed = new java.util.ArrayList<>();
        assertThat(mm.relinquish(DOM1, L2, new int[] {gdt}, freed::add)).isEqualTo(0x100);

        assertThat(freed).hasSize(0x100).contains(L2, L1, DATA, OTHER_L1, gdt).doesNotContain(FOREIGN, foreignL1);
        for (int mfn = 0x100; mfn < 0x200; mfn++) {
            assertThat(frames.owner(mfn)).isEqualTo(FrameTable.FREE);
            assertThat(frames.references(mfn)).isZero();
            assertThat(frames.typeCount(mfn)).isZero();
            assertThat(frames.pinned(mfn)).isFalse();
        }
        assertThat(frames.owner(foreignL1)).isEqualTo(DOM2);
        assertThat(frames.pinned(foreignL1)).isTrue();
        assertThat(frames.references(foreignL1)).isEqualTo(2); // allocation and pin
        assertThat(mm.updateEntry(DOM2, pointer(foreignL1, 0), DATA << 12 | P)).isEqualTo(EINVAL);
        assertThat(mm.pin(DOM2, L2, PageType.L2_PAGE_TABLE)).isEqualTo(EINVAL);
    }

    /** The same domain's references balance: letting go of pins, base and GDT leaves only allocation references. */
    @Test
    void lettingGoOfPinsBaseAndGdtLeavesOnlyAllocationReferences() {
        int gdt = 0x104;
        entry(L1, 0, DATA << 12 | P | RW | US);
        entry(L2, 0, L1 << 12 | P | RW | US);
        mm.pin(DOM1, L2, PageType.L2_PAGE_TABLE);
        mm.newBase(DOM1, L2, -1);
        mm.getDescriptorTable(DOM1, gdt);
        assertThat(frames.references(DATA)).isEqualTo(2);
        mm.unpin(DOM1, L2);
        mm.newBase(DOM1, 0x105, L2); // an empty L2 takes over, the old base let go
        mm.putDescriptorTable(gdt);
        for (int mfn : new int[] {L2, L1, DATA, gdt}) {
            assertThat(frames.references(mfn)).as("frame 0x%x", mfn).isEqualTo(1);
            assertThat(frames.typeCount(mfn)).as("frame 0x%x", mfn).isZero();
        }
    }
}

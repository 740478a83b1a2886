package hvlab.hv.xenpv.domain;

import hvlab.hv.xenpv.mm.FrameTable;
import hvlab.hv.xenpv.mm.MemoryManager;
import hvlab.hv.xenpv.mm.PageType;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.memory.PhysicalMemory;

import java.nio.charset.StandardCharsets;

/**
 * Builds a PV domain as Xen's domain builder does ([X32] xen/arch/x86/domain_build.c; start-of-day layout in
 * ../shared/reference/xen-pv-abi.md section 8): the kernel image, the P2M list, start_info, the bootstrap page
 * tables (mapping themselves read-only) and a bootstrap stack, in one region from VIRT_BASE that maps
 * pseudo-physical frames one to one, ending on a 4 MiB boundary with at least 512 KiB to spare; the L2 pinned.
 */
public final class DomainBuilder {
    private static final int P = 1, RW = 2, US = 4, A = 0x20;
    public static final String MAGIC = "xen-3.0-x86_32";

    /** Where the builder left things: the initial vCPU state's inputs. */
    public record Start(int entry, int stackTop, int startInfo, int baseTable) { }

    private final PhysicalMemory memory;
    private final FrameTable frames;
    private final MemoryManager mm;

    public DomainBuilder(PhysicalMemory memory, FrameTable frames, MemoryManager mm) {
        this.memory = memory;
        this.frames = frames;
        this.mm = mm;
    }

    public Start build(Domain domain, String name, PvKernelImage image, String commandLine)
            throws BootImageException {
        int base = image.virtualBase();
        for (int pfn = 0; pfn < domain.pages; pfn++) {
            frames.assign(domain.machineFrame(pfn), domain.id);
            mm.clearFrame(domain.machineFrame(pfn));
        }
        frames.assign(domain.sharedInfoFrame, domain.id);
        mm.clearFrame(domain.sharedInfoFrame);
        memory.writeU8((domain.sharedInfoFrame << 12) + 1, 1); // vcpu_info[0].evtchn_upcall_mask: events off
        int end = 0;
        for (PvKernelImage.Segment segment : image.segments()) {
            long last = (segment.virtualAddress() & 0xFFFFFFFFL) + segment.memorySize();
            if ((segment.virtualAddress() & 0xFFFFFFFFL) < (base & 0xFFFFFFFFL)
                    || last - (base & 0xFFFFFFFFL) > (long) domain.pages << 12) {
                throw new BootImageException(name + " does not fit the domain's " + (domain.pages >> 8) + " MiB");
            }
            for (int k = 0; k < segment.contents().length; k++) {
                memory.writeU8(machine(domain, base, segment.virtualAddress() + k), segment.contents()[k]);
            }
            end = Math.max(end, (int) (last - (base & 0xFFFFFFFFL)));
        }
        int p2m = pageUp(end);
        int startInfo = pageUp(p2m + domain.pages * 4);
        int tables = startInfo + 4096;
        int l1Count = 1;
        int regionEnd;
        while (true) {
            int stack = tables + (1 + l1Count) * 4096;
            regionEnd = roundUp(stack + 4096 + (512 << 10), 4 << 20);
            if (regionEnd <= l1Count * (4 << 20)) {
                break;
            }
            l1Count++;
        }
        if ((long) regionEnd > (long) domain.pages << 12) {
            throw new BootImageException(name + "'s boot region (" + (regionEnd >> 20) + " MiB) exceeds the domain's "
                    + (domain.pages >> 8) + " MiB");
        }
        int stackTop = tables + (1 + l1Count) * 4096 + 4096;
        // P2M list: pseudo-physical frame -> machine frame.
        for (int pfn = 0; pfn < domain.pages; pfn++) {
            memory.writeU32(machine(domain, base, base + p2m + pfn * 4), domain.machineFrame(pfn));
        }
        // Bootstrap page tables: L2 first, then the L1s; the table frames themselves read-only.
        int l2 = domain.machineFrame(tables >>> 12);
        for (int t = 0; t < l1Count; t++) {
            int l1 = domain.machineFrame((tables >>> 12) + 1 + t);
            memory.writeU32((l2 << 12) + ((base >>> 22) + t) * 4, l1 << 12 | P | RW | US | A);
            for (int i = 0; i < 1024; i++) {
                int offset = t * (4 << 20) + i * 4096;
                if (offset >= regionEnd) {
                    break;
                }
                boolean table = offset >= tables && offset < tables + (1 + l1Count) * 4096;
                memory.writeU32((l1 << 12) + i * 4, domain.machineFrame(offset >>> 12) << 12 | P | US | A
                        | (table ? 0 : RW));
            }
        }
        // Pinned, and the vCPU's base table holding its own type reference, as Xen's builder leaves it.
        if (mm.pin(domain.id, l2, PageType.L2_PAGE_TABLE) != 0 || mm.newBase(domain.id, l2, -1) != 0) {
            throw new IllegalStateException("the bootstrap page tables of domain " + domain.id + " do not validate");
        }
        writeStartInfo(domain, base, base + startInfo, base + p2m, base + tables, 1 + l1Count, commandLine);
        if (image.hypercallPage() != -1) {
            writeHypercallPage(machine(domain, base, image.hypercallPage()) & ~0xFFF);
        }
        return new Start(image.entry(), base + stackTop, base + startInfo, l2);
    }

    private void writeStartInfo(Domain domain, int base, int at, int p2m, int tables, int tableFrames,
            String commandLine) {
        int si = machine(domain, base, at);
        byte[] magic = MAGIC.getBytes(StandardCharsets.ISO_8859_1);
        for (int k = 0; k < magic.length; k++) {
            memory.writeU8(si + k, magic[k]);
        }
        memory.writeU32(si + 32, domain.pages);
        memory.writeU32(si + 36, domain.sharedInfoFrame << 12);
        memory.writeU32(si + 60, tables);
        memory.writeU32(si + 64, tableFrames);
        memory.writeU32(si + 68, p2m);
        byte[] line = commandLine.getBytes(StandardCharsets.ISO_8859_1);
        for (int k = 0; k < Math.min(line.length, 1023); k++) {
            memory.writeU8(si + 80 + k, line[k]);
        }
    }

    /** One 32-byte stub per hypercall: mov eax, n; int 0x82; ret; and for iret (23) push eax first, no ret. */
    private void writeHypercallPage(int page) {
        for (int k = 0; k < 4096; k++) {
            memory.writeU8(page + k, 0xCC);
        }
        for (int n = 0; n < 128; n++) {
            int at = page + n * 32;
            if (n == 23) {
                memory.writeU8(at++, 0x50);
            }
            memory.writeU8(at, 0xB8);
            memory.writeU32(at + 1, n);
            memory.writeU8(at + 5, 0xCD);
            memory.writeU8(at + 6, 0x82);
            if (n != 23) {
                memory.writeU8(at + 7, 0xC3);
            }
        }
    }

    private static int machine(Domain domain, int base, int virtual) {
        int offset = virtual - base;
        return domain.machineFrame(offset >>> 12) << 12 | (offset & 0xFFF);
    }

    private static int pageUp(int value) {
        return roundUp(value, 4096);
    }

    private static int roundUp(int value, int to) {
        return (value + to - 1) / to * to;
    }
}

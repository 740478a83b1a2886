package hvlab.hw.boot;

import java.util.List;

/** The Multiboot header of an OS image (Multiboot 0.6.96 §3.1.1–§3.1.3). */
record MultibootHeader(int fileOffset, int flags) {
    static final int MAGIC = 0x1BADB002;
    /** §3.1: the header lies wholly within the first 8192 bytes, 32-bit aligned. */
    static final int SEARCH_LIMIT = 8192;
    static final int MAGIC_FIELDS_SIZE = 12;
    static final int ADDRESS_FIELDS_END = 32;

    /** §3.1.2 bit 0: modules page-aligned. We always page-align them, so it needs nothing more. */
    static final int FLAG_PAGE_ALIGN_MODULES = 1;
    /** §3.1.2 bit 1: mem_* required. We always provide mem_* and the memory map. */
    static final int FLAG_MEMORY_INFO = 1 << 1;
    /**
     * §3.1.2 bit 2: video mode information. Like QEMU we ignore it: the guest starts in VGA text mode and the
     * info's VBE and framebuffer fields stay absent (flags bits 11 and 12 clear), which kernels must accept.
     */
    static final int FLAG_VIDEO_MODE = 1 << 2;
    /** §3.1.2 bit 16: the address fields of §3.1.3 say where to load the image (the "a.out kludge"). */
    static final int FLAG_ADDRESS_FIELDS = 1 << 16;
    /** §3.1.2: bits 0–15 are requirements; a loader that does not know one of them must refuse the image. */
    private static final int REQUIRED_FLAGS_MASK = 0xFFFF;
    private static final int KNOWN_REQUIRED_FLAGS = FLAG_PAGE_ALIGN_MODULES | FLAG_MEMORY_INFO | FLAG_VIDEO_MODE;

    /** Finds the first header whose checksum holds, as GRUB does, and refuses flags we cannot honour. */
    static MultibootHeader find(ImageBytes image) throws BootImageException {
        int searchEnd = Math.min(SEARCH_LIMIT, image.length()) - MAGIC_FIELDS_SIZE;
        int firstBadChecksum = -1;
        for (int offset = 0; offset <= searchEnd; offset += 4) {
            if (image.u32Unchecked(offset) != MAGIC) {
                continue;
            }
            int flags = image.u32Unchecked(offset + 4);
            if (MAGIC + flags + image.u32Unchecked(offset + 8) == 0) {
                return checkedFlags(image, new MultibootHeader(offset, flags));
            }
            if (firstBadChecksum < 0) {
                firstBadChecksum = offset;
            }
        }
        if (firstBadChecksum >= 0) {
            int sum = MAGIC + image.u32Unchecked(firstBadChecksum + 4) + image.u32Unchecked(firstBadChecksum + 8);
            throw new BootImageException(image.name() + " has a bad Multiboot header checksum at offset 0x"
                    + Integer.toHexString(firstBadChecksum) + ": magic + flags + checksum = 0x"
                    + Integer.toHexString(sum) + ", must be 0 (Multiboot 0.6.96 §3.1.2)");
        }
        ElfKernel.refuseForeignElf(image);
        if (LinuxSetupHeader.isBzImageSignature(image.bytes())) {
            throw new BootImageException(image.name() + " is a Linux bzImage, not a Multiboot kernel: it boots by the"
                    + " Linux boot protocol (LinuxLoader)");
        }
        throw new BootImageException(image.name() + " has no Multiboot header in the first 8 KiB (magic 0x1badb002"
                + " at a 4-byte aligned offset, Multiboot 0.6.96 §3.1.1) and is not a Linux bzImage either (no"
                + " \"HdrS\" at offset 0x202)");
    }

    private static MultibootHeader checkedFlags(ImageBytes image, MultibootHeader header) throws BootImageException {
        int unknown = header.flags & REQUIRED_FLAGS_MASK & ~KNOWN_REQUIRED_FLAGS;
        if (unknown != 0) {
            throw new BootImageException(image.name() + " requires Multiboot features hvlab does not support"
                    + " (header flag bits 0x" + Integer.toHexString(unknown) + "; Multiboot 0.6.96 §3.1.2 says to refuse it)");
        }
        return header;
    }

    boolean hasAddressFields() {
        return (flags & FLAG_ADDRESS_FIELDS) != 0;
    }

    /**
     * §3.1.3: text and data lie contiguously in the file, and load_addr maps to the file offset
     * (header offset - (header_addr - load_addr)); all addresses are physical.
     */
    KernelLayout addressFieldsLayout(ImageBytes image) throws BootImageException {
        image.requireInFile(fileOffset, ADDRESS_FIELDS_END, "Multiboot header address fields");
        long headerAddr = image.u32(fileOffset + 12, "header_addr");
        long loadAddr = image.u32(fileOffset + 16, "load_addr");
        long loadEndAddr = image.u32(fileOffset + 20, "load_end_addr");
        long bssEndAddr = image.u32(fileOffset + 24, "bss_end_addr");
        long entryAddr = image.u32(fileOffset + 28, "entry_addr");

        if (loadAddr > headerAddr) {
            throw inconsistent(image, "load_addr 0x" + Long.toHexString(loadAddr) + " is above header_addr 0x"
                    + Long.toHexString(headerAddr));
        }
        long loadFileOffset = fileOffset - (headerAddr - loadAddr);
        if (loadFileOffset < 0) {
            throw inconsistent(image, "load_addr 0x" + Long.toHexString(loadAddr) + " would start "
                    + -loadFileOffset + " bytes before the beginning of the file (header at file offset 0x"
                    + Integer.toHexString(fileOffset) + ", header_addr 0x" + Long.toHexString(headerAddr) + ")");
        }
        // load_end_addr = 0: text and data run to the end of the file
        long loadEnd = loadEndAddr == 0 ? loadAddr + image.length() - loadFileOffset : loadEndAddr;
        if (loadEnd < loadAddr) {
            throw inconsistent(image, "load_end_addr 0x" + Long.toHexString(loadEnd) + " is below load_addr 0x"
                    + Long.toHexString(loadAddr));
        }
        // bss_end_addr = 0: no BSS
        long bssEnd = bssEndAddr == 0 ? loadEnd : bssEndAddr;
        if (bssEnd < loadEnd) {
            throw inconsistent(image, "bss_end_addr 0x" + Long.toHexString(bssEnd) + " is below load_end_addr 0x"
                    + Long.toHexString(loadEnd));
        }
        image.requireInFile(loadFileOffset, loadEnd - loadAddr, "text and data from load_addr to load_end_addr");
        return new KernelLayout(List.of(new LoadSegment(loadAddr, loadFileOffset, loadEnd - loadAddr, bssEnd - loadAddr)),
                entryAddr);
    }

    private static BootImageException inconsistent(ImageBytes image, String problem) {
        return new BootImageException(image.name() + " has inconsistent Multiboot a.out kludge addresses: " + problem
                + " (Multiboot 0.6.96 §3.1.3)");
    }
}

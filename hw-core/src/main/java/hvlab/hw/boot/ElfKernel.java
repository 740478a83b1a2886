package hvlab.hw.boot;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the load layout of an ELF32 little-endian i386 executable (System V ABI gABI, ELF header and program
 * header), which Multiboot loaders must support (Multiboot 0.6.96 §3.1.2, bit 16).
 */
final class ElfKernel {
    private static final int ELF_HEADER_SIZE = 52;
    private static final int PROGRAM_HEADER_SIZE = 32;
    private static final int ELFCLASS32 = 1;
    private static final int ELFCLASS64 = 2;
    private static final int ELFDATA2LSB = 1;
    private static final int ELFDATA2MSB = 2;
    private static final int ET_REL = 1;
    private static final int ET_EXEC = 2;
    private static final int ET_DYN = 3;
    private static final int EM_386 = 3;
    private static final int PT_LOAD = 1;

    private ElfKernel() {
    }

    static boolean isElf(ImageBytes image) {
        byte[] b = image.bytes();
        return b.length >= 4 && b[0] == 0x7F && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
    }

    /** Refuses an ELF that is not for a 32-bit little-endian i386: that is the clearest thing to tell its user. */
    static void refuseForeignElf(ImageBytes image) throws BootImageException {
        if (!isElf(image)) {
            return;
        }
        int elfClass = image.u8(4, "ELF identification");
        if (elfClass == ELFCLASS64) {
            throw new BootImageException(image.name() + " is a 64-bit ELF; hvlab boots 32-bit Multiboot kernels");
        }
        if (elfClass != ELFCLASS32) {
            throw new BootImageException(image.name() + " has an unknown ELF class " + elfClass + " (1 is 32-bit)");
        }
        int encoding = image.u8(5, "ELF identification");
        if (encoding == ELFDATA2MSB) {
            throw new BootImageException(image.name() + " is a big-endian ELF; hvlab boots little-endian i386 kernels");
        }
        if (encoding != ELFDATA2LSB) {
            throw new BootImageException(image.name() + " has an unknown ELF data encoding " + encoding
                    + " (1 is little-endian)");
        }
        int machine = image.u16(18, "ELF header");
        if (machine != EM_386) {
            throw new BootImageException(image.name() + " is an ELF for machine " + machine
                    + ", not i386 (EM_386 = 3)");
        }
    }

    /** PT_LOAD segments go to their physical addresses (p_paddr), as GRUB and QEMU load them. */
    static KernelLayout layout(ImageBytes image) throws BootImageException {
        if (!isElf(image)) {
            throw new BootImageException(image.name() + " is neither an ELF nor a kernel with Multiboot address"
                    + " fields (header flag bit 16, Multiboot 0.6.96 §3.1.3)");
        }
        refuseForeignElf(image);
        image.requireInFile(0, ELF_HEADER_SIZE, "ELF header");
        int type = image.u16(16, "e_type");
        if (type != ET_EXEC) {
            throw new BootImageException(image.name() + " is not an ELF executable: e_type is " + describeType(type)
                    + ", hvlab loads ET_EXEC (2)");
        }
        long entry = image.u32(24, "e_entry");
        long programHeaderOffset = image.u32(28, "e_phoff");
        int programHeaderSize = image.u16(42, "e_phentsize");
        int programHeaderCount = image.u16(44, "e_phnum");
        if (programHeaderCount > 0 && programHeaderSize < PROGRAM_HEADER_SIZE) {
            throw new BootImageException(image.name() + " has ELF program headers of " + programHeaderSize
                    + " bytes; an ELF32 program header is " + PROGRAM_HEADER_SIZE);
        }
        image.requireInFile(programHeaderOffset, (long) programHeaderSize * programHeaderCount, "program header table");

        List<LoadSegment> segments = new ArrayList<>();
        List<Long> virtualAddresses = new ArrayList<>();
        for (int i = 0; i < programHeaderCount; i++) {
            long ph = programHeaderOffset + (long) i * programHeaderSize;
            if (image.u32(ph, "p_type") != PT_LOAD) {
                continue;
            }
            long fileOffset = image.u32(ph + 4, "p_offset");
            long virtualAddress = image.u32(ph + 8, "p_vaddr");
            long physicalAddress = image.u32(ph + 12, "p_paddr");
            long fileSize = image.u32(ph + 16, "p_filesz");
            long memorySize = image.u32(ph + 20, "p_memsz");
            if (fileSize > memorySize) {
                throw new BootImageException(image.name() + " has a PT_LOAD segment at 0x"
                        + Long.toHexString(physicalAddress) + " with p_filesz " + fileSize
                        + " larger than p_memsz " + memorySize);
            }
            image.requireInFile(fileOffset, fileSize, "PT_LOAD segment " + i + "'s file bytes");
            if (memorySize > 0) {
                segments.add(new LoadSegment(physicalAddress, fileOffset, fileSize, memorySize));
                virtualAddresses.add(virtualAddress);
            }
        }
        if (segments.isEmpty()) {
            throw new BootImageException(image.name() + " has no PT_LOAD segments to load");
        }
        return new KernelLayout(List.copyOf(segments), physicalEntry(entry, segments, virtualAddresses));
    }

    /**
     * e_entry is a virtual address; paging is off at entry, so like GRUB and QEMU we move it by the p_vaddr to
     * p_paddr offset of the segment it lies in (no change for a kernel linked where it loads).
     */
    private static long physicalEntry(long entry, List<LoadSegment> segments, List<Long> virtualAddresses) {
        for (int i = 0; i < segments.size(); i++) {
            long virtualStart = virtualAddresses.get(i);
            if (entry >= virtualStart && entry < virtualStart + segments.get(i).memorySize()) {
                return entry - virtualStart + segments.get(i).physicalAddress();
            }
        }
        return entry;
    }

    private static String describeType(int type) {
        return switch (type) {
            case ET_REL -> "ET_REL (1, a relocatable object)";
            case ET_DYN -> "ET_DYN (3, a shared object or position-independent executable)";
            default -> Integer.toString(type);
        };
    }
}

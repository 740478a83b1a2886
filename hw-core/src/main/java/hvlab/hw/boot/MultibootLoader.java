package hvlab.hw.boot;

import hvlab.hw.boot.BootInformation.PlacedModule;
import hvlab.hw.memory.PhysicalMemory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Loads a Multiboot v1 kernel (Multiboot Specification 0.6.96) into RAM and describes the machine state to enter
 * it with, as GRUB and QEMU's {@code -kernel} do.
 *
 * <p>The kernel is an ELF32 i386 executable, or any image whose Multiboot header carries the address fields of
 * §3.1.3. Modules follow the kernel, page-aligned, from 1 MiB at the lowest. The multiboot_info structure and all it
 * points to lie in {@link #INFO_AREA_START}..{@link #INFO_AREA_END}; kernel segments may not overlap that area nor
 * the EBDA, VGA and BIOS area [0x9FC00, 0x100000). Every check runs before the first write, so a refused image leaves
 * memory as it was.
 */
public final class MultibootLoader {
    /** multiboot_info is here; this is the EBX of every Multiboot boot. */
    public static final int INFO_AREA_START = BootInformation.AREA_START;
    public static final int INFO_AREA_END = BootInformation.AREA_END;

    private MultibootLoader() {
    }

    /** Loads a kernel without modules; see {@link #load(PhysicalMemory, String, byte[], String, List)}. */
    public static BootState load(PhysicalMemory memory, String imageName, byte[] image, String commandLine)
            throws BootImageException {
        return load(memory, imageName, image, commandLine, List.of());
    }

    /**
     * Loads a kernel and its modules into the RAM of memory (its size is the RAM size reported to the kernel).
     *
     * @param imageName   names the image in error messages
     * @param commandLine the kernel's command line, passed as is; GRUB and QEMU pass the image's name (QEMU: its
     *                    path), a space and the user's arguments, and callers should build it the same way
     * @throws BootImageException when the image or a module cannot be booted; memory is then left untouched
     */
    public static BootState load(PhysicalMemory memory, String imageName, byte[] image, String commandLine,
                                 List<BootModule> modules) throws BootImageException {
        return load(memory, imageName, image, commandLine, modules, memory.ramSize());
    }

    /**
     * As {@link #load(PhysicalMemory, String, byte[], String, List)}, telling the kernel of only the first {@code
     * ramBytes} of RAM (mem_upper, the memory map, where modules may go): a hypervisor's guest, which must never
     * learn of the memory it may not use.
     */
    public static BootState load(PhysicalMemory memory, String imageName, byte[] image, String commandLine,
                                 List<BootModule> modules, int ramBytes) throws BootImageException {
        Objects.requireNonNull(memory, "memory");
        checkKernelRam(memory, ramBytes);
        Objects.requireNonNull(commandLine, "commandLine");
        ImageBytes kernelImage = new ImageBytes(Objects.requireNonNull(imageName, "imageName"),
                Objects.requireNonNull(image, "image"));
        KernelLayout kernel = layout(kernelImage);
        checkPlacement(kernelImage, kernel, ramBytes);
        List<PlacedModule> placedModules = placeModules(modules, kernel.end(), ramBytes);
        byte[] information = BootInformation.build(ramBytes, commandLine, placedModules);

        for (LoadSegment segment : kernel.segments()) {
            memory.load((int) segment.physicalAddress(), image, (int) segment.fileOffset(), (int) segment.fileSize());
            // the BSS: bytes in memory beyond those in the file are zero
            Arrays.fill(memory.ram(), (int) (segment.physicalAddress() + segment.fileSize()), (int) segment.end(), (byte) 0);
        }
        for (PlacedModule placed : placedModules) {
            byte[] contents = placed.module().contents();
            memory.load((int) placed.address(), contents, 0, contents.length);
        }
        memory.load(INFO_AREA_START, information, 0, information.length);
        return BootState.multibootEntry((int) kernel.entryPoint(), INFO_AREA_START);
    }

    private static KernelLayout layout(ImageBytes image) throws BootImageException {
        if (image.length() == 0) {
            throw new BootImageException(image.name() + " is an empty file");
        }
        MultibootHeader header = MultibootHeader.find(image);
        // §3.1.2 bit 16: the address fields win over the executable's own headers
        return header.hasAddressFields() ? header.addressFieldsLayout(image) : ElfKernel.layout(image);
    }

    private static void checkPlacement(ImageBytes image, KernelLayout kernel, int ramBytes) throws BootImageException {
        for (LoadSegment segment : kernel.segments()) {
            if (segment.end() > ramBytes) {
                throw new BootImageException(image.name() + ": " + segment.describe() + " does not fit in "
                        + describeSize(ramBytes) + " of RAM");
            }
            if (segment.overlaps(MemoryMapEntry.LOWER_MEMORY_END, MemoryMapEntry.HIGH_MEMORY_START)) {
                throw new BootImageException(image.name() + ": " + segment.describe() + " overlaps the EBDA, VGA and"
                        + " BIOS area " + range(MemoryMapEntry.LOWER_MEMORY_END, MemoryMapEntry.HIGH_MEMORY_START));
            }
            if (segment.overlaps(INFO_AREA_START, INFO_AREA_END)) {
                throw new BootImageException(image.name() + ": " + segment.describe() + " overlaps hvlab's boot"
                        + " information area " + range(INFO_AREA_START, INFO_AREA_END));
            }
        }
        List<LoadSegment> byAddress = kernel.segments().stream()
                .sorted(Comparator.comparingLong(LoadSegment::physicalAddress)).toList();
        for (int i = 1; i < byAddress.size(); i++) {
            LoadSegment lower = byAddress.get(i - 1);
            LoadSegment upper = byAddress.get(i);
            if (upper.physicalAddress() < lower.end()) {
                throw new BootImageException(image.name() + " has overlapping segments: " + lower.describe()
                        + " and " + upper.describe());
            }
        }
        if (kernel.segments().stream().noneMatch(segment -> segment.contains(kernel.entryPoint()))) {
            throw new BootImageException(image.name() + ": entry point 0x" + Long.toHexString(kernel.entryPoint())
                    + " is outside every loaded segment");
        }
    }

    /** Modules go one after another from the first page above the kernel (and above 1 MiB), page-aligned (§3.1.2 bit 0). */
    private static List<PlacedModule> placeModules(List<BootModule> modules, long kernelEnd, int ramBytes)
            throws BootImageException {
        List<PlacedModule> placed = new ArrayList<>();
        long next = Math.max(kernelEnd, MemoryMapEntry.HIGH_MEMORY_START);
        for (BootModule module : modules) {
            long address = alignToPage(next);
            long end = address + module.contents().length;
            if (end > ramBytes) {
                throw new BootImageException("module '" + module.commandLine() + "' of " + module.contents().length
                        + " bytes at 0x" + Long.toHexString(address) + " does not fit in " + describeSize(ramBytes)
                        + " of RAM");
            }
            placed.add(new PlacedModule(module, address));
            next = end;
        }
        return placed;
    }

    private static long alignToPage(long address) {
        return (address + PhysicalMemory.PAGE_SIZE - 1) & -PhysicalMemory.PAGE_SIZE;
    }

    static String describeSize(long bytes) {
        if (bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        return bytes % 1024 == 0 ? (bytes >> 10) + " KiB" : bytes + " bytes";
    }

    private static String range(long start, long end) {
        return "[0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ")";
    }

    /** The RAM a loader tells a kernel of: all of it, or the first part, a hypervisor's guest's. */
    static void checkKernelRam(PhysicalMemory memory, int ramBytes) {
        if (ramBytes <= 0 || ramBytes > memory.ramSize()) {
            throw new IllegalArgumentException("RAM for the kernel: " + ramBytes + " bytes of " + memory.ramSize());
        }
    }
}

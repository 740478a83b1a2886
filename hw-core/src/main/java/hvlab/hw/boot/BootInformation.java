package hvlab.hw.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Lays out the Multiboot information structure and everything it points to (Multiboot 0.6.96 §3.3) in the boot
 * information area below 1 MiB, in this order: multiboot_info, the memory map, the module list, then the strings
 * (boot loader name, command line, module strings). Each piece starts 4-byte aligned.
 */
final class BootInformation {
    /** The area hvlab reserves for the structure: free conventional memory, away from the IVT, BDA and EBDA. */
    static final int AREA_START = 0x9000;
    static final int AREA_END = 0x10000;

    // multiboot_info flags, §3.3
    static final int HAS_MEMORY_BOUNDS = 1;
    static final int HAS_COMMAND_LINE = 1 << 2;
    static final int HAS_MODULES = 1 << 3;
    static final int HAS_MEMORY_MAP = 1 << 6;
    static final int HAS_BOOT_LOADER_NAME = 1 << 9;

    /** The structure up to and including the framebuffer fields of 0.6.96; the fields we leave absent stay zero. */
    static final int INFO_SIZE = 116;
    static final int MEMORY_MAP_ENTRY_SIZE = 24;
    static final int MODULE_ENTRY_SIZE = 16;
    static final String BOOT_LOADER_NAME = "hvlab";

    /** A module and the physical address it is loaded at. */
    record PlacedModule(BootModule module, long address) {
        long end() {
            return address + module.contents().length;
        }
    }

    private final ByteBuffer area = ByteBuffer.allocate(AREA_END - AREA_START).order(ByteOrder.LITTLE_ENDIAN);

    private BootInformation() {
    }

    /** The whole area's bytes, multiboot_info at its start ({@link #AREA_START}), unused space zero. */
    static byte[] build(int ramBytes, String commandLine, List<PlacedModule> modules) throws BootImageException {
        return new BootInformation().write(ramBytes, commandLine, modules);
    }

    private byte[] write(int ramBytes, String commandLine, List<PlacedModule> modules) throws BootImageException {
        int info = allocate(INFO_SIZE);
        List<MemoryMapEntry> memoryMap = MemoryMapEntry.pc(ramBytes);
        int memoryMapAddress = allocate(memoryMap.size() * MEMORY_MAP_ENTRY_SIZE);
        int moduleListAddress = allocate(modules.size() * MODULE_ENTRY_SIZE);
        int loaderNameAddress = putString(BOOT_LOADER_NAME);
        int commandLineAddress = putString(commandLine);

        putU32(info, HAS_MEMORY_BOUNDS | HAS_COMMAND_LINE | HAS_MODULES | HAS_MEMORY_MAP | HAS_BOOT_LOADER_NAME);
        // mem_lower and mem_upper: KiB of RAM from 0, and from 1 MiB to the first hole
        putU32(info + 4, (int) (availableLengthFrom(memoryMap, 0) / 1024));
        putU32(info + 8, (int) (availableLengthFrom(memoryMap, MemoryMapEntry.HIGH_MEMORY_START) / 1024));
        putU32(info + 16, commandLineAddress);
        putU32(info + 20, modules.size());
        putU32(info + 24, moduleListAddress);
        putU32(info + 44, memoryMap.size() * MEMORY_MAP_ENTRY_SIZE);
        putU32(info + 48, memoryMapAddress);
        putU32(info + 64, loaderNameAddress);

        for (int i = 0; i < memoryMap.size(); i++) {
            // size counts the bytes after itself, so a kernel steps from entry to entry by size + 4
            int entry = memoryMapAddress + i * MEMORY_MAP_ENTRY_SIZE;
            putU32(entry, MEMORY_MAP_ENTRY_SIZE - 4);
            area.putLong(entry + 4 - AREA_START, memoryMap.get(i).base());
            area.putLong(entry + 12 - AREA_START, memoryMap.get(i).length());
            putU32(entry + 20, memoryMap.get(i).type());
        }
        for (int i = 0; i < modules.size(); i++) {
            // mod_end is exclusive, as GRUB and QEMU pass it
            int entry = moduleListAddress + i * MODULE_ENTRY_SIZE;
            putU32(entry, (int) modules.get(i).address());
            putU32(entry + 4, (int) modules.get(i).end());
            putU32(entry + 8, putString(modules.get(i).module().commandLine()));
        }
        return area.array();
    }

    private static long availableLengthFrom(List<MemoryMapEntry> memoryMap, long base) {
        return memoryMap.stream()
                .filter(e -> e.base() == base && e.type() == MemoryMapEntry.AVAILABLE)
                .mapToLong(MemoryMapEntry::length)
                .findFirst().orElse(0);
    }

    /** Reserves size bytes, 4-byte aligned, and returns their physical address. */
    private int allocate(int size) throws BootImageException {
        int start = (area.position() + 3) & ~3;
        if (start + size > area.capacity()) {
            throw new BootImageException("the command line and module strings do not fit in hvlab's boot information"
                    + " area [0x" + Integer.toHexString(AREA_START) + ", 0x" + Integer.toHexString(AREA_END) + ") of "
                    + area.capacity() + " bytes");
        }
        area.position(start + size);
        return AREA_START + start;
    }

    /** Stores a NUL-terminated UTF-8 string and returns its physical address. */
    private int putString(String text) throws BootImageException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int address = allocate(bytes.length + 1);
        area.put(address - AREA_START, bytes);
        return address;
    }

    private void putU32(int address, int value) {
        area.putInt(address - AREA_START, value);
    }
}

package hvlab.hw.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * struct boot_params, the "zero page" of the 32-bit boot protocol (zero-page.rst; boot.rst, 32-bit Boot
 * Protocol): all zero, the kernel's setup header copied in at 0x1F1 with the loader's fields written, the memory
 * sizes and the E820 map. screen_info stays zero but for ext_mem_k: the machine has no VGA, and an all-zero
 * screen_info tells the kernel there is no text display.
 */
final class ZeroPage {
    static final int SIZE = 4096;

    // zero-page.rst offsets
    static final int EXT_MEM_K = 0x002; // screen_info.ext_mem_k
    static final int ALT_MEM_K = 0x1E0;
    static final int E820_ENTRIES = 0x1E8;
    static final int SENTINEL = 0x1EF;
    static final int E820_TABLE = 0x2D0;
    static final int E820_ENTRY_SIZE = 20;

    /** boot.rst, type_of_loader: a loader without an assigned id writes 0xFF. */
    static final int LOADER_UNDEFINED = 0xFF;
    /** boot.rst, vid_mode and Special Command Line Options: 0xFFFF is "normal", the text mode the machine is in. */
    static final int VID_MODE_NORMAL = 0xFFFF;

    private ZeroPage() {
    }

    /**
     * The page's bytes.
     *
     * @param image         the kernel file, whose setup header is copied
     * @param heapEnd       the end of the setup heap, an offset from the zero page (boot.rst, heap_end_ptr)
     * @param initrdAddress 0 without an initrd
     */
    static byte[] build(ImageBytes image, LinuxSetupHeader header, List<MemoryMapEntry> memoryMap, int ramBytes,
                        int heapEnd, int commandLineAddress, long initrdAddress, int initrdSize) {
        ByteBuffer page = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        // boot.rst, 32-bit Boot Protocol: the setup header from 0x1F1 up to 0x202 + the byte at 0x201
        page.put(LinuxSetupHeader.SETUP_SECTS, image.bytes(), LinuxSetupHeader.SETUP_SECTS,
                header.headerEnd() - LinuxSetupHeader.SETUP_SECTS);
        page.put(LinuxSetupHeader.SETUP_SECTS, (byte) header.setupSectors());
        page.putShort(LinuxSetupHeader.VID_MODE, (short) VID_MODE_NORMAL);
        page.put(LinuxSetupHeader.TYPE_OF_LOADER, (byte) LOADER_UNDEFINED);
        int loadFlags = header.loadFlags() & ~(LinuxSetupHeader.QUIET_FLAG | LinuxSetupHeader.KEEP_SEGMENTS);
        page.put(LinuxSetupHeader.LOADFLAGS, (byte) (loadFlags | LinuxSetupHeader.CAN_USE_HEAP));
        page.putShort(LinuxSetupHeader.HEAP_END_PTR, (short) (heapEnd - 0x200)); // boot.rst, heap_end_ptr: less 0x200
        page.putInt(LinuxSetupHeader.CMD_LINE_PTR, commandLineAddress);
        page.putInt(LinuxSetupHeader.RAMDISK_IMAGE, (int) initrdAddress);
        page.putInt(LinuxSetupHeader.RAMDISK_SIZE, initrdSize);

        // what INT 15h AH=88h and AX=E801h would report: KiB of RAM above 1 MiB (the former in 16 bits)
        long extendedKiB = Math.max(0, ramBytes - MemoryMapEntry.HIGH_MEMORY_START) >> 10;
        page.putShort(EXT_MEM_K, (short) Math.min(extendedKiB, 0xFFFF));
        page.putInt(ALT_MEM_K, (int) extendedKiB);
        page.put(SENTINEL, (byte) 0); // zero says the loader cleared boot_params before it copied the header in

        page.put(E820_ENTRIES, (byte) memoryMap.size());
        for (int i = 0; i < memoryMap.size(); i++) {
            int entry = E820_TABLE + i * E820_ENTRY_SIZE; // struct boot_e820_entry: addr, size (u64), type (u32)
            page.putLong(entry, memoryMap.get(i).base());
            page.putLong(entry + 8, memoryMap.get(i).length());
            page.putInt(entry + 16, memoryMap.get(i).type());
        }
        return page.array();
    }
}

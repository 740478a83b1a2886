package hvlab.hw.boot;

import java.util.ArrayList;
import java.util.List;

/** One range of the BIOS INT 15h E820 style memory map that Multiboot passes on (Multiboot 0.6.96 §3.3, mmap_*). */
record MemoryMapEntry(long base, long length, int type) {
    static final int AVAILABLE = 1;
    static final int RESERVED = 2;

    /** The extended BIOS data area starts here, as SeaBIOS lays out a PC: lower memory is 639 KiB. */
    static final long LOWER_MEMORY_END = 0x9FC00;
    static final long BIOS_ROM_START = 0xF0000;
    static final long HIGH_MEMORY_START = 0x10_0000;

    /** The PC's map: low RAM, the EBDA, the BIOS ROM, then RAM from 1 MiB on; the VGA hole is left out, as E820 does. */
    static List<MemoryMapEntry> pc(int ramBytes) {
        List<MemoryMapEntry> map = new ArrayList<>(List.of(
                new MemoryMapEntry(0, LOWER_MEMORY_END, AVAILABLE),
                new MemoryMapEntry(LOWER_MEMORY_END, 0xA0000 - LOWER_MEMORY_END, RESERVED),
                new MemoryMapEntry(BIOS_ROM_START, HIGH_MEMORY_START - BIOS_ROM_START, RESERVED)));
        if (ramBytes > HIGH_MEMORY_START) {
            map.add(new MemoryMapEntry(HIGH_MEMORY_START, ramBytes - HIGH_MEMORY_START, AVAILABLE));
        }
        return map;
    }

    long end() {
        return base + length;
    }
}

package hvlab.hw.firmware;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * SMBIOS 2.8 (DMTF DSP0134 2.8.0): the 32-bit entry point (5.2.1) and a structure table with what SeaBIOS gives a
 * one-CPU QEMU PC: BIOS (type 0), system (1), processor (4), physical memory array (16), one memory device (17),
 * system boot (32) and end-of-table (127). An OS finds the entry point on a 16-byte boundary in 0xF0000-0xFFFFF.
 */
public final class SmbiosTables {
    static final int ENTRY_POINT_LENGTH = 0x1F, ENTRY_CHECKSUM = 4, INTERMEDIATE = 0x10, INTERMEDIATE_LENGTH = 15,
            INTERMEDIATE_CHECKSUM = 0x15;
    static final int MAJOR = 2, MINOR = 8;
    static final int BIOS = 0, SYSTEM = 1, PROCESSOR = 4, MEMORY_ARRAY = 16, MEMORY_DEVICE = 17, SYSTEM_BOOT = 32,
            END_OF_TABLE = 127;
    static final String VENDOR = "hvlab", PRODUCT = "hvlab PC (i440FX + PIIX)", BIOS_VERSION = "hvlab",
            BIOS_DATE = "01/01/2026";
    /** Processor family 0DH: Pentium II (7.5.2, Table 23), as CPUID's family 6, model 3 is. */
    static final int FAMILY_PENTIUM_II = 0x0D;
    /** The model's clock: one instruction a nanosecond, the TSC at 1 GHz. */
    static final int SPEED_MHZ = 1000;
    static final int MEMORY_ARRAY_HANDLE = 0x1000;

    /** The structure table and how it is described: its length, count of structures and largest structure. */
    record Table(byte[] bytes, int count, int largest) { }

    private SmbiosTables() {
    }

    /** The structures, handles from 0 up, each with its strings (a double NUL ends a set, 6.1.3). */
    static Table table(int cpuSignature, int cpuFeatures, long ramBytes) {
        List<byte[]> structures = new ArrayList<>();
        // 7.1 BIOS Information (2.4+ layout): vendor, version, F000 segment start, date, characteristics not supported
        structures.add(structure(new TableBytes().u8(BIOS).u8(0x18).u16(0).u8(1).u8(2).u16(0xE800).u8(3).u8(0)
                .u32(1 << 3).u32(0).u8(0).u8(1 << 4).u8(0).u8(0).u8(0xFF).u8(0xFF), VENDOR, BIOS_VERSION, BIOS_DATE));
        // 7.2 System Information: manufacturer, product, no version or serial, no UUID, woken by the power switch
        structures.add(structure(new TableBytes().u8(SYSTEM).u8(0x1B).u16(0x100).u8(1).u8(2).u8(0).u8(0).zeros(16)
                .u8(6).u8(0).u8(0), VENDOR, PRODUCT));
        // 7.5 Processor Information (2.6+): central processor, populated and enabled, one core and thread
        structures.add(structure(new TableBytes().u8(PROCESSOR).u8(0x2A).u16(0x400).u8(1).u8(3)
                .u8(FAMILY_PENTIUM_II).u8(2).u32(cpuSignature).u32(cpuFeatures).u8(0).u8(0).u16(0).u16(SPEED_MHZ)
                .u16(SPEED_MHZ).u8(0x41).u8(1).u16(0xFFFF).u16(0xFFFF).u16(0xFFFF).u8(0).u8(0).u8(0).u8(1).u8(1)
                .u8(1).u16(1 << 1).u16(FAMILY_PENTIUM_II), "CPU 0", "GenuineIntel"));
        // 7.17 Physical Memory Array: system board, system memory, no error correction, one device
        long kib = ramBytes >>> 10;
        structures.add(structure(new TableBytes().u8(MEMORY_ARRAY).u8(0x0F).u16(MEMORY_ARRAY_HANDLE).u8(3).u8(3).u8(3)
                .u32((int) kib).u16(0xFFFE).u16(1)));
        // 7.18 Memory Device (2.3 layout): the whole RAM as one DIMM, size in MiB
        structures.add(structure(new TableBytes().u8(MEMORY_DEVICE).u8(0x1B).u16(0x1100).u16(MEMORY_ARRAY_HANDLE)
                .u16(0xFFFE).u16(64).u16(64).u16((int) (ramBytes >>> 20)).u8(9).u8(0).u8(1).u8(0).u8(7).u16(1 << 1)
                .u16(0).u8(0).u8(0).u8(0).u8(0), "DIMM 0"));
        // 7.33 System Boot Information: no errors detected
        structures.add(structure(new TableBytes().u8(SYSTEM_BOOT).u8(0x0B).u16(0x2000).zeros(6).u8(0)));
        // 7.45 End-of-Table
        structures.add(structure(new TableBytes().u8(END_OF_TABLE).u8(4).u16(0x7F00)));

        TableBytes all = new TableBytes();
        int largest = 0;
        for (byte[] s : structures) {
            all.bytes(s);
            largest = Math.max(largest, s.length);
        }
        return new Table(all.toArray(), structures.size(), largest);
    }

    /** The 32-bit entry point (5.2.1): "_SM_", then "_DMI_" with the table's length, address and count. */
    static byte[] entryPoint(Table table, int tableAddress) {
        byte[] entry = new TableBytes().ascii("_SM_", 4).u8(0).u8(ENTRY_POINT_LENGTH).u8(MAJOR).u8(MINOR)
                .u16(table.largest()).u8(0).zeros(5).ascii("_DMI_", 5).u8(0).u16(table.bytes().length)
                .u32(tableAddress).u16(table.count()).u8(MAJOR << 4 | MINOR).toArray();
        entry[INTERMEDIATE_CHECKSUM] = (byte) -TableBytes.sum(entry, INTERMEDIATE, INTERMEDIATE_LENGTH);
        entry[ENTRY_CHECKSUM] = (byte) -TableBytes.sum(entry, 0, ENTRY_POINT_LENGTH);
        return entry;
    }

    private static byte[] structure(TableBytes formatted, String... strings) {
        if (strings.length == 0) {
            formatted.u8(0);
        }
        for (String s : strings) {
            formatted.bytes(s.getBytes(StandardCharsets.US_ASCII)).u8(0);
        }
        return formatted.u8(0).toArray();
    }
}

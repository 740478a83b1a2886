package hvlab.hw.firmware;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ACPI 6.4 chapter 5.2 and the Intel MP Specification 1.4 chapter 4: the tables are found and read the way an
 * operating system does, from the bytes in guest memory, with offsets taken from the specifications.
 */
class FirmwareTablesTest {
    private static final int SIGNATURE = 0x0000_0633, FEATURES = 0x0000_8B3F;

    private PhysicalMemory memory;

    @BeforeEach
    void install() {
        memory = new PhysicalMemory(2 << 20, new MmioBus());
        FirmwareTables.install(memory, SIGNATURE, FEATURES);
    }

    private int u8(int address) {
        return memory.readU8(address);
    }

    private int u16(int address) {
        return memory.readU16(address);
    }

    private int u32(int address) {
        return memory.readU32(address);
    }

    private String ascii(int address, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) memory.readU8(address + i);
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private int byteSum(int address, int length) {
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += memory.readU8(address + i);
        }
        return sum & 0xFF;
    }

    /** 5.2.5.1: OSPM searches 0xE0000-0xFFFFF on 16-byte boundaries for a valid RSDP. */
    private int findRsdp() {
        return scan(0xE0000, "RSD PTR ", a -> 20);
    }

    /**
     * The search an OS makes for a firmware structure: the first 16-byte boundary from {@code from} to 1 MiB where
     * the anchor string begins and the {@code length} bytes there sum to zero.
     */
    private int scan(int from, String anchor, java.util.function.IntUnaryOperator length) {
        for (int a = from; a < 0x100000; a += 16) {
            if (ascii(a, anchor.length()).equals(anchor) && byteSum(a, length.applyAsInt(a)) == 0) {
                return a;
            }
        }
        throw new AssertionError("no " + anchor);
    }

    /** The tables the RSDT points at, checked for a valid header (5.2.6): signature to address. */
    private List<String[]> rsdtEntries(int rsdt) {
        int length = u32(rsdt + 4);
        List<String[]> out = new ArrayList<>();
        for (int p = rsdt + 36; p < rsdt + length; p += 4) {
            int table = u32(p);
            out.add(new String[] {ascii(table, 4), Integer.toString(table)});
        }
        return out;
    }

    private int table(String signature) {
        int rsdt = u32(findRsdp() + 16);
        return rsdtEntries(rsdt).stream().filter(e -> e[0].equals(signature)).mapToInt(e -> Integer.parseInt(e[1]))
                .findFirst().orElseThrow(() -> new AssertionError("no " + signature + " in the RSDT"));
    }

    private void assertValidHeader(int table, String signature, int revision) {
        assertThat(ascii(table, 4)).isEqualTo(signature);
        assertThat(u8(table + 8)).as(signature + " revision").isEqualTo(revision);
        assertThat(byteSum(table, u32(table + 4))).as(signature + " checksum").isZero();
        assertThat(ascii(table + 10, 6)).isEqualTo("HVLAB ");
    }

    @Test
    void rsdpIsAnAcpi10PointerToTheRsdtInTheBiosArea() {
        // 5.2.5.3: "RSD PTR ", checksum over 20 bytes, OEMID at 9, revision 0 at 15, RSDT address at 16
        int rsdp = findRsdp();
        assertThat(rsdp).isBetween(FirmwareTables.AREA_BASE, FirmwareTables.AREA_END - 20);
        assertThat(rsdp % 16).isZero();
        assertThat(u8(rsdp + 15)).isZero();
        assertThat(ascii(rsdp + 9, 6)).isEqualTo("HVLAB ");
        assertValidHeader(u32(rsdp + 16), "RSDT", 1);
    }

    @Test
    void rsdtListsTheFadtAndTheMadt() {
        // 5.2.7: 32-bit physical addresses of the description headers that follow the RSDT's header
        int rsdt = u32(findRsdp() + 16);
        assertThat(rsdtEntries(rsdt)).extracting(e -> e[0]).containsExactly("FACP", "APIC");
    }

    @Test
    void fadtDescribesThePiix4FixedHardwareAtQemusAddresses() {
        // 5.2.9 Table 5.9, revision 1 layout (116 bytes)
        int fadt = table("FACP");
        assertValidHeader(fadt, "FACP", 1);
        assertThat(u32(fadt + 4)).isEqualTo(116);
        assertThat(u16(fadt + 46)).as("SCI_INT").isEqualTo(9);
        assertThat(u32(fadt + 48)).as("SMI_CMD").isEqualTo(0xB2);
        assertThat(u8(fadt + 52)).as("ACPI_ENABLE").isEqualTo(0xF1);
        assertThat(u8(fadt + 53)).as("ACPI_DISABLE").isEqualTo(0xF0);
        assertThat(u32(fadt + 56)).as("PM1a_EVT_BLK").isEqualTo(0x600);
        assertThat(u32(fadt + 60)).as("PM1b_EVT_BLK").isZero();
        assertThat(u32(fadt + 64)).as("PM1a_CNT_BLK").isEqualTo(0x604);
        assertThat(u32(fadt + 68)).as("PM1b_CNT_BLK").isZero();
        assertThat(u32(fadt + 76)).as("PM_TMR_BLK").isEqualTo(0x608);
        assertThat(u32(fadt + 80)).as("GPE0_BLK").isZero();
        assertThat(u8(fadt + 88)).as("PM1_EVT_LEN").isEqualTo(4);
        assertThat(u8(fadt + 89)).as("PM1_CNT_LEN").isEqualTo(2);
        assertThat(u8(fadt + 91)).as("PM_TMR_LEN").isEqualTo(4);
        assertThat(u16(fadt + 96)).as("P_LVL2_LAT > 100: no C2").isGreaterThan(100);
        assertThat(u16(fadt + 98)).as("P_LVL3_LAT > 1000: no C3").isGreaterThan(1000);
        assertThat(u8(fadt + 108)).as("CENTURY").isEqualTo(0x32);
        int flags = u32(fadt + 112);
        assertThat(flags & 1).as("WBINVD").isEqualTo(1);
        assertThat(flags & 1 << 4).as("PWR_BUTTON 0: fixed-feature power button").isZero();
        assertThat(flags & 1 << 8).as("TMR_VAL_EXT 0: 24-bit PM timer").isZero();
    }

    @Test
    void facsIsReachedFromTheFadtOnA64ByteBoundary() {
        // 5.2.10: FACS signature and length 64; it must be 64-byte aligned; no checksum
        int facs = u32(table("FACP") + 36);
        assertThat(facs % 64).isZero();
        assertThat(ascii(facs, 4)).isEqualTo("FACS");
        assertThat(u32(facs + 4)).isEqualTo(64);
        assertThat(u32(facs + 16)).as("global lock free").isZero();
    }

    @Test
    void dsdtHoldsTheS5PackageWithThePiix4SoftOffType() {
        // 5.2.11.1 DSDT, 7.4.2 \_S5: Name(\_S5, Package(){SLP_TYPa, SLP_TYPb, 0, 0}); PIIX4 soft off is 0
        assertValidHeader(u32(table("FACP") + 40), "DSDT", 1);
        assertThat(dsdtAml()).contains("085c5f53355f12060400000000");
    }

    private String dsdtAml() {
        int dsdt = u32(table("FACP") + 40);
        return HexFormat.of().formatHex(bytesAt(dsdt + 36, u32(dsdt + 4) - 36));
    }

    @Test
    void dsdtDeclaresThePciRootBridge() {
        // 19.6.122 Scope(\_SB) opens the table; 6.1.5 _HID EISAID("PNP0A03") = 0x030AD041 right after Device(PCI0)
        String aml = dsdtAml();
        assertThat(aml).startsWith("10");
        assertThat(aml).contains("50434930" + "085f4849440c41d00a03");
    }

    @Test
    void dsdtDescribesTheIsaDevicesWithTheirPortsAndIrqs() {
        // 6.2.2 _CRS with 6.4.2.5 IO(Decode16, base, base, 1, length) and 6.4.2.1 IRQNoFlags(){irq}, End Tag 0x79
        String aml = dsdtAml();
        assertThat(aml).contains("525443" + "5f" + "085f4849440c41d00b00"); // RTC_, PNP0B00
        assertThat(aml).contains("4701700070000102" + "220001" + "7900");  // 0x70-0x71, IRQ 8
        assertThat(aml).contains("0c41d00303");                             // PNP0303
        assertThat(aml).contains("4701600060000101" + "4701640064000101" + "220200" + "7900"); // 0x60, 0x64, IRQ 1
        assertThat(aml).contains("0c41d00f13" + "085f435253" + "1108" + "0a05" + "220010" + "7900"); // PNP0F13, IRQ 12
        assertThat(aml).contains("434f4d31" + "085f4849440c41d00501");      // COM1, PNP0501
        assertThat(aml).contains("4701f803f8030108" + "221000" + "7900");  // 0x3F8-0x3FF, IRQ 4
    }

    private byte[] bytesAt(int address, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = (byte) memory.readU8(address + i);
        }
        return out;
    }

    @Test
    void madtHasTheBspTheIoApicAndQemusOverrides() {
        // 5.2.12: local APIC address and PCAT_COMPAT, then Processor Local APIC (type 0), I/O APIC (1),
        // Interrupt Source Override (2), Local APIC NMI (4)
        int madt = table("APIC");
        assertValidHeader(madt, "APIC", 1);
        assertThat(u32(madt + 36)).isEqualTo(0xFEE0_0000);
        assertThat(u32(madt + 40)).isEqualTo(1);
        int end = madt + u32(madt + 4);
        List<String> entries = new ArrayList<>();
        for (int p = madt + 44; p < end; p += u8(p + 1)) {
            entries.add(switch (u8(p)) {
                case 0 -> "lapic uid=" + u8(p + 2) + " id=" + u8(p + 3) + " flags=" + u32(p + 4);
                case 1 -> "ioapic id=" + u8(p + 2) + " addr=" + Integer.toHexString(u32(p + 4)) + " gsi=" + u32(p + 8);
                case 2 -> "iso bus=" + u8(p + 2) + " irq=" + u8(p + 3) + " gsi=" + u32(p + 4) + " flags=" + u16(p + 8);
                case 4 -> "nmi uid=" + Integer.toHexString(u8(p + 2)) + " flags=" + u16(p + 3) + " lint=" + u8(p + 5);
                default -> "type " + u8(p);
            });
        }
        assertThat(entries).containsExactly(
                "lapic uid=0 id=0 flags=1",
                "ioapic id=0 addr=fec00000 gsi=0",
                "iso bus=0 irq=0 gsi=2 flags=0",
                "iso bus=0 irq=9 gsi=9 flags=13",
                "nmi uid=ff flags=0 lint=1");
    }

    /** MP 1.4, 4: the floating pointer in 0xF0000-0xFFFFF on a 16-byte boundary, with a byte sum of 0. */
    private int findMpFloatingPointer() {
        return scan(0xF0000, "_MP_", a -> 16 * u8(a + 8));
    }

    @Test
    void mpFloatingPointerLeadsToAValidConfigurationTable() {
        // MP 1.4, 4.1 Table 4-1 and 4.2 Table 4-2
        int floating = findMpFloatingPointer();
        assertThat(u8(floating + 8)).as("length in paragraphs").isEqualTo(1);
        assertThat(u8(floating + 9)).as("spec revision 1.4").isEqualTo(4);
        assertThat(u8(floating + 11)).as("feature byte 1: a configuration table is present").isZero();
        int config = u32(floating + 4);
        assertThat(ascii(config, 4)).isEqualTo("PCMP");
        assertThat(byteSum(config, u16(config + 4))).isZero();
        assertThat(u8(config + 6)).isEqualTo(4);
        assertThat(u32(config + 36)).isEqualTo(0xFEE0_0000);
    }

    @Test
    void mpConfigurationTableListsProcessorBusesIoApicAndIsaInterrupts() {
        // MP 1.4, 4.3: entries of 20 bytes (processor) and 8 bytes (the rest), as many as the header says
        int config = u32(findMpFloatingPointer() + 4);
        int count = u16(config + 34);
        List<String> entries = new ArrayList<>();
        int p = config + 44;
        for (int i = 0; i < count; i++) {
            switch (u8(p)) {
                case 0 -> {
                    entries.add("cpu id=" + u8(p + 1) + " ver=" + Integer.toHexString(u8(p + 2)) + " flags=" + u8(p + 3)
                            + " sig=" + Integer.toHexString(u32(p + 4)) + " features=" + Integer.toHexString(u32(p + 8)));
                    p += 20;
                }
                case 1 -> {
                    entries.add("bus " + u8(p + 1) + " " + ascii(p + 2, 6).trim());
                    p += 8;
                }
                case 2 -> {
                    entries.add("ioapic id=" + u8(p + 1) + " ver=" + Integer.toHexString(u8(p + 2)) + " flags="
                            + u8(p + 3) + " addr=" + Integer.toHexString(u32(p + 4)));
                    p += 8;
                }
                case 3, 4 -> {
                    entries.add((u8(p) == 3 ? "io" : "local") + " type=" + u8(p + 1) + " flags=" + u16(p + 2)
                            + " bus=" + u8(p + 4) + " irq=" + u8(p + 5) + " apic=" + Integer.toHexString(u8(p + 6))
                            + " pin=" + u8(p + 7));
                    p += 8;
                }
                default -> throw new AssertionError("entry type " + u8(p));
            }
        }
        assertThat(p - config).isEqualTo(u16(config + 4));
        assertThat(entries).startsWith(
                "cpu id=0 ver=14 flags=3 sig=633 features=8b3f",
                "bus 0 PCI",
                "bus 1 ISA",
                "ioapic id=0 ver=11 flags=1 addr=fec00000",
                "io type=0 flags=0 bus=1 irq=0 apic=0 pin=2",
                "io type=0 flags=0 bus=1 irq=1 apic=0 pin=1",
                "io type=0 flags=0 bus=1 irq=3 apic=0 pin=3");
        assertThat(entries).contains("io type=0 flags=13 bus=1 irq=9 apic=0 pin=9");
        assertThat(entries).noneMatch(e -> e.contains("bus=1 irq=2 "));
        assertThat(entries).endsWith(
                "io type=0 flags=0 bus=1 irq=15 apic=0 pin=15",
                "local type=3 flags=0 bus=1 irq=0 apic=0 pin=0",
                "local type=1 flags=0 bus=1 irq=0 apic=ff pin=1");
    }

    @Test
    void everythingLiesInTheReservedBiosSegment() {
        FirmwareTables.Layout layout = FirmwareTables.build(SIGNATURE, FEATURES, 128 << 20).layout();
        assertThat(layout.rsdp()).isGreaterThanOrEqualTo(FirmwareTables.AREA_BASE);
        assertThat(layout.end()).isLessThanOrEqualTo(FirmwareTables.AREA_END);
        assertThat(memory.readU8(layout.end())).isZero();
    }

    /** SMBIOS 2.8 (DSP0134) 5.2.1: the OS searches 0xF0000-0xFFFFF on 16-byte boundaries for "_SM_". */
    private int findSmbiosEntryPoint() {
        return scan(0xF0000, "_SM_", a -> u8(a + 5));
    }

    @Test
    void smbiosEntryPointHasBothChecksumsAndDescribesItsTable_dsp0134_5_2_1() {
        int ep = findSmbiosEntryPoint();
        assertThat(u8(ep + 5)).as("entry point length").isEqualTo(0x1F);
        assertThat(u8(ep + 6)).as("major").isEqualTo(2);
        assertThat(u8(ep + 7)).as("minor").isEqualTo(8);
        assertThat(ascii(ep + 0x10, 5)).isEqualTo("_DMI_");
        assertThat(byteSum(ep + 0x10, 15)).as("intermediate checksum").isZero();
        assertThat(u8(ep + 0x1E)).as("BCD revision").isEqualTo(0x28);

        // walk the table as an OS does (6.1.2, 6.1.3): formatted area of the header's length, strings to a double NUL
        int table = u32(ep + 0x18), length = u16(ep + 0x16), count = u16(ep + 0x1C);
        java.util.List<Integer> types = new java.util.ArrayList<>();
        java.util.Map<Integer, Integer> at = new java.util.HashMap<>();
        int largest = 0;
        int a = table;
        for (int n = 0; n < count; n++) {
            int start = a;
            types.add(u8(a));
            at.put(u8(a), a);
            a += u8(a + 1);
            while (u16(a) != 0) {
                a++;
            }
            a += 2;
            largest = Math.max(largest, a - start);
        }
        assertThat(types).containsExactly(0, 1, 4, 16, 17, 32, 127);
        assertThat(a - table).as("the table's length").isEqualTo(length);
        assertThat(u16(ep + 8)).as("maximum structure size").isEqualTo(largest);

        int bios = at.get(0);
        assertThat(u8(bios + 1)).isEqualTo(0x18);
        assertThat(ascii(bios + 0x18, 6)).isEqualTo("hvlab\0"); // string 1, the vendor
        int processor = at.get(4);
        assertThat(u8(processor + 1)).isEqualTo(0x2A);
        assertThat(u8(processor + 6)).as("family: Pentium II").isEqualTo(0x0D);
        assertThat(u32(processor + 8)).isEqualTo(SIGNATURE);
        assertThat(u32(processor + 12)).isEqualTo(FEATURES);
        assertThat(u8(processor + 0x18)).as("populated, enabled").isEqualTo(0x41);
        int array = at.get(16);
        assertThat(u32(array + 7)).as("maximum capacity in KiB").isEqualTo(2 << 10);
        int device = at.get(17);
        assertThat(u16(device + 4)).as("its array's handle").isEqualTo(u16(array + 2));
        assertThat(u16(device + 0x0C)).as("size in MiB").isEqualTo(2);
        assertThat(u8(at.get(127) + 1)).isEqualTo(4);
    }
}

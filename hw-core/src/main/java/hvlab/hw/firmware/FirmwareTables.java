package hvlab.hw.firmware;

import hvlab.hw.device.pci.Piix4PowerManagement;
import hvlab.hw.irq.IsaIrq;
import hvlab.hw.memory.PhysicalMemory;

import java.util.List;

/**
 * The tables a PC's firmware leaves in memory for the operating system, written by the machine before a kernel
 * starts, as SeaBIOS does on QEMU: the ACPI tables, the MP tables and SMBIOS, all in the BIOS segment
 * 0xF0000-0xFFFFF (an OS looks for the RSDP in 0xE0000-0xFFFFF, for the MP floating pointer and the SMBIOS entry
 * point in 0xF0000-0xFFFFF, all on 16-byte boundaries). On a kernel boot nothing else is there: the segment is RAM the memory map marks reserved. A boot
 * from a firmware ROM maps the ROM there instead and gets no tables, as on QEMU with {@code -bios}.
 */
public final class FirmwareTables {
    /** The BIOS segment: a memory map must mark [AREA_BASE, AREA_END) reserved. */
    public static final int AREA_BASE = 0xF0000;
    public static final int AREA_END = 0x10_0000;
    static final int ALIGNMENT = 16;

    public static final int BSP_APIC_ID = 0;
    public static final int IO_APIC_ID = 0;

    /**
     * How ISA IRQs reach the I/O APIC on this board, as the machine wires them: IRQ0 (the PIT) at pin 2, and the
     * SCI on IRQ 9 level-triggered, active high (PCI-style, as the PIIX4 drives it); every other IRQ n at pin n.
     */
    public static final List<AcpiTables.InterruptOverride> INTERRUPT_OVERRIDES = List.of(
            new AcpiTables.InterruptOverride(IsaIrq.PIT, 2, AcpiTables.CONFORMING),
            new AcpiTables.InterruptOverride(Piix4PowerManagement.SCI_IRQ, Piix4PowerManagement.SCI_IRQ,
                    AcpiTables.ACTIVE_HIGH | AcpiTables.LEVEL_TRIGGERED));

    /** Where each structure lies; {@code end} is the first byte after the last. */
    public record Layout(int rsdp, int mpFloatingPointer, int mpConfigTable, int rsdt, int fadt, int facs, int dsdt,
                         int madt, int smbiosEntryPoint, int smbiosTable, int end) {
    }

    /** The tables as bytes of the segment from {@link #AREA_BASE}, and where each one starts. */
    public record Image(Layout layout, byte[] bytes) {
    }

    private FirmwareTables() {
    }

    /**
     * Lays the tables out from the start of the BIOS segment.
     *
     * @param cpuSignature CPUID.1:EAX, for the MP processor entry
     * @param cpuFeatures  CPUID.1:EDX
     * @param ramBytes     the RAM, for SMBIOS's memory device
     */
    public static Image build(int cpuSignature, int cpuFeatures, long ramBytes) {
        byte[] dsdt = AcpiTables.dsdt();
        byte[] facs = AcpiTables.facs();
        byte[] madt = AcpiTables.madt(INTERRUPT_OVERRIDES);
        byte[] mpConfig = MpTable.configTable(cpuSignature, cpuFeatures, INTERRUPT_OVERRIDES);

        int rsdp = AREA_BASE;
        int mpFloating = align(rsdp + AcpiTables.RSDP_LENGTH, ALIGNMENT);
        int mpConfigAt = align(mpFloating + MpTable.FLOATING_POINTER_LENGTH, ALIGNMENT);
        int facsAt = align(mpConfigAt + mpConfig.length, AcpiTables.FACS_ALIGNMENT);
        int dsdtAt = align(facsAt + facs.length, ALIGNMENT);
        int fadtAt = align(dsdtAt + dsdt.length, ALIGNMENT);
        byte[] fadt = AcpiTables.fadt(facsAt, dsdtAt);
        int madtAt = align(fadtAt + fadt.length, ALIGNMENT);
        int rsdtAt = align(madtAt + madt.length, ALIGNMENT);
        byte[] rsdt = AcpiTables.rsdt(List.of(fadtAt, madtAt));
        int smbiosAt = align(rsdtAt + rsdt.length, ALIGNMENT);
        int smbiosTableAt = align(smbiosAt + SmbiosTables.ENTRY_POINT_LENGTH, ALIGNMENT);
        SmbiosTables.Table smbios = SmbiosTables.table(cpuSignature, cpuFeatures, ramBytes);
        int end = smbiosTableAt + smbios.bytes().length;
        if (end > AREA_END) {
            throw new IllegalStateException("firmware tables overflow the BIOS segment: end 0x" + Integer.toHexString(end));
        }

        byte[] image = new byte[end - AREA_BASE];
        put(image, rsdp, AcpiTables.rsdp(rsdtAt));
        put(image, mpFloating, MpTable.floatingPointer(mpConfigAt));
        put(image, mpConfigAt, mpConfig);
        put(image, facsAt, facs);
        put(image, dsdtAt, dsdt);
        put(image, fadtAt, fadt);
        put(image, madtAt, madt);
        put(image, rsdtAt, rsdt);
        put(image, smbiosAt, SmbiosTables.entryPoint(smbios, smbiosTableAt));
        put(image, smbiosTableAt, smbios.bytes());
        return new Image(new Layout(rsdp, mpFloating, mpConfigAt, rsdtAt, fadtAt, facsAt, dsdtAt, madtAt, smbiosAt,
                smbiosTableAt, end), image);
    }

    /** Writes the tables into RAM at {@link #AREA_BASE}; returns where they went. */
    public static Layout install(PhysicalMemory memory, int cpuSignature, int cpuFeatures) {
        Image image = build(cpuSignature, cpuFeatures, memory.ramSize());
        memory.load(AREA_BASE, image.bytes(), 0, image.bytes().length);
        return image.layout();
    }

    private static void put(byte[] image, int address, byte[] table) {
        System.arraycopy(table, 0, image, address - AREA_BASE, table.length);
    }

    private static int align(int address, int alignment) {
        return (address + alignment - 1) & -alignment;
    }
}

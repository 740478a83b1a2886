package hvlab.hw.firmware;

import hvlab.hw.device.acpi.AcpiPmBlock;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.device.cmos.Cmos;
import hvlab.hw.device.i8042.I8042;
import hvlab.hw.device.ioapic.IoApic;
import hvlab.hw.device.pci.Piix4PowerManagement;
import hvlab.hw.device.uart.Uart16550;
import hvlab.hw.irq.IsaIrq;

import java.util.List;

/**
 * The ACPI tables of this PC (ACPI 6.4, chapter 5.2), shaped like those SeaBIOS and QEMU give an i440FX board: an
 * ACPI 1.0 RSDP and RSDT, a revision 1 FADT describing the PIIX4's fixed hardware, the FACS, a MADT with one
 * processor and the I/O APIC, and a DSDT holding the PCI root bridge, the ISA devices and the soft-off package \_S5.
 */
public final class AcpiTables {
    public static final String OEM_ID = "HVLAB";
    public static final String OEM_TABLE_ID = "HVLABPC";
    public static final String CREATOR_ID = "HVLB";
    public static final int HEADER_LENGTH = 36;
    static final int HEADER_CHECKSUM = 9;
    static final int RSDP_LENGTH = 20, RSDP_CHECKSUM = 8;
    static final int FADT_REVISION_1_LENGTH = 116;
    static final int FACS_LENGTH = 64;
    /** FACS must sit on a 64-byte boundary (5.2.10). */
    public static final int FACS_ALIGNMENT = 64;

    // FADT Flags (5.2.9, Table 5.10).
    static final int FADT_WBINVD = 1, FADT_PROC_C1 = 1 << 2, FADT_SLP_BUTTON = 1 << 5;
    /** C2 and C3 entry latencies above 100 and 1000 us say the states are not supported (5.2.9). */
    static final int NO_C2_LATENCY = 0x0FFF, NO_C3_LATENCY = 0x0FFF;
    /** FADT INT_MODEL of ACPI 1.0: 1 = multiple APIC. */
    static final int INT_MODEL_APIC = 1;

    // MADT (5.2.12).
    static final int MADT_PCAT_COMPAT = 1;
    static final int MADT_LOCAL_APIC = 0, MADT_IO_APIC = 1, MADT_INTERRUPT_OVERRIDE = 2, MADT_LOCAL_APIC_NMI = 4;
    static final int MADT_ENABLED = 1;
    static final int ALL_PROCESSORS = 0xFF;
    static final int LINT1 = 1;

    /** A MADT Interrupt Source Override: ISA {@code irq} arrives at {@code gsi} with MPS INTI {@code flags}. */
    public record InterruptOverride(int irq, int gsi, int flags) {
    }

    /** MPS INTI flags (5.2.12.5, Table 5.26): polarity bits 1-0 and trigger mode bits 3-2. */
    public static final int ACTIVE_HIGH = 0b01, LEVEL_TRIGGERED = 0b11 << 2, CONFORMING = 0;

    private AcpiTables() {
    }

    /** The ACPI 1.0 Root System Description Pointer, revision 0, 20 bytes (5.2.5.3). */
    static byte[] rsdp(int rsdtAddress) {
        TableBytes t = new TableBytes().ascii("RSD PTR ", 8).u8(0).ascii(OEM_ID, 6).u8(0).u32(rsdtAddress);
        return t.toArrayWithChecksum(RSDP_CHECKSUM, RSDP_LENGTH);
    }

    /** The Root System Description Table: 32-bit pointers to the other tables but the DSDT and FACS (5.2.7). */
    static byte[] rsdt(List<Integer> tables) {
        TableBytes t = header("RSDT", 1);
        tables.forEach(t::u32);
        return finish(t);
    }

    /** A revision 1 (ACPI 1.0b) Fixed ACPI Description Table, 116 bytes, as QEMU gives a PIIX4 board (5.2.9). */
    static byte[] fadt(int facsAddress, int dsdtAddress) {
        int pmBase = Piix4PowerManagement.PM_BASE;
        TableBytes t = header("FACP", 1)
                .u32(facsAddress)
                .u32(dsdtAddress)
                .u8(INT_MODEL_APIC)
                .u8(0)                                    // reserved in 1.0 (Preferred_PM_Profile later)
                .u16(Piix4PowerManagement.SCI_IRQ)        // SCI_INT
                .u32(Piix4PowerManagement.APM_CONTROL_PORT) // SMI_CMD
                .u8(Piix4PowerManagement.ACPI_ENABLE)
                .u8(Piix4PowerManagement.ACPI_DISABLE)
                .u8(0)                                    // S4BIOS_REQ: no S4BIOS
                .u8(0)                                    // PSTATE_CNT
                .u32(pmBase + AcpiPmBlock.PM1_EVT_OFFSET) // PM1a_EVT_BLK
                .u32(0)                                   // PM1b_EVT_BLK
                .u32(pmBase + AcpiPmBlock.PM1_CNT_OFFSET) // PM1a_CNT_BLK
                .u32(0)                                   // PM1b_CNT_BLK
                .u32(0)                                   // PM2_CNT_BLK
                .u32(pmBase + AcpiPmBlock.PM_TMR_OFFSET)  // PM_TMR_BLK
                .u32(0)                                   // GPE0_BLK: none modelled
                .u32(0)                                   // GPE1_BLK
                .u8(AcpiPmBlock.PM1_EVT_LENGTH)
                .u8(AcpiPmBlock.PM1_CNT_LENGTH)
                .u8(0)                                    // PM2_CNT_LEN
                .u8(AcpiPmBlock.PM_TMR_LENGTH)
                .u8(0)                                    // GPE0_BLK_LEN
                .u8(0)                                    // GPE1_BLK_LEN
                .u8(0)                                    // GPE1_BASE
                .u8(0)                                    // CST_CNT
                .u16(NO_C2_LATENCY)
                .u16(NO_C3_LATENCY)
                .u16(0)                                   // FLUSH_SIZE
                .u16(0)                                   // FLUSH_STRIDE
                .u8(0)                                    // DUTY_OFFSET
                .u8(0)                                    // DUTY_WIDTH
                .u8(0)                                    // DAY_ALRM: no day alarm
                .u8(0)                                    // MON_ALRM: no month alarm
                .u8(Cmos.CENTURY)
                .u16(0)                                   // IAPC_BOOT_ARCH: reserved in revision 1
                .u8(0)                                    // reserved
                .u32(FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON);
        return finish(t);
    }

    /** The Firmware ACPI Control Structure: no waking vector, global lock free (5.2.10). It has no checksum. */
    static byte[] facs() {
        return new TableBytes().ascii("FACS", 4).u32(FACS_LENGTH).zeros(FACS_LENGTH - 8).toArray();
    }

    /** The Multiple APIC Description Table: the BSP's local APIC, the I/O APIC at GSI 0, overrides, LINT1 = NMI. */
    static byte[] madt(List<InterruptOverride> overrides) {
        TableBytes t = header("APIC", 1)
                .u32(LocalApic.DEFAULT_BASE)
                .u32(MADT_PCAT_COMPAT)
                .u8(MADT_LOCAL_APIC).u8(8).u8(0).u8(FirmwareTables.BSP_APIC_ID).u32(MADT_ENABLED)
                .u8(MADT_IO_APIC).u8(12).u8(FirmwareTables.IO_APIC_ID).u8(0).u32(IoApic.DEFAULT_BASE).u32(0);
        for (InterruptOverride o : overrides) {
            t.u8(MADT_INTERRUPT_OVERRIDE).u8(10).u8(0).u8(o.irq()).u32(o.gsi()).u16(o.flags());
        }
        t.u8(MADT_LOCAL_APIC_NMI).u8(6).u8(ALL_PROCESSORS).u16(CONFORMING).u8(LINT1);
        return finish(t);
    }

    /**
     * The Differentiated System Description Table: the PCI root bridge \_SB.PCI0 (so the OS enumerates bus 0 through
     * mechanism #1) and \_S5 with the PIIX4's soft-off SLP_TYP, so the OS can power the machine off (7.4.2).
     */
    static byte[] dsdt() {
        int softOff = AcpiPmBlock.SLP_TYP_SOFT_OFF;
        byte[] aml = Aml.concat(
                Aml.scope("\\_SB",
                        Aml.device("PCI0",
                                Aml.name("_HID", Aml.integer(Aml.eisaId("PNP0A03"))),
                                Aml.name("_ADR", Aml.integer(0)),
                                Aml.name("_UID", Aml.integer(0)),
                                isaBridge())),
                Aml.name("\\_S5", Aml.pkg(Aml.integer(softOff), Aml.integer(softOff), Aml.integer(0),
                        Aml.integer(0))));
        return finish(header("DSDT", 1).bytes(aml));
    }

    /**
     * The PIIX3 ISA bridge (00:01.0, so _ADR 0x00010000) with the PC/AT devices on its bus, each with the ports and
     * IRQ it decodes (_CRS), so that an OS finds them by ACPI PnP as it does on QEMU: the RTC (PNP0B00), the i8042
     * keyboard (PNP0303) and mouse (PNP0F13) ports, and COM1 (PNP0501).
     */
    private static byte[] isaBridge() {
        return Aml.device("ISA",
                Aml.name("_ADR", Aml.integer(0x0001_0000)),
                Aml.device("RTC",
                        Aml.name("_HID", Aml.integer(Aml.eisaId("PNP0B00"))),
                        Aml.name("_CRS", Aml.resourceTemplate(Aml.io(Cmos.PORT, 1, Cmos.WINDOW),
                                Aml.irqNoFlags(IsaIrq.RTC)))),
                Aml.device("KBD",
                        Aml.name("_HID", Aml.integer(Aml.eisaId("PNP0303"))),
                        Aml.name("_CRS", Aml.resourceTemplate(Aml.io(I8042.DATA_PORT, 1, 1),
                                Aml.io(I8042.COMMAND_PORT, 1, 1), Aml.irqNoFlags(IsaIrq.KEYBOARD)))),
                Aml.device("MOU",
                        Aml.name("_HID", Aml.integer(Aml.eisaId("PNP0F13"))),
                        Aml.name("_CRS", Aml.resourceTemplate(Aml.irqNoFlags(IsaIrq.MOUSE)))),
                Aml.device("COM1",
                        Aml.name("_HID", Aml.integer(Aml.eisaId("PNP0501"))),
                        Aml.name("_UID", Aml.integer(1)),
                        Aml.name("_CRS", Aml.resourceTemplate(Aml.io(Uart16550.COM1_PORT, 1, Uart16550.WINDOW),
                                Aml.irqNoFlags(IsaIrq.COM1)))));
    }

    /** The 36-byte System Description Table Header (5.2.6); length and checksum are filled by {@link #finish}. */
    private static TableBytes header(String signature, int revision) {
        return new TableBytes().ascii(signature, 4).u32(0).u8(revision).u8(0).ascii(OEM_ID, 6)
                .ascii(OEM_TABLE_ID, 8).u32(1).ascii(CREATOR_ID, 4).u32(1);
    }

    private static byte[] finish(TableBytes t) {
        t.putU32(4, t.size());
        return t.toArrayWithChecksum(HEADER_CHECKSUM, t.size());
    }
}

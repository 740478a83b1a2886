package hvlab.hw.firmware;

import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.device.ioapic.IoApic;
import hvlab.hw.irq.IsaIrq;

import java.util.List;

/**
 * The Intel MultiProcessor Specification 1.4 tables (chapter 4): the MP floating pointer structure and a base MP
 * configuration table listing the one processor, the PCI and ISA buses, the I/O APIC, where each ISA IRQ arrives
 * at it, and the local APIC's LINT0 (ExtINT from the 8259A) and LINT1 (NMI). The content follows SeaBIOS's table
 * for a one-CPU QEMU PC. An OS uses it when it does not use ACPI.
 */
public final class MpTable {
    static final int FLOATING_POINTER_LENGTH = 16, FLOATING_CHECKSUM = 10;
    static final int HEADER_LENGTH = 44, HEADER_CHECKSUM = 7;
    static final int SPEC_REVISION_1_4 = 4;
    static final String OEM_ID = "HVLAB", PRODUCT_ID = "PC";

    // Entry types (4.3).
    static final int PROCESSOR = 0, BUS = 1, IO_APIC = 2, IO_INTERRUPT = 3, LOCAL_INTERRUPT = 4;
    static final int CPU_ENABLED = 1, CPU_BOOTSTRAP = 2, IO_APIC_ENABLED = 1;
    static final int INT = 0, NMI = 1, EXT_INT = 3;
    static final int PCI_BUS_ID = 0, ISA_BUS_ID = 1;
    static final int ALL_LOCAL_APICS = 0xFF;
    static final int ISA_IRQS = 16;

    private MpTable() {
    }

    /** The floating pointer (4.1): "_MP_", the configuration table's address, length 1 paragraph, revision 1.4. */
    static byte[] floatingPointer(int configTableAddress) {
        return new TableBytes().ascii("_MP_", 4).u32(configTableAddress).u8(1).u8(SPEC_REVISION_1_4).u8(0)
                .zeros(5).toArrayWithChecksum(FLOATING_CHECKSUM, FLOATING_POINTER_LENGTH);
    }

    /**
     * The base configuration table (4.2, 4.3). ISA IRQ n goes to I/O APIC pin n but for the overrides (IRQ0 to pin 2);
     * IRQ 2, the cascade, has no entry.
     *
     * @param cpuSignature CPUID.1:EAX of the processor
     * @param cpuFeatures  CPUID.1:EDX
     */
    static byte[] configTable(int cpuSignature, int cpuFeatures, List<AcpiTables.InterruptOverride> overrides) {
        TableBytes t = new TableBytes().ascii("PCMP", 4).u16(0).u8(SPEC_REVISION_1_4).u8(0).ascii(OEM_ID, 8)
                .ascii(PRODUCT_ID, 12).u32(0).u16(0).u16(0).u32(LocalApic.DEFAULT_BASE).u16(0).u8(0).u8(0);
        int entries = 0;
        t.u8(PROCESSOR).u8(FirmwareTables.BSP_APIC_ID).u8(LocalApic.VERSION & 0xFF)
                .u8(CPU_ENABLED | CPU_BOOTSTRAP).u32(cpuSignature).u32(cpuFeatures).zeros(8);
        entries++;
        t.u8(BUS).u8(PCI_BUS_ID).ascii("PCI", 6);
        t.u8(BUS).u8(ISA_BUS_ID).ascii("ISA", 6);
        entries += 2;
        t.u8(IO_APIC).u8(FirmwareTables.IO_APIC_ID).u8(IoApic.VERSION & 0xFF).u8(IO_APIC_ENABLED)
                .u32(IoApic.DEFAULT_BASE);
        entries++;
        for (int irq = 0; irq < ISA_IRQS; irq++) {
            if (irq == IsaIrq.CASCADE) {
                continue;
            }
            int pin = irq;
            int flags = AcpiTables.CONFORMING;
            for (AcpiTables.InterruptOverride o : overrides) {
                if (o.irq() == irq) {
                    pin = o.gsi();
                    flags = o.flags();
                }
            }
            t.u8(IO_INTERRUPT).u8(INT).u16(flags).u8(ISA_BUS_ID).u8(irq).u8(FirmwareTables.IO_APIC_ID).u8(pin);
            entries++;
        }
        t.u8(LOCAL_INTERRUPT).u8(EXT_INT).u16(AcpiTables.CONFORMING).u8(ISA_BUS_ID).u8(0)
                .u8(FirmwareTables.BSP_APIC_ID).u8(0);
        t.u8(LOCAL_INTERRUPT).u8(NMI).u16(AcpiTables.CONFORMING).u8(ISA_BUS_ID).u8(0).u8(ALL_LOCAL_APICS).u8(1);
        entries += 2;
        t.putU16(4, t.size());
        t.putU16(34, entries);
        return t.toArrayWithChecksum(HEADER_CHECKSUM, t.size());
    }
}

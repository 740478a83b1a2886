package hvlab.hw.machine;

import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.acpi.AcpiPmBlock;
import hvlab.hw.device.pci.PciHost;
import hvlab.hw.device.pci.Piix3IsaBridge;
import hvlab.hw.device.pci.Piix4PowerManagement;
import hvlab.hw.device.pci.Pmc82441fx;

/**
 * The 440FX chipset's PCI bus 0, as QEMU's PC has it: the 82441FX host bridge at 00:00.0, the PIIX3 ISA bridge at
 * 00:01.0 and the PIIX4's power management at 00:01.3, with the ACPI registers at 0x600 and the SCI on IRQ 9. The
 * machine has one; a VMM gives each VM one of its own, whose soft off ends that VM.
 */
public final class PcChipset {
    private final PciHost pci = new PciHost();
    private final Piix3IsaBridge isaBridge;
    private final AcpiPmBlock acpiPm;

    /**
     * @param resetControl what a write to the PIIX3's reset control register does (see {@link #mapResetControl})
     * @param softOff      what ACPI S5 does
     */
    public PcChipset(PcDevices pc, VirtualClock clock, PortBus ports, Runnable resetControl, Runnable softOff) {
        isaBridge = new Piix3IsaBridge(resetControl);
        acpiPm = new AcpiPmBlock(pc.irq(Piix4PowerManagement.SCI_IRQ), clock, softOff);
        Piix4PowerManagement powerManagement = new Piix4PowerManagement(acpiPm);
        pci.attach(0, 0, new Pmc82441fx());
        pci.attach(1, 0, isaBridge);
        pci.attach(1, 3, powerManagement);
        ports.map(PciHost.CONFIG_ADDRESS_PORT, 1, "PCI CONFIG_ADDRESS", pci.configAddressPort());
        ports.map(PciHost.CONFIG_DATA_PORT, PciHost.CONFIG_DATA_WINDOW, "PCI CONFIG_DATA", pci.configDataPort());
        ports.map(Piix4PowerManagement.PM_BASE, AcpiPmBlock.WINDOW, "PIIX4 ACPI registers", powerManagement.pmIo());
        ports.map(Piix4PowerManagement.APM_CONTROL_PORT, Piix4PowerManagement.APM_WINDOW, "PIIX4 APMC/APMS",
                powerManagement.apmPorts());
    }

    /** Maps the PIIX3's reset control register (0xCF9): on a machine whose reset it may be. */
    public void mapResetControl(PortBus ports) {
        ports.map(Piix3IsaBridge.RESET_CONTROL_PORT, 1, "PIIX3 reset control", isaBridge.resetControlPort());
    }

    public PciHost pci() {
        return pci;
    }

    public AcpiPmBlock acpiPm() {
        return acpiPm;
    }
}

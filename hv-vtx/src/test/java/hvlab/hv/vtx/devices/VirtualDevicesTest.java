package hvlab.hv.vtx.devices;

import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.stats.Counters;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The VM's own PC, driven through its registers alone as the hypervisor's emulation drives it. */
class VirtualDevicesTest {
    private final VirtualClock clock = new VirtualClock();
    private final Counters counters = new Counters();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final int[] exitValue = {-1};
    private final VirtualDevices devices = new VirtualDevices(clock, 124 << 20, console::write,
            value -> exitValue[0] = value, () -> exitValue[0] = SOFT_OFF, counters);
    private static final int SOFT_OFF = -2;

    @Test
    void thePitsIrq0ReachesTheCpuAsThe8259sVectorThroughLint0InVirtualWireMode() { // MP spec 3.6.2.2
        for (int[] write : new int[][] {{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xFE},
            {0x43, 0x34}, {0x40, 100}, {0x40, 0}}) {
            devices.out(write[0], 1, write[1]);
        }
        assertThat(devices.interruptPending()).isFalse();
        assertThat(devices.nextEventNanos()).isLessThan(Long.MAX_VALUE);
        devices.advanceTo(devices.nextEventNanos());
        assertThat(devices.interruptPending()).isTrue();
        assertThat(devices.acknowledge()).isEqualTo(0x20);
        assertThat(devices.interruptPending()).as("IRQ0 in service until EOI").isFalse();
    }

    @Test
    void aPortNoVirtualDeviceDecodesReadsAllOnesAndIsCountedAsNothingThere() {
        assertThat(devices.in(0x2F8, 1)).isEqualTo(0xFF); // no COM2
        devices.out(0xCF9, 1, 6); // the PIIX3's reset control is not the VM's: it cannot reset the machine
        assertThat(counters.snapshot()).contains(new Counters.CounterValue(VirtualDevices.FAMILY,
                "nothing there read", 1), new Counters.CounterValue(VirtualDevices.FAMILY, "nothing there write", 1));
    }

    @Test
    void theVmsPciBusShowsThe440fxHostBridgeAndItsAcpiSoftOffEndsTheVm() { // PCI 2.1 3.2.2.3.2; ACPI 6.4 4.8.3.2
        devices.out(0xCF8, 4, 0x80000000); // bus 0, device 0, function 0, register 0
        assertThat(devices.in(0xCFC, 4)).as("82441FX: Intel 8086h, device 1237h").isEqualTo(0x12378086);
        assertThat(exitValue[0]).isEqualTo(-1);
        devices.out(0x604, 2, 1 << 13); // PM1_CNT: SLP_EN with SLP_TYP 0, the PIIX4's soft off
        assertThat(exitValue[0]).isEqualTo(SOFT_OFF);
    }

    @Test
    void com1TransmitsToTheHypervisorsConsoleAndDebugExitHandsOverTheValue() {
        devices.out(0x3F8, 1, 'A');
        devices.out(0xF4, 1, 0x11);
        assertThat(console.toString()).isEqualTo("A");
        assertThat(exitValue[0]).isEqualTo(0x11);
    }

    @Test
    void theApicPagesAreTheVirtualApicsAndOnlyThey() {
        assertThat(VirtualDevices.isDevicePage(0xFEE00FFC)).isTrue();
        assertThat(VirtualDevices.isDevicePage(0xFEC00010)).isTrue();
        assertThat(VirtualDevices.isDevicePage(0xFEE01000)).isFalse();
        assertThat(devices.read((int) LocalApic.DEFAULT_BASE + LocalApic.VERSION_REGISTER, 4))
                .isEqualTo(LocalApic.VERSION);
        devices.write((int) LocalApic.DEFAULT_BASE + LocalApic.TPR, 4, 0x20);
        assertThat(devices.localApic().taskPriority()).isEqualTo(0x20);
    }
}

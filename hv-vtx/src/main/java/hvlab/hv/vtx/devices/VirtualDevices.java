package hvlab.hv.vtx.devices;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.device.debugexit.DebugExit;
import hvlab.hw.device.ioapic.IoApic;
import hvlab.hw.device.uart.Uart16550;
import hvlab.hw.device.post.PostCodePort;
import hvlab.hw.machine.PcChipset;
import hvlab.hw.machine.PcDevices;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;

import java.util.HashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The VM's own PC devices, owned by the hypervisor: the hw-core models a machine is built of (8259A pair, 8254 PIT,
 * 16550A COM1, MC146818 CMOS/RTC, isa-debug-exit, local APIC, I/O APIC, and the 440FX chipset's PCI bus with the
 * PIIX4's ACPI registers, whose soft off ends the VM; not the PIIX3's reset control register), a second set wired as
 * the board wires the first ({@link PcDevices}, {@link PcChipset}), on the hypervisor's own port bus and MMIO map, driven by the machine's
 * virtual clock. The guest reaches them only through exits the hypervisor emulates here; their interrupts end in
 * the virtual local APIC, which the hypervisor asks for a vector to inject before each VM entry.
 */
public final class VirtualDevices {
    /** Counter family: each emulated access, by device (and "nothing" for an address no virtual device decodes). */
    public static final String FAMILY = "emulated device accesses";
    private static final String NOTHING = "nothing there";

    private final VirtualClock clock;
    private final PortBus ports = new PortBus();
    private final MmioBus mmio = new MmioBus();
    private final LocalApic localApic;
    private final Uart16550 uart;
    private final Clocked[] timers;
    private final Counters counters;
    private final Map<String, Counter[]> accessCounters = new HashMap<>();

    /**
     * @param guestRamBytes the RAM the guest owns, which the virtual CMOS reports
     * @param transmit      takes each byte the guest's COM1 sends (the hypervisor's console)
     * @param debugExit     takes the value the guest writes to isa-debug-exit
     * @param softOff       what the guest's ACPI soft off (S5) does
     */
    public VirtualDevices(VirtualClock clock, int guestRamBytes, IntConsumer transmit, IntConsumer debugExit,
            Runnable softOff, Counters counters) {
        this.clock = clock;
        this.counters = counters;
        PcDevices pc = new PcDevices(clock, ports, mmio, () -> { }, transmit, guestRamBytes);
        localApic = pc.localApic();
        uart = pc.uart();
        ports.map(PostCodePort.PORT, 1, "POST code port", new PostCodePort());
        ports.map(DebugExit.DEFAULT_IOBASE, DebugExit.IOSIZE, "isa-debug-exit", new DebugExit(debugExit));
        PcChipset chipset = new PcChipset(pc, clock, ports, () -> { }, softOff);
        timers = new Clocked[] {pc.pit(), pc.cmos(), localApic, uart, chipset.acpiPm()};
        localApic.enterVirtualWireMode(); // as the firmware before a Multiboot loader leaves it
    }

    /** Whether the guest-physical page holding {@code address} is a virtual device's (the APICs' windows). */
    public static boolean isDevicePage(int address) {
        int page = address & ~0xFFF;
        return page == (int) LocalApic.DEFAULT_BASE || page == (int) IoApic.DEFAULT_BASE;
    }

    // ---- the guest's accesses, as the hypervisor emulates them

    public int in(int port, int size) {
        count(ports.isClaimed(port) ? ports.nameAt(port) : NOTHING, false);
        return ports.read(port, size);
    }

    public void out(int port, int size, int value) {
        count(ports.isClaimed(port) ? ports.nameAt(port) : NOTHING, true);
        ports.write(port, size, value);
    }

    public int read(int guestPhysical, int size) {
        count(mmioName(guestPhysical), false);
        return mmio.read(guestPhysical & 0xFFFFFFFFL, size);
    }

    public void write(int guestPhysical, int size, int value) {
        count(mmioName(guestPhysical), true);
        mmio.write(guestPhysical & 0xFFFFFFFFL, size, value);
    }

    private String mmioName(int guestPhysical) {
        if (!mmio.claims(guestPhysical & 0xFFFFFFFFL)) {
            return NOTHING;
        }
        return (guestPhysical & ~0xFFF) == (int) LocalApic.DEFAULT_BASE ? "local APIC" : "I/O APIC";
    }

    private void count(String device, boolean write) {
        Counter[] pair = accessCounters.computeIfAbsent(device, d -> new Counter[] {
            counters.counter(FAMILY, d + " read"), counters.counter(FAMILY, d + " write")});
        pair[write ? 1 : 0].increment();
    }

    // ---- time and interrupts

    /** Brings every virtual timer up to {@code nowNanos}, raising the interrupts that came due. */
    public void advanceTo(long nowNanos) {
        clock.advanceTo(nowNanos);
        for (Clocked timer : timers) {
            if (timer.nextEventNanos() <= nowNanos) {
                timer.advanceTo(nowNanos);
            }
        }
    }

    /** Virtual time of the next virtual timer event, or {@link Clocked#NO_EVENT}. */
    public long nextEventNanos() {
        long next = Clocked.NO_EVENT;
        for (Clocked timer : timers) {
            next = Math.min(next, timer.nextEventNanos());
        }
        return next;
    }

    /** Whether the virtual local APIC offers the guest's CPU an interrupt (its own or the 8259A's through LINT0). */
    public boolean interruptPending() {
        return localApic.hasPendingInterrupt();
    }

    /** The INTA cycle on the virtual local APIC: the vector to inject. */
    public int acknowledge() {
        return localApic.acknowledge() & 0xFF;
    }

    /** The virtual local APIC, whose IA32_APIC_BASE the guest's RDMSR and WRMSR reach. */
    public LocalApic localApic() {
        return localApic;
    }

    /** A byte of console input for the guest's COM1; false when its receiver could not take it. */
    public boolean receive(int value) {
        return uart.receive(value);
    }

    /** Room in the guest's COM1 receive FIFO. */
    public int receiveRoom() {
        return uart.receiveRoom();
    }
}

package hvlab.hw.machine;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.boot.BootState;
import hvlab.hw.boot.FirmwareImage;
import hvlab.hw.boot.LinuxLoader;
import hvlab.hw.boot.MultibootLoader;
import hvlab.hw.clock.Clocked;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.CpuCounters;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.cpu.Exceptions;
import hvlab.hw.device.uart.Uart16550;
import hvlab.hw.firmware.FirmwareTables;
import hvlab.hw.stats.Counters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * A PC: one IA-32 CPU, RAM, the chipset's buses and the devices of a PC/AT with APICs, driven by a virtual
 * clock. {@link #run(long)} executes the guest until it exits through the debug-exit port, powers off, resets,
 * shuts down or runs out of instructions; two runs of the same guest with the same input are identical.
 */
public final class Machine implements AutoCloseable {
    /** Longest stretch the CPU runs before the machine looks at timers and input again. */
    private static final long SLICE_INSTRUCTIONS = 200_000;

    private final Platform platform;
    private final Cpu cpu;
    /** An array, not a List: the run loop walks it every slice, and an indexed loop allocates no iterator. */
    private final Clocked[] timers;
    private final Counters counters = new Counters();
    private final ConcurrentLinkedDeque<byte[]> pendingInput = new ConcurrentLinkedDeque<>();
    private RunOutcome outcome;

    Machine(Platform platform) {
        this.platform = platform;
        this.cpu = platform.cpu();
        this.timers = platform.timers().toArray(Clocked[]::new);
        platform.onExit(value -> end(new RunOutcome.Exited(value)));
        platform.onReset(source -> end(new RunOutcome.Reset(source)));
        platform.onShutdown(reason -> end(new RunOutcome.Shutdown(reason)));
        platform.onPowerOff(source -> end(new RunOutcome.PowerOff(source)));
    }

    public static MachineBuilder builder() {
        return new MachineBuilder();
    }

    public Cpu cpu() {
        return cpu;
    }

    public Platform platform() {
        return platform;
    }

    /** What a hypervisor's probe sees of this machine. */
    public hvlab.spi.MachineDescription description() {
        return new hvlab.spi.MachineDescription(platform.memory().ramSize(), 1);
    }

    /** The machine's counter registry: plugins and devices count here. */
    public Counters counters() {
        return counters;
    }

    /** Every count of this run: the CPU's architectural events, then the registry's. */
    public List<Counters.CounterValue> statistics() {
        List<Counters.CounterValue> values = new ArrayList<>();
        CpuCounters cpuCounts = cpu.counters();
        values.add(new Counters.CounterValue(Counters.INSTRUCTIONS, "retired", cpu.retiredInstructions()));
        for (int vector = 0; vector < 32; vector++) {
            addIfCounted(values, Counters.EXCEPTIONS, Exceptions.name(vector), cpuCounts.exceptions(vector));
        }
        for (int vector = 0; vector < 256; vector++) {
            addIfCounted(values, Counters.INTERRUPTS, "software 0x" + Integer.toHexString(vector),
                    cpuCounts.softwareInterrupts(vector));
            addIfCounted(values, Counters.INTERRUPTS, "external 0x" + Integer.toHexString(vector),
                    cpuCounts.interrupts(vector));
        }
        addIfCounted(values, Counters.IO, "port accesses", cpuCounts.ioInstructions());
        addIfCounted(values, Counters.TLB, "flushes", cpuCounts.tlbFlushes());
        addIfCounted(values, Counters.TLB, "page invalidations", cpuCounts.tlbPageInvalidations());
        addIfCounted(values, Counters.TLB, "page walks", cpuCounts.pageWalks());
        addIfCounted(values, Counters.TLB, "EPT walks", cpuCounts.eptWalks());
        values.addAll(counters.snapshot());
        return values;
    }

    private static void addIfCounted(List<Counters.CounterValue> values, String family, String key, long count) {
        if (count != 0) {
            values.add(new Counters.CounterValue(family, key, count));
        }
    }

    /** Boots a guest image the way its kind asks: a Multiboot loader's hand-over, or the reset vector. */
    public void boot(hvlab.spi.GuestImage image) throws BootImageException {
        boot(image, platform.memory().ramSize());
    }

    /**
     * As {@link #boot(hvlab.spi.GuestImage)}, a kernel told of only the first {@code guestRamBytes} of RAM: a
     * hypervisor's guest, which never learns of the memory it must not use.
     */
    public void boot(hvlab.spi.GuestImage image, int guestRamBytes) throws BootImageException {
        switch (image) {
            case hvlab.spi.GuestImage.Multiboot kernel -> bootMultiboot(kernel.name(), kernel.image(),
                    kernel.commandLine(), guestRamBytes);
            case hvlab.spi.GuestImage.LinuxKernel linux -> bootLinux(linux.name(), linux.image(), linux.initrd(),
                    linux.commandLine(), guestRamBytes);
            case hvlab.spi.GuestImage.Firmware rom -> bootFirmware(rom.name(), rom.image());
        }
    }

    /** Loads a Multiboot kernel and leaves the CPU at its entry point, as a Multiboot loader does. */
    public void bootMultiboot(String imageName, byte[] image, String commandLine) throws BootImageException {
        bootMultiboot(imageName, image, commandLine, platform.memory().ramSize());
    }

    private void bootMultiboot(String imageName, byte[] image, String commandLine, int ramBytes)
            throws BootImageException {
        BootState boot = MultibootLoader.load(platform.memory(), imageName, image, commandLine, List.of(), ramBytes);
        installFirmwareTables();
        platform.memory().setA20(boot.a20Enabled());
        platform.localApic().enterVirtualWireMode(); // what the firmware before a Multiboot loader leaves behind
        cpu.enterFlatProtectedMode(boot.eip(), boot.eax(), boot.ebx());
    }

    /**
     * Writes the ACPI and MP tables into the BIOS segment ({@link FirmwareTables#AREA_BASE} up), as the firmware
     * before a kernel loader leaves them; a kernel boot calls this, a firmware ROM boot does not.
     */
    public FirmwareTables.Layout installFirmwareTables() {
        int[] cpuid = cpu.cpuid(1);
        return FirmwareTables.install(platform.memory(), cpuid[0], cpuid[3]);
    }

    /** Loads a Linux bzImage and its initrd (null for none) and enters it by the 32-bit boot protocol. */
    public void bootLinux(String imageName, byte[] image, byte[] initrd, String commandLine) throws BootImageException {
        bootLinux(imageName, image, initrd, commandLine, platform.memory().ramSize());
    }

    private void bootLinux(String imageName, byte[] image, byte[] initrd, String commandLine, int ramBytes)
            throws BootImageException {
        BootState boot = LinuxLoader.load(platform.memory(), imageName, image, initrd, commandLine, ramBytes);
        installFirmwareTables();
        platform.memory().setA20(boot.a20Enabled());
        platform.localApic().enterVirtualWireMode(); // as the firmware before a boot loader leaves it
        enter(boot);
    }

    /**
     * Puts the CPU in the state a loader describes, through the CPU's state exchange: the general registers the
     * state names, the others zero; the segment registers' hidden caches as the loader's GDT describes them.
     */
    private void enter(BootState boot) {
        CpuState now = cpu.captureState();
        CpuState.GeneralRegisters general = new CpuState.GeneralRegisters(boot.eax(), 0, 0, boot.ebx(), 0, 0,
                boot.esi(), 0, boot.eip(), boot.eflags());
        List<CpuState.SegmentRegister> segments = new ArrayList<>();
        for (int s = 0; s < 6; s++) {
            BootState.Segment segment = s == Cpu.CS ? boot.code() : boot.data();
            segments.add(new CpuState.SegmentRegister(segment.selector(), segment.base(), segment.limit(),
                    segment.attributes()));
        }
        CpuState.SystemRegisters system = now.system();
        CpuState.TableRegister gdt = boot.gdt() == null ? system.gdt()
                : new CpuState.TableRegister(boot.gdt().base(), boot.gdt().limit());
        system = new CpuState.SystemRegisters(boot.cr0(), 0, 0, 0, gdt, system.idt(), system.ldt(), system.tr(),
                0, false);
        cpu.restoreState(new CpuState(general, List.copyOf(segments), system, now.fpu(), now.retiredInstructions()));
    }

    /** Maps a firmware ROM; the CPU starts at the reset vector F000:FFF0 (SDM Vol. 3A, 9.1.4). */
    public void bootFirmware(String imageName, byte[] image) throws BootImageException {
        FirmwareImage.map(platform.memory(), imageName, image);
        cpu.reset();
    }

    /** Queues bytes for COM1's receiver; safe from any thread. They arrive at the next slice boundary. */
    public void offerSerialInput(byte[] bytes) {
        pendingInput.add(bytes.clone());
    }

    /** Runs the guest until it ends or {@code maxInstructions} have retired. */
    public RunOutcome run(long maxInstructions) {
        outcome = null;
        long limit = saturatedAdd(cpu.retiredInstructions(), maxInstructions);
        while (outcome == null) {
            deliverInput();
            fireTimers();
            if (outcome != null) {
                break;
            }
            long retired = cpu.retiredInstructions();
            if (retired >= limit) {
                return new RunOutcome.InstructionLimit(retired);
            }
            if (cpu.isHalted()) {
                cpu.run(1); // wakes the CPU if an interrupt is deliverable
                if (cpu.isHalted() && !skipToNextTimer()) {
                    return new RunOutcome.HaltedForever(cpu.eip());
                }
                continue;
            }
            long untilTimer = nextTimerEvent() - cpu.nanos();
            long budget = Math.max(1, Math.min(Math.min(untilTimer, SLICE_INSTRUCTIONS), limit - retired));
            cpu.run(budget);
        }
        return outcome;
    }

    private void end(RunOutcome result) {
        if (outcome == null) {
            outcome = result;
        }
        cpu.requestStop();
    }

    /**
     * Feeds queued input to COM1 as a terminal with RTS/CTS flow control sends: only while the UART asserts RTS (so
     * nothing typed ahead reaches a port no driver has opened yet, where the driver's FIFO reset would drop it), and
     * no more than the receiver has room for (never an overrun). The rest waits for the next slice.
     */
    private void deliverInput() {
        Uart16550 uart = platform.uart();
        byte[] bytes;
        while (uart.requestToSend() && uart.receiveRoom() > 0 && (bytes = pendingInput.pollFirst()) != null) {
            int offered = Math.min(bytes.length, uart.receiveRoom());
            int taken = uart.receive(offered == bytes.length ? bytes : java.util.Arrays.copyOf(bytes, offered));
            if (taken > 0) {
                cpu.signalInterrupt();
            }
            if (taken < bytes.length) {
                pendingInput.offerFirst(java.util.Arrays.copyOfRange(bytes, taken, bytes.length));
                return;
            }
        }
    }

    private void fireTimers() {
        long now = cpu.nanos();
        platform.clock().advanceTo(now);
        for (int i = 0; i < timers.length; i++) {
            Clocked timer = timers[i];
            if (timer.nextEventNanos() <= now) {
                timer.advanceTo(now);
                cpu.signalInterrupt();
            }
        }
    }

    private long nextTimerEvent() {
        long next = Clocked.NO_EVENT;
        for (int i = 0; i < timers.length; i++) {
            Clocked timer = timers[i];
            next = Math.min(next, timer.nextEventNanos());
        }
        return next;
    }

    /** While halted with interrupts on, time jumps to the next timer event; false when nothing can wake the CPU. */
    private boolean skipToNextTimer() {
        long selfWake = cpu.selfWakeNanos(); // a VMX guest's preemption timer (SDM Vol. 3C 25.5.1)
        if (!cpu.interruptCanWake()) {
            if (selfWake == Long.MAX_VALUE) {
                return false;
            }
            cpu.skipTimeTo(selfWake);
            return true;
        }
        long next = Math.min(nextTimerEvent(), selfWake);
        if (next == Clocked.NO_EVENT) {
            return !pendingInput.isEmpty() && platform.uart().requestToSend();
        }
        cpu.skipTimeTo(next);
        return true;
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < a ? Long.MAX_VALUE : sum;
    }

    @Override
    public void close() {
        platform.close();
    }
}

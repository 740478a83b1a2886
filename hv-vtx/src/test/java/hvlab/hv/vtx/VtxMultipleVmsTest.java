package hvlab.hv.vtx;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Several VMs under one vtx (issue 7): each has its own VMCS, RAM range, virtual devices and console prefix, and
 * they share the CPU round robin. A VM prints beside another what it prints alone, and a hostile or crashing VM
 * leaves the other unharmed: its exits are counted in its own family, and it ends alone.
 */
class VtxMultipleVmsTest {
    private static final int RAM = 128 << 20;
    private static final long BUDGET = 4_000_000_000L;

    record Run(String console, RunOutcome outcome, List<Counters.CounterValue> statistics) {
        /** The lines of VM {@code id}, without their prefix. */
        String linesOf(int id) {
            String prefix = "(d" + id + ") ";
            return console.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()))
                    .collect(Collectors.joining("\n", "", "\n"));
        }

        long count(String family, String key) {
            return statistics.stream().filter(v -> v.family().equals(family) && v.key().equals(key))
                    .mapToLong(Counters.CounterValue::value).sum();
        }
    }

    static Run run(MemoryMode mode, int ram, GuestImage... images) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(ram).serialOutput(console::write).build();
             Hypervisor vtx = new VtxProvider(mode).create(new MachineHostContext(machine, machine.description(),
                     System.getLogger("vtx")))) {
            vtx.boot(Arrays.asList(images));
            RunOutcome outcome = vtx.run(BUDGET);
            return new Run(console.toString(StandardCharsets.ISO_8859_1), outcome, machine.statistics());
        }
    }

    static GuestImage lab(String name) {
        LabGuest guest = LabGuests.find(name).orElseThrow();
        return new GuestImage.Multiboot("lab.elf", guest.kernelImage(), guest.commandLine());
    }

    static Stream<Arguments> workloadsInBothModes() {
        return Stream.of(MemoryMode.values()).flatMap(mode -> Stream.of("hello", "syscall", "pgfault", "forkwait",
                "in").map(name -> Arguments.of(mode, name)));
    }

    /** Each VM's lines are those it prints alone (its own RAM, devices and console); the run ends as d1's. */
    @ParameterizedTest(name = "{0} {1} beside hello")
    @MethodSource("workloadsInBothModes")
    void aWorkloadBesideAnotherVmPrintsWhatItPrintsAlone(MemoryMode mode, String name) throws BootImageException {
        Run alone = run(mode, RAM, lab(name)), helloAlone = run(mode, RAM, lab("hello"));
        Run both = run(mode, RAM, lab(name), lab("hello"));

        assertThat(LabGuests.maskTimeDependent(both.linesOf(1)))
                .isEqualTo(LabGuests.maskTimeDependent(alone.console()));
        assertThat(LabGuests.maskTimeDependent(both.linesOf(2)))
                .isEqualTo(LabGuests.maskTimeDependent(helloAlone.console()));
        assertThat(both.outcome()).isEqualTo(alone.outcome());
        assertThat(both.count(VtxCounters.vmFamily(1), exit(ExitReason.IO_INSTRUCTION))).isPositive();
        assertThat(both.count(VtxCounters.vmFamily(2), exit(ExitReason.IO_INSTRUCTION))).isPositive();
        assertThat(both.count(VtxCounters.vmFamily(2), "time slices")).isPositive();
    }

    /**
     * Two long workloads share the CPU slice by slice: each VM's translations are its own (its own EPT and VPID, or
     * its own shadow tables), so each still computes and prints what it does alone.
     */
    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void twoInterleavedVmsEachComputeWhatTheyComputeAlone(MemoryMode mode) throws BootImageException {
        Run compute = run(mode, RAM, lab("compute")), forkwait = run(mode, RAM, lab("forkwait"));
        Run both = run(mode, RAM, lab("compute"), lab("forkwait"));
        assertThat(LabGuests.maskTimeDependent(both.linesOf(1)))
                .isEqualTo(LabGuests.maskTimeDependent(compute.console()));
        assertThat(LabGuests.maskTimeDependent(both.linesOf(2)))
                .isEqualTo(LabGuests.maskTimeDependent(forkwait.console()));
        assertThat(both.count(VtxCounters.vmFamily(1), "time slices")).as("d1 ran before and after d2")
                .isGreaterThanOrEqualTo(2);
        assertThat(both.count(VtxCounters.vmFamily(2), "time slices")).isGreaterThanOrEqualTo(1);
        assertThat(both.outcome()).isEqualTo(compute.outcome());
    }

    /** HostileGuestTest's guest as d2: its attacks exit and are counted as d2's; d1 runs as it runs alone. */
    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void theHostileGuestBesideAWellBehavedVmLeavesItUnharmed(MemoryMode mode) throws BootImageException {
        Run alone = run(mode, RAM, lab("hello"));
        Run both = run(mode, RAM, lab("hello"), new GuestImage.Multiboot("hostile", HostileGuestTest.hostileGuest(),
                ""));
        assertThat(both.linesOf(1)).isEqualTo(alone.console());
        assertThat(both.outcome()).isEqualTo(alone.outcome());
        assertThat(both.console()).contains("(VTX) domain 2 ended: exit value 0x10");
        String d2 = VtxCounters.vmFamily(2);
        assertThat(both.count(d2, exit(ExitReason.RDMSR))).isEqualTo(2);
        assertThat(both.count(d2, exit(ExitReason.WRMSR))).isEqualTo(2);
        assertThat(both.count(VtxCounters.vmFamily(1), exit(ExitReason.RDMSR))).isZero();
    }

    static Stream<Arguments> hostileWorkloadsInBothModes() {
        return Stream.of(MemoryMode.values()).flatMap(mode -> Stream.of("wildmem", "hvmem", "clispin")
                .map(name -> Arguments.of(mode, name)));
    }

    /** The lab's hostile workloads as d2 (wild memory, the top of linear space, CLI spins): d1 is unharmed. */
    @ParameterizedTest(name = "{0} {1} beside hello")
    @MethodSource("hostileWorkloadsInBothModes")
    void aHostileLabWorkloadBesideAWellBehavedVmLeavesItUnharmed(MemoryMode mode, String name)
            throws BootImageException {
        Run alone = run(mode, RAM, lab("hello")), hostileAlone = run(mode, RAM, lab(name));
        Run both = run(mode, RAM, lab("hello"), lab(name));
        assertThat(LabGuests.maskTimeDependent(both.linesOf(1)))
                .isEqualTo(LabGuests.maskTimeDependent(alone.console()));
        assertThat(both.console()).contains("(VTX) domain 1 ended: exit value");
        assertThat(LabGuests.maskTimeDependent(both.linesOf(2)))
                .isEqualTo(LabGuests.maskTimeDependent(hostileAlone.console()));
        assertThat(both.outcome()).isEqualTo(alone.outcome());
        assertThat(both.statistics()).anyMatch(v -> v.family().equals(VtxCounters.vmFamily(2))
                && v.key().startsWith(CostModel.VMX_EXIT_PREFIX) && v.value() > 0);
    }

    /** A VM that triple-faults (SDM Vol. 3C 25.2: exit 2) ends alone; as d1 it gives the run its outcome. */
    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void aVmThatTripleFaultsEndsAlone(MemoryMode mode) throws BootImageException {
        Run alone = run(mode, RAM, lab("hello"));
        GuestImage crasher = new GuestImage.Multiboot("triple", tripleFault(), "");

        Run second = run(mode, RAM, lab("hello"), crasher);
        assertThat(second.linesOf(1)).isEqualTo(alone.console());
        assertThat(second.outcome()).isEqualTo(alone.outcome());
        assertThat(second.console()).contains("(VTX) domain 2 ended: triple fault");
        assertThat(second.count(VtxCounters.vmFamily(2), exit(ExitReason.TRIPLE_FAULT))).isEqualTo(1);

        Run first = run(mode, RAM, crasher, lab("hello"));
        assertThat(first.linesOf(2)).isEqualTo(alone.console());
        assertThat(first.outcome()).isInstanceOf(RunOutcome.Shutdown.class);
    }

    /**
     * A VM halted with nothing to wake it (CLI; HLT) yields at once and never gets another slice (it waits, parked,
     * only once nothing else can run); once the other VM has ended, the machine halts for good as the bare machine
     * would with that guest.
     */
    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void aHaltedVmYieldsItsSlices(MemoryMode mode) throws BootImageException {
        GuestCode c = GuestCode.multiboot(0x100000);
        c.bytes(0xFA, 0xF4, 0xEB, 0xFD);                               // cli; hlt; jmp $-1
        Run alone = run(mode, RAM, lab("compute"));
        Run both = run(mode, RAM, new GuestImage.Multiboot("halt", c.image(), ""), lab("compute"));
        assertThat(LabGuests.maskTimeDependent(both.linesOf(2)))
                .isEqualTo(LabGuests.maskTimeDependent(alone.console()));
        assertThat(both.count(VtxCounters.vmFamily(1), "time slices")).isEqualTo(1);
        assertThat(both.count(VtxCounters.vmFamily(2), "time slices")).isPositive();
        assertThat(both.outcome()).isInstanceOf(RunOutcome.HaltedForever.class);
    }

    /** Two VMs halted with nothing to wake either (CLI; HLT): the machine halts for good, as with one such VM. */
    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void vmsAllHaltedForGoodHaltTheMachine(MemoryMode mode) throws BootImageException {
        GuestCode c = GuestCode.multiboot(0x100000);
        c.bytes(0xFA, 0xF4, 0xEB, 0xFD);                               // cli; hlt; jmp $-1
        GuestImage halt = new GuestImage.Multiboot("halt", c.image(), "");
        Run both = run(mode, RAM, halt, halt);
        assertThat(both.outcome()).isInstanceOf(RunOutcome.HaltedForever.class);
    }

    @Test
    void vmsTheMachinesRamCannotHoldAreRefusedWithAClearMessage() {
        assertThatThrownBy(() -> run(MemoryMode.EPT, 32 << 20, lab("hello"), lab("hello"), lab("hello")))
                .isInstanceOf(BootImageException.class).hasMessageContaining("3 VMs need 36 MiB")
                .hasMessageContaining("--memory");
    }

    private static String exit(int reason) {
        return CostModel.VMX_EXIT_PREFIX + ExitReason.name(reason);
    }

    /** IDT limit 0, then UD2: #UD, #GP and #DF all lie beyond the limit, so the processor shuts down (SDM 6.15). */
    private static byte[] tripleFault() {
        int load = 0x100000, idtr = load + 0x100;
        GuestCode c = GuestCode.multiboot(load);
        c.bytes(0x0F, 0x01, 0x1D).u32(idtr);                           // lidt [idtr]
        c.bytes(0x0F, 0x0B);                                           // ud2
        c.at(idtr).u16(0).u32(0);
        return c.image();
    }
}

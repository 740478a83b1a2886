package hvlab.hv.vtx;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The EPT map the hypervisor builds (SDM Vol. 3C 28.2.2): guest RAM and the device space one to one, its own RAM
 * unmapped until the guest reaches for it, and then mapped to nothing; and a guest's own paging exits nothing.
 */
class ExtendedPageTablesTest {
    private static final int RAM = 128 << 20;
    private static final VmmLayout LAYOUT = VmmLayout.atTopOf(RAM);
    private static final GuestRam GUEST_RAM = new GuestRam(0, LAYOUT.base(), RAM);

    @Test
    void mapsGuestRamAndDevicesOneToOneAndHidesTheHypervisorsRamAndTheApicPages() {
        try (Machine machine = machine()) {
            PhysicalMemory memory = memoryOf(machine);
            long eptp = eptOf(machine).build();
            assertThat(eptp & 0xFFF).as("WB, 4-level walk, A/D flags (24.6.11)").isEqualTo(0x5E);
            assertThat(translate(memory, eptp, 0x00123456)).isEqualTo(0x00123456L);
            assertThat(translate(memory, eptp, GUEST_RAM.size() - 4)).isEqualTo(GUEST_RAM.size() - 4L);
            assertThat(translate(memory, eptp, 0xFEE00080)).as("LAPIC: the APIC-access page (SDM Vol. 3C 29.4)")
                    .isEqualTo(LAYOUT.at(VmmLayout.APIC_ACCESS_PAGE) + 0x80L);
            assertThat(translate(memory, eptp, 0xFEC00000)).as("IOAPIC: the virtual one's, emulated").isEqualTo(-1L);
            assertThat(translate(memory, eptp, 0xFEE01000)).as("past the LAPIC page").isEqualTo(0xFEE01000L);
            assertThat(translate(memory, eptp, 0xFEBFF000)).as("below the IOAPIC page").isEqualTo(0xFEBFF000L);
            assertThat(translate(memory, eptp, 0xFFFFFFF0)).as("the reset vector's ROM").isEqualTo(0xFFFFFFF0L);
            assertThat(translate(memory, eptp, LAYOUT.at(VmmLayout.VMCS))).as("the VMCS").isEqualTo(-1L);
            assertThat(translate(memory, eptp, RAM - 4)).isEqualTo(-1L);
        }
    }

    @Test
    void guestRamWhoseEndIsNotTwoMegabyteAlignedMapsTheSharedRegionWith4KPages() {
        try (Machine machine = machine()) {
            GuestRam ram = new GuestRam(0, RAM - VmmLayout.SIZE - 0x3000, RAM);
            long eptp = new ExtendedPageTables(memoryOf(machine), null, LAYOUT, ram, 1, machine.counters()).build();
            assertThat(translate(memoryOf(machine), eptp, ram.size() - 8)).isEqualTo(ram.size() - 8L);
            assertThat(translate(memoryOf(machine), eptp, ram.size())).isEqualTo(-1L);
            assertThat(translate(memoryOf(machine), eptp, RAM - 0x3000)).as("machine RAM not the VM's").isEqualTo(-1L);
            assertThat(translate(memoryOf(machine), eptp, RAM + 0x1000)).as("above RAM: one to one")
                    .isEqualTo(RAM + 0x1000L);
        }
    }

    /** Several VMs: each VM's guest-physical 0 to its size is its own range; the other VMs' RAM it does not have. */
    @Test
    void aSecondVmsGuestPhysicalZeroIsItsOwnRangeAndTheFirstVmsRamIsHidden() {
        try (Machine machine = machine()) {
            int share = 56 << 20;
            GuestRam second = new GuestRam(share, share, RAM);
            ExtendedPageTables ept = new ExtendedPageTables(memoryOf(machine), null, VmmLayout.forVm(RAM, 1), second, 2,
                    machine.counters());
            long eptp = ept.build();
            assertThat(translate(memoryOf(machine), eptp, 0x1234)).isEqualTo(share + 0x1234L);
            assertThat(translate(memoryOf(machine), eptp, share - 4)).isEqualTo(2L * share - 4);
            assertThat(translate(memoryOf(machine), eptp, share)).as("d1's range, seen from d2").isEqualTo(-1L);
            assertThat(ept.eptViolation(share + 0x10, 2)).isTrue();
            assertThat(translate(memoryOf(machine), eptp, share + 0x10))
                    .isEqualTo((GuestRam.NOTHING_THERE & 0xFFFFFFFFL) + 0x10);
        }
    }

    @Test
    void aViolationInTheHypervisorsRamMapsThatPageToNothingAndNoOther() {
        try (Machine machine = machine()) {
            ExtendedPageTables ept = eptOf(machine);
            long eptp = ept.build();
            int vmcsRegion = LAYOUT.at(VmmLayout.VMCS);

            assertThat(ept.eptViolation(vmcsRegion + 8, 2)).isTrue();
            assertThat(ept.eptViolation(0x1000, 2)).as("mapped guest RAM is no business of a violation").isFalse();

            assertThat(translate(memoryOf(machine), eptp, vmcsRegion + 8))
                    .isEqualTo((GuestRam.NOTHING_THERE & 0xFFFFFFFFL) + 8);
            assertThat(translate(memoryOf(machine), eptp, vmcsRegion + 0x1000)).isEqualTo(-1L);
            assertThat(machine.statistics()).anyMatch(v -> v.family().equals("EPT") && v.value() == 1);
        }
    }

    @Test
    void theGuestsPagingExitsNothing() throws BootImageException {
        try (Machine machine = bootedUnderEpt("pgfault")) {
            assertThat(machine.statistics())
                    .noneMatch(v -> v.family().equals(Counters.EXITS) && (v.key().equals(exit(
                            ExitReason.CONTROL_REGISTER_ACCESS)) || v.key().equals(exit(ExitReason.INVLPG))
                            || v.key().equals(exit(ExitReason.EXCEPTION_OR_NMI))))
                    .noneMatch(v -> v.family().equals("shadow paging"));
        }
    }

    /** The guest runs with a VPID: its exits and entries flush no TLB (SDM Vol. 3C 28.3.3.3), only its own MOVs do. */
    @Test
    void theGuestsTranslationsSurviveItsExits() throws BootImageException {
        try (Machine machine = bootedUnderEpt("syscall")) {
            long exits = count(machine, Counters.EXITS), flushes = machine.statistics().stream()
                    .filter(v -> v.family().equals(Counters.TLB) && v.key().equals("flushes"))
                    .mapToLong(Counters.CounterValue::value).sum();
            assertThat(exits).isGreaterThan(300);
            assertThat(flushes).as("not two per exit").isLessThan(exits / 10);
        }
    }

    private static long count(Machine machine, String family) {
        return machine.statistics().stream().filter(v -> v.family().equals(family))
                .mapToLong(Counters.CounterValue::value).sum();
    }

    private static PhysicalMemory memoryOf(Machine machine) {
        return context(machine).memory();
    }

    private static MachineHostContext context(Machine machine) {
        return new MachineHostContext(machine, machine.description(), System.getLogger("vtx"));
    }

    private static Machine machine() {
        return Machine.builder().ramBytes(RAM).build();
    }

    private static ExtendedPageTables eptOf(Machine machine) {
        return new ExtendedPageTables(memoryOf(machine), null, LAYOUT, GUEST_RAM, 1, machine.counters());
    }

    private static Machine bootedUnderEpt(String workload) throws BootImageException {
        LabGuest guest = LabGuests.find(workload).orElseThrow();
        Machine machine = Machine.builder().ramBytes(RAM).serialOutput(b -> { }).build();
        Hypervisor vtx = new VtxEptProvider().create(context(machine));
        vtx.boot(new GuestImage.Multiboot("lab.elf", guest.kernelImage(), guest.commandLine()));
        vtx.run(2_000_000_000L);
        return machine;
    }

    /** The EPT walk as the hypervisor's tables have it (PML4E 0, then PDPTE, PDE, PTE): the address, or -1. */
    private static long translate(PhysicalMemory memory, long eptp, int gpa) {
        long table = eptp & 0xFFFFF000L, address = gpa & 0xFFFFFFFFL;
        for (int level = 4; level >= 1; level--) {
            int at = (int) (table + ((address >>> (12 + 9 * (level - 1))) & 0x1FF) * 8);
            long entry = memory.readU32(at) & 0xFFFFFFFFL;
            if ((entry & 7) == 0) {
                return -1;
            }
            if (level == 1 || level == 2 && (entry & 0x80) != 0) {
                long offset = (1L << (12 + 9 * (level - 1))) - 1;
                return entry & 0xFFFFF000L & ~offset | address & offset;
            }
            table = entry & 0xFFFFF000L;
        }
        throw new AssertionError();
    }

    /** The counter key of a VM exit reason. */
    private static String exit(int reason) {
        return CostModel.VMX_EXIT_PREFIX + ExitReason.name(reason);
    }
}

package hvlab.hv.vtx;

import hvlab.hv.vtx.devices.HostDevices;
import hvlab.hv.vtx.devices.VirtualDevices;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.Platform;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A hostile guest in VMX non-root operation (issue 7, "Done when"): it writes the hypervisor's VMCS region, the
 * PIIX3 reset port and the 8259A's mask, RDMSRs and WRMSRs what the MSR bitmap denies, rewrites the local APIC's
 * timer, reads its version and disables it through IA32_APIC_BASE, and exits. Each attack exits and is counted, the guest sees only its
 * own virtual machine, and the machine's devices and the hypervisor's structures are as the hypervisor left them.
 * The guest is hand-assembled 32-bit code loaded by the Multiboot a.out kludge, paging off (an identity shadow, or
 * EPT alone).
 */
class HostileGuestTest {
    private static final int RAM = 128 << 20;
    private static final VmmLayout LAYOUT = VmmLayout.atTopOf(RAM);
    private static final int LOAD = 0x100000, GDT = LOAD + 0x800, GDTR = GDT + 0x20, IDT = LOAD + 0x900,
            IDTR = GDT + 0x28, RESULTS = LOAD + 0xC00, STACK = LOAD + 0x1000;
    private static final int VMCS_WORD = LAYOUT.at(VmmLayout.VMCS) + 8, MSR_BITMAP = LAYOUT.at(VmmLayout.MSR_BITMAP);
    private static final int SEEN_IN_VMCS = RESULTS, GP_COUNT = RESULTS + 4, APIC_BASE = RESULTS + 8,
            SEEN_IN_BITMAP = RESULTS + 12, APIC_VERSION = RESULTS + 16;
    private static final int LAPIC = (int) LocalApic.DEFAULT_BASE;

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void everyAttackExitsIsCountedAndReachesNothingOfTheMachine(MemoryMode mode) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(RAM).serialOutput(console::write).build()) {
            Hypervisor vtx = new VtxProvider(mode).create(new MachineHostContext(machine, machine.description(),
                    System.getLogger("vtx")));
            vtx.boot(new GuestImage.Multiboot("hostile", hostileGuest(), ""));
            int bitmapBefore = machine.platform().memory().readU32(MSR_BITMAP);
            RunOutcome outcome = vtx.run(10_000_000);

            Platform board = machine.platform();
            assertThat(outcome).as("no reset through port 0xCF9; the guest's exit value, via the virtual"
                    + " isa-debug-exit").isEqualTo(new RunOutcome.Exited(0x10));
            // The VMCS region and the MSR bitmap: the guest reads nothing there and its stores land nowhere.
            assertThat(board.memory().readU32(RESULTS)).isEqualTo(-1);
            assertThat(board.memory().readU32(SEEN_IN_BITMAP)).isEqualTo(-1);
            assertThat(board.memory().readU32(VMCS_WORD)).isNotEqualTo(0xDEADBEEF);
            assertThat(board.memory().readU32(MSR_BITMAP)).isEqualTo(bitmapBefore);
            // IA32_FEATURE_CONTROL and IA32_VMX_BASIC: #GP(0) in the guest, twice (SDM Vol. 3C 25.1.3, 24.6.9).
            assertThat(board.memory().readU32(GP_COUNT)).isEqualTo(2);
            assertThat(board.memory().readU32(APIC_BASE)).as("the virtual APIC's base MSR, as reset")
                    .isEqualTo((int) (LocalApic.DEFAULT_BASE | LocalApic.MSR_GLOBAL_ENABLE | LocalApic.MSR_BSP));
            // The machine's own devices are the hypervisor's: 8259A masked, local APIC enabled with its timer.
            assertThat(board.pic().master().readByte(1)).as("real 8259A IMR").isEqualTo(0xFF);
            assertThat(board.localApic().hardwareEnabled()).isTrue();
            assertThat(board.localApic().read(LocalApic.LVT_TIMER, 4) & 0x100FF).isEqualTo(HostDevices.TIMER_VECTOR);

            List<Counters.CounterValue> stats = machine.statistics();
            assertThat(count(stats, Counters.EXITS, exit(ExitReason.RDMSR))).isEqualTo(2);
            assertThat(count(stats, Counters.EXITS, exit(ExitReason.WRMSR))).isEqualTo(2);
            assertThat(count(stats, VtxCounters.INJECTED, "exception 13")).isEqualTo(2);
            assertThat(count(stats, VirtualDevices.FAMILY, "nothing there write")).as("port 0xCF9").isEqualTo(1);
            assertThat(count(stats, VirtualDevices.FAMILY, "8259A master write")).isEqualTo(1);
            assertThat(count(stats, VirtualDevices.FAMILY, "local APIC write")).isEqualTo(2);
            assertThat(count(stats, VirtualDevices.FAMILY, "local APIC read")).isEqualTo(1);
            assertThat(board.memory().readU32(APIC_VERSION)).as("read through ECX from the virtual APIC")
                    .isEqualTo(LocalApic.VERSION);
            assertThat(count(stats, VirtualDevices.FAMILY, "isa-debug-exit write")).isEqualTo(1);
            if (mode == MemoryMode.EPT) {
                assertThat(count(stats, Counters.EXITS, exit(ExitReason.EPT_VIOLATION)))
                        .as("two hypervisor pages").isEqualTo(2);
                assertThat(count(stats, Counters.EXITS, exit(ExitReason.APIC_ACCESS)))
                        .as("three local APIC accesses on the APIC-access page (SDM Vol. 3C 29.4)").isEqualTo(3);
            } else {
                assertThat(count(stats, Counters.EXITS, exit(ExitReason.EXCEPTION_OR_NMI))).isGreaterThanOrEqualTo(5);
            }
        }
    }

    private static long count(List<Counters.CounterValue> stats, String family, String key) {
        return stats.stream().filter(v -> v.family().equals(family) && v.key().equals(key))
                .mapToLong(Counters.CounterValue::value).sum();
    }

    private static String exit(int reason) {
        return CostModel.VMX_EXIT_PREFIX + ExitReason.name(reason);
    }

    /** The guest: a Multiboot header with load addresses, the code after it, its GDT and IDT (#GP only). */
    static byte[] hostileGuest() {
        GuestCode c = GuestCode.multiboot(LOAD);
        c.flatSegments(GDT, GDTR, IDTR, STACK);
        // The hypervisor's memory: the VMCS region and the MSR bitmap.
        c.bytes(0xC7, 0x05).u32(VMCS_WORD).u32(0xDEADBEEF);           // mov dword [VMCS+8], DEADBEEFh
        c.bytes(0xA1).u32(VMCS_WORD).bytes(0xA3).u32(SEEN_IN_VMCS);    // mov eax, [..]; mov [..], eax
        c.bytes(0xC7, 0x05).u32(MSR_BITMAP).u32(0);                    // mov dword [MSR bitmap], 0
        c.bytes(0xA1).u32(MSR_BITMAP).bytes(0xA3).u32(SEEN_IN_BITMAP);
        // Ports: the PIIX3 reset control register, the 8259A's mask.
        c.bytes(0x66, 0xBA, 0xF9, 0x0C, 0xB0, 0x06, 0xEE);            // mov dx, 0CF9h; mov al, 6; out dx, al
        c.bytes(0xB0, 0xFF, 0xE6, 0x21);                               // mov al, FFh; out 21h, al
        // MSRs: IA32_FEATURE_CONTROL (write) and IA32_VMX_BASIC (read) fault; IA32_APIC_BASE is the virtual APIC's.
        c.bytes(0xB9).u32(0x3A).bytes(0x31, 0xC0, 0x31, 0xD2, 0x0F, 0x30); // mov ecx, 3Ah; xor eax/edx; wrmsr
        c.bytes(0xB9).u32(0x480).bytes(0x0F, 0x32);                    // mov ecx, 480h; rdmsr
        // The local APIC's timer: the virtual APIC's registers, then the virtual APIC disabled.
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.LVT_TIMER).u32(0x20);
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.TIMER_INITIAL_COUNT).u32(1);
        c.bytes(0x8B, 0x0D).u32(LAPIC + LocalApic.VERSION_REGISTER);   // mov ecx, [version]
        c.bytes(0x89, 0x0D).u32(APIC_VERSION);                         // mov [APIC_VERSION], ecx
        c.bytes(0xB9).u32(0x1B).bytes(0x0F, 0x32).bytes(0xA3).u32(APIC_BASE); // rdmsr; mov [APIC_BASE], eax
        c.bytes(0x25).u32(~(int) LocalApic.MSR_GLOBAL_ENABLE).bytes(0x0F, 0x30); // and eax, ~800h; wrmsr
        c.bytes(0xB0, 0x10, 0xE6, 0xF4);                               // mov al, 10h; out F4h, al
        c.bytes(0xF4, 0xEB, 0xFD);                                     // hlt; jmp $-1
        int handler = c.here();
        c.bytes(0xFF, 0x05).u32(GP_COUNT);                             // inc dword [GP_COUNT]
        c.bytes(0x83, 0xC4, 0x04, 0x83, 0x04, 0x24, 0x02, 0xCF);       // add esp, 4; add [esp], 2; iret
        c.at(IDTR).u16(14 * 8 - 1).u32(IDT);
        c.at(IDT + 13 * 8).u32(0x00080000 | handler & 0xFFFF).u32(handler & 0xFFFF0000 | 0x8E00);
        c.at(STACK - 4).u32(0);
        return c.image();
    }
}

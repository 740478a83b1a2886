package hvlab.hv.vtx;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.device.apic.LocalApic;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A guest that holds an interrupt back with its TPR (SDM Vol. 3A 11.8.3.1) and lets it through by lowering the TPR:
 * the same behaviour in both memory modes. Under EPT the TPR accesses are virtualized (SDM Vol. 3C 29.4) and the
 * hypervisor learns of the lowering only through the TPR threshold: a "TPR below threshold" exit (29.1.2), after which
 * it injects the interrupt.
 */
class TprShadowTest {
    private static final int LOAD = 0x100000, GDT = LOAD + 0x800, GDTR = GDT + 0x20, IDTR = GDT + 0x28,
            IDT = LOAD + 0x900, RESULTS = LOAD + 0xC00, STACK = LOAD + 0x1000;
    private static final int HANDLED = RESULTS, HANDLED_BEFORE_LOWERING = RESULTS + 4;
    private static final int LAPIC = (int) LocalApic.DEFAULT_BASE, VECTOR = 0x40;

    /** TPR F0h, a one-shot local APIC timer at vector 40h, IF set and a spin; then TPR 0 and the exit port. */
    static byte[] guest() {
        GuestCode c = GuestCode.multiboot(LOAD);
        c.flatSegments(GDT, GDTR, IDTR, STACK);
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.SVR).u32(0x1FF);     // software-enable the APIC
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.TPR).u32(0xF0);      // hold back every class below 15
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.TIMER_DIVIDE).u32(0x0B); // divide by 1
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.LVT_TIMER).u32(VECTOR);  // one-shot, vector 40h
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.TIMER_INITIAL_COUNT).u32(1000);
        c.bytes(0xFB);                                                 // sti
        c.bytes(0xB9).u32(100_000).bytes(0x49, 0x75, 0xFD);            // mov ecx, 100000; dec ecx; jnz $-1
        c.bytes(0xA1).u32(HANDLED).bytes(0xA3).u32(HANDLED_BEFORE_LOWERING);
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.TPR).u32(0);         // let it through
        c.bytes(0x90, 0x90);                                           // nop; nop
        c.bytes(0xB0, 0x10, 0xE6, 0xF4);                               // mov al, 10h; out F4h, al
        c.bytes(0xF4, 0xEB, 0xFD);                                     // hlt; jmp $-1
        int handler = c.here();
        c.bytes(0xFF, 0x05).u32(HANDLED);                              // inc dword [HANDLED]
        c.bytes(0xC7, 0x05).u32(LAPIC + LocalApic.EOI).u32(0);         // EOI
        c.bytes(0xCF);                                                 // iret
        c.at(IDTR).u16((VECTOR + 1) * 8 - 1).u32(IDT);
        c.at(IDT + VECTOR * 8).u32(0x00080000 | handler & 0xFFFF).u32(handler & 0xFFFF0000 | 0x8E00);
        return c.image();
    }

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void anInterruptHeldBackByTheTprArrivesWhenTheGuestLowersIt(MemoryMode mode) throws BootImageException {
        try (Machine machine = Machine.builder().ramBytes(128 << 20).build();
             Hypervisor vtx = new VtxProvider(mode).create(new MachineHostContext(machine, machine.description(),
                     System.getLogger("vtx")))) {
            vtx.boot(new GuestImage.Multiboot("tpr", guest(), ""));
            assertThat(vtx.run(10_000_000)).isEqualTo(new RunOutcome.Exited(0x10));
            var memory = machine.platform().memory();
            assertThat(memory.readU32(HANDLED_BEFORE_LOWERING)).as("held back while TPR was F0h").isZero();
            assertThat(memory.readU32(HANDLED)).as("delivered once the TPR fell under its class").isEqualTo(1);
            long belowThreshold = count(machine.statistics(), ExitReason.TPR_BELOW_THRESHOLD);
            if (mode == MemoryMode.EPT) {
                assertThat(belowThreshold).as("the lowering, seen only through the threshold").isEqualTo(1);
            } else {
                assertThat(belowThreshold).as("every TPR write exits anyway").isZero();
            }
        }
    }

    private static long count(List<Counters.CounterValue> stats, int reason) {
        String key = CostModel.VMX_EXIT_PREFIX + ExitReason.name(reason);
        return stats.stream().filter(v -> v.family().equals(Counters.EXITS) && v.key().equals(key))
                .mapToLong(Counters.CounterValue::value).sum();
    }
}

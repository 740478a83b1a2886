package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hypervisor entry addresses (../shared/design/architecture.md): the hardware delivers the event through the IDT
 * (SDM Vol. 3A 6.12), and host software takes over where the gate points, then leaves by IRET.
 */
class HypervisorEntryTest {
    private static final int ENTRY_PAGE = 0xFFC00000;

    @Test
    void anExceptionThroughAGateIntoTheEntryPageReachesTheHandlerWithTheHardwareFrame() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("0f 0b  b8 34 12 00 00  f4"); // ud2; mov eax,0x1234
        bench.interruptGate(Exceptions.UD, ENTRY_PAGE + Exceptions.UD * 16, 0);
        List<String> calls = new ArrayList<>();
        bench.cpu.setHypervisorEntryPage(ENTRY_PAGE, (cpu, offset) -> {
            int esp = cpu.register(Cpu.ESP);
            int faultingEip = cpu.readSupervisor32(esp);
            calls.add("vector " + offset / 16 + " at 0x" + Integer.toHexString(faultingEip) + " cs 0x"
                    + Integer.toHexString(cpu.readSupervisor32(esp + 4)));
            cpu.writeSupervisor32(esp, faultingEip + 2); // emulate: skip the UD2
            cpu.returnFromInterrupt();
        });

        Cpu cpu = bench.run();

        assertThat(calls).containsExactly("vector 6 at 0x" + Integer.toHexString(CpuBench.CODE) + " cs 0x8");
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(0x1234);
        assertThat(cpu.register(Cpu.ESP)).isEqualTo(CpuBench.STACK_TOP);
    }

    @Test
    void theEntryPageIsOnlyAnEntryAtCpl0() {
        // Ring 3 jumps into the entry page: at CPL 3 it is an ordinary page. Nothing is mapped there (the open bus
        // reads FF FF, an undefined FF /7), so the CPU fetches it and raises #UD at that address.
        CpuBench bench = new CpuBench().flatProtectedMode();
        List<Integer> calls = new ArrayList<>();
        bench.cpu.setHypervisorEntryPage(ENTRY_PAGE, (cpu, offset) -> calls.add(offset));
        bench.code("68 23 00 00 00  68 00 00 07 00  68 02 00 00 00  68 1b 00 00 00  68 00 01 01 00  cf")
                .codeAt(0x10100, "e9 fb fe be ff"); // jmp 0xFFC00000 (rel32 from 0x10105)
        Cpu cpu = bench.run();
        assertThat(calls).isEmpty();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.UD));
        assertThat(bench.stackDword(0)).isEqualTo(ENTRY_PAGE);
    }

    @Test
    void aHandlerThatDoesNotLeaveShutsTheMachineDownInsteadOfHanging() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("0f 0b");
        bench.interruptGate(Exceptions.UD, ENTRY_PAGE, 0);
        bench.cpu.setHypervisorEntryPage(ENTRY_PAGE, (cpu, offset) -> { });
        bench.run();
        assertThat(bench.shutdownReason).contains("returned without leaving");
    }

    /** A hypervisor that reflects #UD straight back onto the UD2: no instruction ever retires, so the run must end. */
    @Test
    @Timeout(120) // a failure here is a hang; the guard ends the run in about a second
    void entriesThatNeverLetAnInstructionRetireEndTheRunInsteadOfSpinning() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("0f 0b");
        bench.interruptGate(Exceptions.UD, ENTRY_PAGE, 0);
        int[] entries = new int[1];
        bench.cpu.setHypervisorEntryPage(ENTRY_PAGE, (cpu, offset) -> {
            entries[0]++;
            cpu.returnFromInterrupt();
        });
        bench.run();
        assertThat(bench.shutdownReason).contains("no progress");
        assertThat(entries[0]).isEqualTo(Cpu.ENTRIES_WITHOUT_PROGRESS_LIMIT);
    }
}

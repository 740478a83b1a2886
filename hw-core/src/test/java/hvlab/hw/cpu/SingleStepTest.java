package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The single-step trap of EFLAGS.TF: SDM Vol. 3A, 17.3.1.4 and Table 6-2 (#DB is a trap here). */
class SingleStepTest {
    private static final int DEBUG_HANDLER = 0x6000, COUNTER = 0x500, INT_HANDLER = 0x6100;
    /** pushf; pop eax; or eax,0x100; push eax; popf: sets TF. */
    private static final String SET_TF = "9c 58 0d 00 01 00 00 50 9d";

    private static CpuBench benchCountingDebugTraps() {
        CpuBench bench = new CpuBench().flatProtectedMode();
        bench.codeAt(DEBUG_HANDLER, "ff 05 00 05 00 00  cf"); // inc dword [0x500]; iret
        bench.interruptGate(Exceptions.DB, DEBUG_HANDLER, 0);
        return bench;
    }

    @Test
    void eachInstructionAfterTheOneThatSetTfTraps_sdm17_3_1_4() {
        CpuBench bench = benchCountingDebugTraps().code(SET_TF + " 90 90 90  fa f4"); // nop x3; cli; hlt
        Cpu cpu = bench.run();
        // No trap after the POPF that set TF; one after each NOP and after CLI; HLT ends the run.
        assertThat(bench.memory.readU32(COUNTER)).isEqualTo(4);
        assertThat(cpu.dr[6] & Cpu.DR6_SINGLE_STEP).isEqualTo(Cpu.DR6_SINGLE_STEP);
    }

    @Test
    void intNClearsTfAndTakesNoTrapOfItsOwn_sdm17_3_1_4() {
        CpuBench bench = benchCountingDebugTraps().code(SET_TF + " cd 30  fa f4"); // int 0x30; cli; hlt
        bench.codeAt(INT_HANDLER, "90 90 cf"); // nop; nop; iret (runs with TF clear)
        bench.interruptGate(0x30, INT_HANDLER, 0);
        bench.run();
        // INT 0x30 clears TF for its handler (no traps there); IRET restores TF: CLI traps.
        assertThat(bench.memory.readU32(COUNTER)).isEqualTo(1);
    }

    @Test
    void movSsDelaysTheTrapByOneInstruction_sdm6_8_3() {
        // mov ax,ss; mov ss,ax; nop; cli; hlt: one trap after the NOP (for MOV SS and NOP), one after CLI.
        CpuBench bench = benchCountingDebugTraps().code(SET_TF + " 66 8c d0  8e d0  90  fa f4");
        bench.run();
        // Traps: after MOV AX,SS; after NOP (covering MOV SS); after CLI.
        assertThat(bench.memory.readU32(COUNTER)).isEqualTo(3);
    }
}

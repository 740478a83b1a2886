package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static hvlab.hw.cpu.V86ModeTest.V86_CODE;
import static hvlab.hw.cpu.V86ModeTest.V86_CS;
import static hvlab.hw.cpu.V86ModeTest.V86_STACK_TOP;
import static hvlab.hw.cpu.V86ModeTest.iopl;
import static org.assertj.core.api.Assertions.assertThat;

/** CR4.VME and CR4.PVI: SDM Vol. 3A 20.3.2 (VIF, VIP), 20.3.3 (Table 20-2, redirection bit map), 20.4 (PVI). */
class VirtualModeExtensionsTest {
    private static final int VECTOR = 0x42, HANDLER_IP = 0x10;
    /** The TSS's I/O map base; the interrupt redirection bit map is the 32 bytes below it. */
    private static final int IO_MAP_BASE = 0x88;

    private final CpuBench bench = new CpuBench().flatProtectedMode();
    private final Cpu cpu = bench.cpu;

    VirtualModeExtensionsTest() {
        cpu.cr4 = Cpu.CR4_VME;
        int limit = IO_MAP_BASE - 1;
        bench.memory.writeU16(CpuBench.TSS + 0x66, IO_MAP_BASE);
        bench.descriptor(CpuBench.GDT + CpuBench.TSS_SEL, 0x00008B00, (CpuBench.TSS & 0xFFFF) << 16 | limit);
        cpu.trLimit = limit;
        // the 8086 program's interrupt vector table: VECTOR -> 2000:0010, a HLT (which raises #GP at CPL 3)
        bench.memory.writeU16(VECTOR * 4, HANDLER_IP);
        bench.memory.writeU16(VECTOR * 4 + 2, V86_CS);
        bench.codeAt(V86_CODE + HANDLER_IP, "f4");
        bench.interruptGate(VECTOR, bench.stub(VECTOR), 3);
    }

    private void routeThroughIdt(int vector) {
        int address = CpuBench.TSS + IO_MAP_BASE - 32 + vector / 8;
        bench.memory.writeU8(address, bench.memory.readU8(address) | 1 << (vector & 7));
    }

    private Cpu run(int flags, String v86Code) {
        bench.code(V86ModeTest.enterV86(flags)).codeAt(V86_CODE, v86Code);
        return bench.run();
    }

    private int v86StackWord(int index) {
        return bench.memory.readU16(V86_STACK_TOP - 2 - index * 2);
    }

    /** EFLAGS in the ring-0 frame of the #GP that the final HLT raised. */
    private int flagsAtHlt() {
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        return bench.stackDword(3);
    }

    @Test
    void cpuidReportsVme_sdmCpuid() {
        bench.code("b8 01 00 00 00  0f a2  f4").run();
        assertThat(cpu.register(Cpu.EDX) & CpuIdentity.FEATURE_VME).isNotZero();
    }

    @Test
    void intNWithIopl3AndBitClearRunsThe8086HandlerClearingIf_sdm20_3_3_method5() {
        run(iopl(3) | Cpu.IF, "cd 42");
        assertThat(bench.stackDword(1)).as("IP in the 8086 handler").isEqualTo(HANDLER_IP);
        assertThat(bench.stackDword(2)).isEqualTo(V86_CS);
        assertThat(flagsAtHlt() & (Cpu.IF | Cpu.VM)).isEqualTo(Cpu.VM);
        assertThat(v86StackWord(0)).as("FLAGS").isEqualTo(iopl(3) | Cpu.IF | 2);
        assertThat(v86StackWord(1)).as("CS").isEqualTo(V86_CS);
        assertThat(v86StackWord(2)).as("IP after INT").isEqualTo(2);
    }

    @Test
    void intNWithIoplBelow3AndBitClearPushesVifAsIfAndClearsVif_sdm20_3_3_method6() {
        run(Cpu.VIF, "cd 42");
        assertThat(bench.stackDword(1)).isEqualTo(HANDLER_IP);
        assertThat(v86StackWord(0)).as("FLAGS: IF shows VIF, IOPL shows 3").isEqualTo(iopl(3) | Cpu.IF | 2);
        assertThat(flagsAtHlt() & (Cpu.IF | Cpu.VIF | Cpu.IOPL)).isZero();
    }

    @Test
    void intNWithIoplBelow3AndBitSetIsGp_sdm20_3_3_method3() {
        routeThroughIdt(VECTOR);
        run(0, "cd 42");
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(1)).as("IP of the INT").isZero();
    }

    @Test
    void intNWithIopl3AndBitSetGoesThroughTheIdt_sdm20_3_3_method4() {
        routeThroughIdt(VECTOR);
        run(iopl(3), "cd 42");
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(VECTOR));
        assertThat(cpu.cpl()).isZero();
    }

    @Test
    void redirectionBitMapOutsideTheTssLimitIsGp_sdm20_3_3() {
        bench.memory.writeU16(CpuBench.TSS + 0x66, 0x2000);
        run(iopl(3), "cd 42");
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
    }

    @Test
    void cliAndStiWorkOnVifAndPushfShowsIt_sdm20_3_2() {
        run(Cpu.IF, "fa  9c  fb  9c  f4"); // cli; pushf; sti; pushf; hlt
        assertThat(v86StackWord(0)).as("after CLI").isEqualTo(iopl(3) | 2);
        assertThat(v86StackWord(1)).as("after STI").isEqualTo(iopl(3) | Cpu.IF | 2);
        assertThat(flagsAtHlt() & (Cpu.IF | Cpu.VIF)).as("IF untouched").isEqualTo(Cpu.IF | Cpu.VIF);
    }

    @Test
    void stiWithAnInterruptPendingIsGp_sdm20_3_2() {
        run(Cpu.VIP, "fb");
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(1)).isZero();
    }

    @Test
    void popfMovesIfToVif_sdmPopf() {
        run(0, "68 00 02  9d  f4"); // push 0x200; popf; hlt
        assertThat(flagsAtHlt() & (Cpu.IF | Cpu.VIF)).isEqualTo(Cpu.VIF);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"68 00 01  9d", "66 9c", "66 9d"}) // popf setting TF; 32-bit pushf and popf
    void popfSettingTfAndThe32BitFormsAreGp_sdmPopf_sdmPushf(String code) {
        run(0, code);
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
    }

    @Test
    void iretRestoresVifFromThePoppedIf_sdmIret() {
        bench.codeAt(V86_CODE + HANDLER_IP, "cf");
        run(Cpu.VIF, "cd 42  f4"); // the 8086 handler IRETs at once
        assertThat(bench.stackDword(1)).as("IP of the HLT").isEqualTo(2);
        assertThat(flagsAtHlt() & (Cpu.IF | Cpu.VIF)).isEqualTo(Cpu.VIF);
    }

    @Test
    void protectedModeVirtualInterruptsLetCliAtCpl3ClearVif_sdm20_4() {
        cpu.cr4 = Cpu.CR4_PVI;
        String enterRing3WithIfAndVif = CpuBench.ENTER_RING3.replace("68 02 00 00 00", "68 02 02 08 00");
        bench.code(enterRing3WithIfAndVif).codeAt(CpuBench.RING3_CODE, "fa  f4");
        bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(1)).as("IP of the HLT").isEqualTo(CpuBench.RING3_CODE + 1);
        assertThat(bench.stackDword(3) & (Cpu.IF | Cpu.VIF)).isEqualTo(Cpu.IF);
    }
}

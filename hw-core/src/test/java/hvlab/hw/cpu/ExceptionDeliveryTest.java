package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Exception delivery through the IDT: SDM Vol. 3A 6.12 (frames), 6.13 (error codes), 6.15 (each vector). */
class ExceptionDeliveryTest {
    private static final int RING3_CODE = CpuBench.RING3_CODE, RING3_STACK = CpuBench.RING3_STACK;
    private static final String ENTER_RING3 = CpuBench.ENTER_RING3;

    @Test
    void divideByZeroIsAFaultAtTheDivInstruction_sdm6_15_vector0() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("31 c9  f7 f1"); // xor ecx,ecx; div ecx
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.DE));
        assertThat(bench.stackDword(0)).isEqualTo(CpuBench.CODE + 2);
        assertThat(bench.stackDword(1)).isEqualTo(CpuBench.CODE0);
        assertThat(cpu.register(Cpu.ESP)).isEqualTo(CpuBench.STACK_TOP - 12);
    }

    @Test
    void ud2RaisesInvalidOpcodeWithoutErrorCode_sdm6_15_vector6() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("0f 0b");
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.UD));
        assertThat(bench.stackDword(0)).isEqualTo(CpuBench.CODE);
    }

    @Test
    void int3IsATrapReturningAfterTheInstruction_sdm6_15_vector3() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("90 cc");
        bench.interruptGate(3, bench.stub(3), 0);
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.BP));
        assertThat(bench.stackDword(0)).isEqualTo(CpuBench.CODE + 2);
    }

    @Test
    void selectorBeyondGdtLimitGivesGpWithTheSelector_sdm6_13() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("66 b8 38 00  8e d8"); // mov ax,0x38; mov ds,ax
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).isEqualTo(0x38);
        assertThat(bench.stackDword(1)).isEqualTo(CpuBench.CODE + 4);
    }

    @Test
    void hltAtRing3RaisesGpZeroOnTheTssRing0Stack_sdm6_12_1() {
        CpuBench bench = new CpuBench().flatProtectedMode().code(ENTER_RING3).codeAt(RING3_CODE, "f4");
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(cpu.cpl()).isZero();
        assertThat(cpu.register(Cpu.ESP)).isEqualTo(CpuBench.RING0_STACK_TOP - 24);
        assertThat(bench.stackDword(0)).isZero(); // error code
        assertThat(bench.stackDword(1)).isEqualTo(RING3_CODE);
        assertThat(bench.stackDword(2)).isEqualTo(CpuBench.CODE3);
        assertThat(bench.stackDword(4)).isEqualTo(RING3_STACK);
        assertThat(bench.stackDword(5)).isEqualTo(CpuBench.DATA3);
    }

    @Test
    void softwareInterruptThroughDpl0GateFromRing3IsGp_sdm6_12_1_2() {
        CpuBench bench = new CpuBench().flatProtectedMode().code(ENTER_RING3).codeAt(RING3_CODE, "cd 80");
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).isEqualTo(0x80 * 8 + 2);
    }

    @Test
    void softwareInterruptThroughDpl3GateReachesTheHandlerAtRing0_sdm6_12_1() {
        CpuBench bench = new CpuBench().flatProtectedMode().code(ENTER_RING3).codeAt(RING3_CODE, "cd 80");
        bench.interruptGate(0x80, bench.stub(0x80), 3);
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(0x80));
        assertThat(bench.stackDword(0)).isEqualTo(RING3_CODE + 2);
        assertThat(bench.stackDword(3)).isEqualTo(RING3_STACK);
    }

    @Test
    void iretReturnsToRing3AndNullsInaccessibleDataSegments_sdmIret() {
        CpuBench bench = new CpuBench().flatProtectedMode().code(ENTER_RING3).codeAt(RING3_CODE, "90 eb fe");
        Cpu cpu = bench.cpu;
        cpu.run(7);
        assertThat(cpu.cpl()).isEqualTo(3);
        assertThat(cpu.eip()).isEqualTo(RING3_CODE + 1);
        assertThat(cpu.segmentSelector(Cpu.SS)).isEqualTo(CpuBench.DATA3);
        assertThat(cpu.segmentSelector(Cpu.DS)).isZero(); // DPL-0 data segment nulled on the return to ring 3
    }

    @Test
    void cliAtRing3WithIopl0IsGp_sdmCli() {
        CpuBench bench = new CpuBench().flatProtectedMode().code(ENTER_RING3).codeAt(RING3_CODE, "fa");
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).isZero();
    }

    @Test
    void popfAtRing3LeavesIfUnchanged_sdmPopf() {
        // ring 3: push 0x200; popf; pushf; pop eax; hlt -> #GP, eax holds flags without IF
        CpuBench bench = new CpuBench().flatProtectedMode().code(ENTER_RING3)
                .codeAt(RING3_CODE, "68 00 02 00 00  9d  9c  58  f4");
        Cpu cpu = bench.run();
        assertThat(cpu.register(Cpu.EAX) & Cpu.IF).isZero();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
    }

    @Test
    void faultWhileDeliveringAFaultIsDoubleFault_sdm6_15_vector8() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("0f 0b");
        bench.descriptor(CpuBench.IDT + 6 * 8, 0, 0); // #UD gate not valid -> #GP while delivering -> #GP ...
        bench.descriptor(CpuBench.IDT + 13 * 8, 0, 0); // ... and #GP's gate invalid too -> #DF
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.DF));
        assertThat(bench.stackDword(0)).isZero();
    }

    @Test
    void faultWhileDeliveringDoubleFaultShutsDown_sdm6_15_vector8() {
        CpuBench bench = new CpuBench().flatProtectedMode().code("0f 0b");
        bench.cpu.idtLimit = 0;
        bench.run();
        assertThat(bench.shutdownReason).contains("triple fault");
    }

    @Test
    void ioPermissionBitmapGuardsPortsAtRing3_sdmVol1_18_5() {
        // ring 3: in al,0x80 with the bitmap bit of port 0x80 set -> #GP(0)
        CpuBench bench = new CpuBench().flatProtectedMode().code(ENTER_RING3).codeAt(RING3_CODE, "e4 80");
        bench.memory.writeU8(CpuBench.TSS + 0x68 + 0x80 / 8, 0x01);
        bench.descriptor(CpuBench.GDT + 0x28, 0x00008B00, (CpuBench.TSS & 0xFFFF) << 16 | 0x68 + 0x2000);
        bench.cpu.trLimit = 0x68 + 0x2000;
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(1)).isEqualTo(RING3_CODE);
    }
}

package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** RDMSR and WRMSR of the MSRs the model has (SDM Vol. 4, Table 2-2); the others raise #GP(0). */
class ModelSpecificRegisterTest {
    private final CpuBench bench = new CpuBench().flatProtectedMode();

    @Test
    void biosSignIdReadsZeroAfterTheMicrocodeSignatureProcedure_sdm9_11_7_1() {
        // mov ecx,0x8b; xor eax,eax; xor edx,edx; wrmsr; mov eax,1; cpuid;
        // mov ecx,0x8b; mov eax,-1; mov edx,-1; rdmsr; hlt
        String code = "b9 8b 00 00 00  31 c0  31 d2  0f 30  b8 01 00 00 00  0f a2"
                + "  b9 8b 00 00 00  b8 ff ff ff ff  ba ff ff ff ff  0f 32  f4";
        Cpu cpu = bench.code(code).run();
        assertThat(cpu.eip()).as("no #GP: ran to the final HLT").isEqualTo(CpuBench.CODE + 36);
        assertThat(bench.reg(Cpu.EDX)).as("signature: no update loaded").isZero();
        assertThat(bench.reg(Cpu.EAX)).as("bits 31:0 reserved").isZero();
    }

    @Test
    void anMsrTheModelLacksRaisesGeneralProtection_sdm_rdmsr() {
        Cpu cpu = bench.code("b9 80 00 00 c0  0f 32  f4").run(); // mov ecx,0xc0000080 (IA32_EFER); rdmsr
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).as("error code").isZero();
    }
}

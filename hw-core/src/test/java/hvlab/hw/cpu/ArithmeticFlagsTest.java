package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Flag results of integer instructions, SDM Vol. 1 3.4.3.1 and each instruction's "Flags Affected". */
class ArithmeticFlagsTest {
    private static final int ARITH = Cpu.CF | Cpu.PF | Cpu.AF | Cpu.ZF | Cpu.SF | Cpu.OF;

    private static Cpu run(String code) {
        return new CpuBench().flatProtectedMode().code(code + " f4").run();
    }

    @Test
    void addSetsOverflowSignAuxAndParity_sdmAdd() {
        // mov eax,0x7fffffff; mov ebx,1; add eax,ebx
        Cpu cpu = run("b8 ff ff ff 7f  bb 01 00 00 00  01 d8");
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(0x80000000);
        assertThat(cpu.eflags() & ARITH).isEqualTo(Cpu.OF | Cpu.SF | Cpu.AF | Cpu.PF);
    }

    @Test
    void subBorrowSetsCarryNotOverflow_sdmSub() {
        Cpu cpu = run("b8 00 00 00 00  83 e8 01"); // mov eax,0; sub eax,1
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(-1);
        assertThat(cpu.eflags() & ARITH).isEqualTo(Cpu.CF | Cpu.SF | Cpu.AF | Cpu.PF);
    }

    @Test
    void incLeavesCarryUnchanged_sdmInc() {
        Cpu cpu = run("f9  b8 ff ff ff ff  40"); // stc; mov eax,-1; inc eax
        assertThat(cpu.register(Cpu.EAX)).isZero();
        assertThat(cpu.eflags() & ARITH).isEqualTo(Cpu.CF | Cpu.ZF | Cpu.AF | Cpu.PF);
    }

    @Test
    void adcAddsTheCarryIn_sdmAdc() {
        Cpu cpu = run("f9  b8 ff ff ff ff  83 d0 00"); // stc; mov eax,-1; adc eax,0
        assertThat(cpu.register(Cpu.EAX)).isZero();
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.ZF | Cpu.OF)).isEqualTo(Cpu.CF | Cpu.ZF);
    }

    @Test
    void sbbSubtractsTheBorrow_sdmSbb() {
        Cpu cpu = run("f9  b8 00 00 00 00  83 d8 00"); // stc; mov eax,0; sbb eax,0
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(-1);
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.ZF | Cpu.SF)).isEqualTo(Cpu.CF | Cpu.SF);
    }

    @Test
    void shlByOneSetsCarryAndOverflowFromTheTopBits_sdmSal() {
        Cpu cpu = run("b0 c0  d0 e0"); // mov al,0xc0; shl al,1
        assertThat(cpu.register(Cpu.EAX) & 0xFF).isEqualTo(0x80);
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.OF | Cpu.SF | Cpu.ZF)).isEqualTo(Cpu.CF | Cpu.SF);
    }

    @Test
    void sarKeepsTheSignAndShiftsOutIntoCarry_sdmSar() {
        Cpu cpu = run("b8 01 00 00 80  d1 f8"); // mov eax,0x80000001; sar eax,1
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(0xC0000000);
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.OF)).isEqualTo(Cpu.CF);
    }

    @Test
    void rclRotatesThroughCarry_sdmRcl() {
        Cpu cpu = run("f9  b0 80  d0 d0"); // stc; mov al,0x80; rcl al,1
        assertThat(cpu.register(Cpu.EAX) & 0xFF).isEqualTo(0x01);
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.OF)).isEqualTo(Cpu.CF | Cpu.OF);
    }

    @Test
    void imulTwoOperandOverflowSetsCarryAndOverflow_sdmImul() {
        Cpu cpu = run("b8 00 00 01 00  0f af c0"); // mov eax,0x10000; imul eax,eax
        assertThat(cpu.register(Cpu.EAX)).isZero();
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.OF)).isEqualTo(Cpu.CF | Cpu.OF);
    }

    @Test
    void mulWritesTheHighHalfToEdx_sdmMul() {
        Cpu cpu = run("b8 00 00 01 00  b9 00 00 01 00  f7 e1"); // mov eax,0x10000; mov ecx,0x10000; mul ecx
        assertThat(cpu.register(Cpu.EAX)).isZero();
        assertThat(cpu.register(Cpu.EDX)).isEqualTo(1);
        assertThat(cpu.eflags() & (Cpu.CF | Cpu.OF)).isEqualTo(Cpu.CF | Cpu.OF);
    }

    @Test
    void divLeavesQuotientAndRemainder_sdmDiv() {
        // xor edx,edx; mov eax,100; mov ecx,7; div ecx
        Cpu cpu = run("31 d2  b8 64 00 00 00  b9 07 00 00 00  f7 f1");
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(14);
        assertThat(cpu.register(Cpu.EDX)).isEqualTo(2);
    }

    @Test
    void signedAndUnsignedConditionsAfterCmp_sdmAppendixB() {
        // mov eax,-1; cmp eax,1; setl bl; setb bh; setg cl; seta ch
        Cpu cpu = run("b8 ff ff ff ff  83 f8 01  0f 9c c3  0f 92 c7  0f 9f c1  0f 97 c5");
        assertThat(cpu.register(Cpu.EBX) & 0xFFFF).isEqualTo(0x0001);
        assertThat(cpu.register(Cpu.ECX) & 0xFFFF).isEqualTo(0x0100);
    }

    @Test
    void conditionsAfterTestSeeCarryAndOverflowClear_sdmTestAndAppendixB() {
        // mov eax,0x80000000; test eax,eax; setl bl; setle bh; setg cl; setb ch; seto dl; setp dh
        Cpu cpu = run("b8 00 00 00 80  85 c0  0f 9c c3  0f 9e c7  0f 9f c1  0f 92 c5  0f 90 c2  0f 9a c6");
        assertThat(cpu.register(Cpu.EBX) & 0xFFFF).isEqualTo(0x0101); // L and LE: SF=1, OF=0
        assertThat(cpu.register(Cpu.ECX) & 0xFFFF).isEqualTo(0x0000); // G and B false
        assertThat(cpu.register(Cpu.EDX) & 0xFFFF).isEqualTo(0x0100); // O false; P: low byte 0 has even parity
    }

    @Test
    void daaAdjustsPackedBcdSum_sdmDaa() {
        Cpu cpu = run("b0 79  04 35  27"); // mov al,0x79; add al,0x35; daa  -> 0x14, CF
        assertThat(cpu.register(Cpu.EAX) & 0xFF).isEqualTo(0x14);
        assertThat(cpu.eflags() & Cpu.CF).isEqualTo(Cpu.CF);
    }

    @Test
    void bsfFindsLowestSetBitAndZfOnZeroSource_sdmBsf() {
        // mov ecx,0x00f0; bsf eax,ecx; xor ecx,ecx; mov ebx,7; bsf ebx,ecx (zero: ZF=1, ebx unchanged)
        Cpu cpu = run("b9 f0 00 00 00  0f bc c1  31 c9  bb 07 00 00 00  0f bc d9");
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(4);
        assertThat(cpu.register(Cpu.EBX)).isEqualTo(7);
        assertThat(cpu.eflags() & Cpu.ZF).isEqualTo(Cpu.ZF);
    }

    @Test
    void cmpxchgStoresWhenEqualAndLoadsWhenNot_sdmCmpxchg() {
        // mov eax,5; mov ecx,5; mov edx,9; cmpxchg ecx,edx -> ecx=9, ZF; cmpxchg ecx,edx again -> eax=9? no: eax=5!=9 -> eax=9
        Cpu cpu = run("b8 05 00 00 00  b9 05 00 00 00  ba 09 00 00 00  0f b1 d1");
        assertThat(cpu.register(Cpu.ECX)).isEqualTo(9);
        assertThat(cpu.eflags() & Cpu.ZF).isEqualTo(Cpu.ZF);
    }

    @Test
    void shldShiftsInBitsFromTheSource_sdmShld() {
        // mov eax,0x12345678; mov edx,0x9abcdef0; shld eax,edx,8
        Cpu cpu = run("b8 78 56 34 12  ba f0 de bc 9a  0f a4 d0 08");
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(0x3456789A);
    }

    @Test
    void repMovsbCopiesAndAdvances_sdmRep() {
        // mov esi,0x5000; mov edi,0x6000; mov ecx,3; rep movsb
        CpuBench bench = new CpuBench().flatProtectedMode()
                .code("be 00 50 00 00  bf 00 60 00 00  b9 03 00 00 00  f3 a4  f4");
        bench.memory.writeU32(0x5000, 0x00332211);
        Cpu cpu = bench.run();
        assertThat(bench.memory.readU32(0x6000)).isEqualTo(0x00332211);
        assertThat(cpu.register(Cpu.ECX)).isZero();
        assertThat(cpu.register(Cpu.EDI)).isEqualTo(0x6003);
    }
}

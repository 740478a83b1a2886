package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Virtual-8086 mode: SDM Vol. 3A 20.2 (entry, addressing, IOPL-sensitive instructions), 20.3 (interrupts). */
class V86ModeTest {
    /** The V86 program: code at 2000:0000, data in the same segment, a stack at 3000:1000. */
    static final int V86_CS = 0x2000, V86_SS = 0x3000, V86_SP = 0x1000, V86_CODE = V86_CS << 4;
    static final int V86_STACK_TOP = (V86_SS << 4) + V86_SP;

    private final CpuBench bench = new CpuBench().flatProtectedMode();
    private final Cpu cpu = bench.cpu;

    /**
     * Ring-0 code that IRETs to the V86 program with EFLAGS = VM and {@code flags}: pushes GS, FS, DS, ES, SS, ESP,
     * EFLAGS, CS, EIP (SDM "IRET").
     */
    static String enterV86(int flags) {
        int eflags = Cpu.VM | flags | 2;
        return "6a 00  6a 00  " + push(V86_CS) + push(V86_CS) + push(V86_SS) + push(V86_SP) + push(eflags)
                + push(V86_CS) + push(0) + "cf";
    }

    private static String push(int value) {
        return String.format("68 %02x %02x %02x %02x  ", value & 0xFF, value >>> 8 & 0xFF, value >>> 16 & 0xFF,
                value >>> 24);
    }

    static int iopl(int level) {
        return level << 12;
    }

    private V86ModeTest program(int flags, String v86Code) {
        bench.code(enterV86(flags)).codeAt(V86_CODE, v86Code);
        return this;
    }

    /** A ring-0 handler that only IRETs, through a gate of the given DPL. */
    private void iretHandler(int vector, int dpl) {
        bench.codeAt(bench.stub(vector), "cf");
        bench.interruptGate(vector, bench.stub(vector), dpl);
    }

    @Test
    void iretWithVmEntersV86ModeWithRealModeAddressing_sdm20_2_1() {
        // mov ax,0x1234; mov [0x100],ax; mov bx,ds; hlt (CPL 3: #GP)
        program(0, "b8 34 12  a3 00 01  8c db  f4").bench.run();
        assertThat(bench.memory.readU16(V86_CODE + 0x100)).isEqualTo(0x1234);
        assertThat(cpu.register(Cpu.EBX) & 0xFFFF).isEqualTo(V86_CS);
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
    }

    @Test
    void exceptionInV86PushesTheSegmentsOnTheRing0StackAndClearsVm_sdm20_3_1() {
        program(0, "90  f4").bench.run();
        assertThat(cpu.cpl()).isZero();
        assertThat(cpu.eflags() & Cpu.VM).isZero();
        assertThat(cpu.register(Cpu.ESP)).isEqualTo(CpuBench.RING0_STACK_TOP - 40);
        assertThat(bench.stackDword(0)).as("error code").isZero();
        assertThat(bench.stackDword(1)).as("IP of the HLT").isEqualTo(1);
        assertThat(bench.stackDword(2)).isEqualTo(V86_CS);
        assertThat(bench.stackDword(3) & (Cpu.VM | Cpu.IOPL)).isEqualTo(Cpu.VM);
        assertThat(bench.stackDword(4)).isEqualTo(V86_SP);
        assertThat(bench.stackDword(5)).isEqualTo(V86_SS);
        assertThat(bench.stackDword(6)).as("ES").isEqualTo(V86_CS);
        assertThat(bench.stackDword(7)).as("DS").isEqualTo(V86_CS);
        assertThat(bench.stackDword(8)).as("FS").isZero();
        assertThat(bench.stackDword(9)).as("GS").isZero();
        assertThat(cpu.segmentSelector(Cpu.DS)).as("data segments nulled").isZero();
    }

    @Test
    void intNWithIopl3GoesToTheProtectedModeHandler_sdm20_3_3_method1() {
        bench.interruptGate(0x42, bench.stub(0x42), 3);
        program(iopl(3), "cd 42").bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(0x42));
        assertThat(bench.stackDword(0)).as("IP after INT").isEqualTo(2);
        assertThat(bench.stackDword(1)).isEqualTo(V86_CS);
        assertThat(bench.stackDword(2) & Cpu.VM).isNotZero();
        assertThat(cpu.register(Cpu.ESP)).isEqualTo(CpuBench.RING0_STACK_TOP - 36);
    }

    @Test
    void intNWithIoplBelow3IsGp_sdm20_3_3_method2() {
        bench.interruptGate(0x42, bench.stub(0x42), 3);
        program(iopl(2), "cd 42").bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).isZero();
        assertThat(bench.stackDword(1)).as("IP of the INT").isZero();
    }

    @Test
    void int3IsNotIoplSensitive_sdm20_2_7() {
        bench.interruptGate(Exceptions.BP, bench.stub(Exceptions.BP), 3);
        program(0, "cc").bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.BP));
    }

    @Test
    void iretFromTheRing0HandlerReturnsToV86_sdmIret() {
        iretHandler(0x42, 3);
        program(iopl(3), "cd 42  b8 77 00  f4").bench.run(); // int 0x42; mov ax,0x77; hlt
        assertThat(cpu.register(Cpu.EAX) & 0xFFFF).isEqualTo(0x77);
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(1)).as("IP of the HLT, back in V86").isEqualTo(5);
        assertThat(bench.stackDword(5)).isEqualTo(V86_SS);
        assertThat(bench.stackDword(4)).as("V86 stack balanced").isEqualTo(V86_SP);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fa", "fb", "9c", "9d", "cf", "66 9c"})
    void ioplSensitiveInstructionsAreGpWithIoplBelow3_sdm20_2_7(String instruction) {
        program(iopl(1), instruction).bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).isZero();
        assertThat(bench.stackDword(1)).isZero();
    }

    @Test
    void cliAndPopfWorkWithIopl3_sdm20_2_7() {
        // cli; push 0x0002 (IOPL 0 asked for); popf; pushf; pop ax; hlt
        program(iopl(3), "fa  68 02 00  9d  9c  58  f4").bench.run();
        assertThat(cpu.register(Cpu.EAX) & Cpu.IOPL).as("POPF in V86 leaves IOPL").isEqualTo(Cpu.IOPL);
        assertThat(bench.stackDword(1)).as("IP of the HLT").isEqualTo(7);
    }

    @Test
    void ioInV86IsCheckedAgainstTheBitmapEvenWithIopl3_sdm20_2_8() {
        allowIoBitmap();
        bench.memory.writeU8(CpuBench.TSS + 0x68 + 0x80 / 8, 0x01);
        program(iopl(3), "e4 80").bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(1)).as("IP of the IN").isZero();
    }

    @Test
    void ioInV86IsAllowedByAClearBitmapBitWhateverTheIopl_sdm20_2_8() {
        allowIoBitmap();
        program(0, "e4 81  f4").bench.run();
        assertThat(bench.stackDword(1)).as("IP of the HLT after the IN").isEqualTo(2);
    }

    private void allowIoBitmap() {
        int limit = 0x68 + 0x2000;
        bench.descriptor(CpuBench.GDT + CpuBench.TSS_SEL, 0x00008B00, (CpuBench.TSS & 0xFFFF) << 16 | limit);
        cpu.trLimit = limit;
    }

    @Test
    void taskSwitchToATssWithVmEntersV86_sdm20_2_1() {
        int tss2 = 0x5000;
        bench.task(0x30, tss2, 0, V86_SP);
        bench.memory.writeU32(tss2 + TaskSwitch.EFLAGS32, Cpu.VM | 2);
        for (int s = 0; s < 6; s++) {
            bench.memory.writeU32(tss2 + TaskSwitch.SELECTORS32 + s * 4, s == Cpu.SS ? V86_SS : V86_CS);
        }
        bench.code("ea 00 00 00 00 30 00").codeAt(V86_CODE, "8c c8  f4"); // mov ax,cs; hlt
        bench.run();
        assertThat(cpu.register(Cpu.EAX) & 0xFFFF).isEqualTo(V86_CS);
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(cpu.register(Cpu.ESP)).as("ring-0 stack of the V86 task's TSS")
                .isEqualTo(CpuBench.RING0_STACK_TOP - 40);
        assertThat(bench.stackDword(2)).isEqualTo(V86_CS);
        assertThat(bench.stackDword(9)).as("GS").isEqualTo(V86_CS);
    }

    @Test
    void interruptFromV86ToANonZeroDplHandlerIsGp_sdm20_3_1() {
        bench.descriptor(CpuBench.GDT + 0x30, 0x00CFBA00, 0x0000FFFF); // ring-1 code
        bench.descriptor(CpuBench.IDT + 0x42 * 8, 0xEE00, 0x31 << 16 | 0x3000);
        cpu.gdtLimit = 0x37;
        program(iopl(3), "cd 42").bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        assertThat(bench.stackDword(0)).isEqualTo(0x30);
    }
}

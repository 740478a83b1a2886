package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The P6 family's performance-monitoring counters: SDM Vol. 3B, "Performance Monitoring for P6 Family Processors"
 * (PerfEvtSel0/1 at 186H/187H, PerfCtr0/1 at C1H/C2H), and RDPMC (SDM Vol. 2B).
 */
class P6PerformanceCountersTest {
    /** mov ecx, MSR; mov eax, LOW; xor edx, edx; wrmsr. */
    private static String wrmsr(int msr, int low) {
        return "b9 " + le(msr) + "  b8 " + le(low) + "  31 d2  0f 30  ";
    }

    /** mov ecx, MSR; rdmsr. */
    private static String rdmsr(int msr) {
        return "b9 " + le(msr) + "  0f 32  ";
    }

    private static String le(int value) {
        return String.format("%02x %02x %02x %02x", value & 0xFF, value >>> 8 & 0xFF, value >>> 16 & 0xFF, value >>> 24);
    }

    private static final int EN = P6PerformanceCounters.EN, OS = P6PerformanceCounters.OS,
            USR = P6PerformanceCounters.USR, INST_RETIRED = P6PerformanceCounters.INST_RETIRED,
            CPU_CLK_UNHALTED = P6PerformanceCounters.CPU_CLK_UNHALTED;
    private static final String NOP3 = "90 90 90  ";

    @Test
    void wrmsrToACounterWritesBits31To0AndSignExtendsBit31IntoBits39To32_sdmP6PerfCtr() {
        // mov ecx,0xc1; mov eax,0x80000001; mov edx,0xffff; wrmsr; rdmsr; mov esi,eax; mov edi,edx; then 0x7fffffff
        String code = "b9 c1 00 00 00  b8 01 00 00 80  ba ff ff 00 00  0f 30  0f 32  89 c6  89 d7"
                + "  b8 ff ff ff 7f  ba ff ff ff ff  0f 30  0f 32  f4";
        CpuBench bench = new CpuBench().flatProtectedMode().code(code);
        bench.run();
        assertThat(bench.reg(Cpu.ESI)).isEqualTo(0x8000_0001);
        assertThat(bench.reg(Cpu.EDI)).as("bits 39:32 copy bit 31, EDX's write is ignored, 63:40 read 0").isEqualTo(0xFF);
        assertThat(bench.reg(Cpu.EAX)).isEqualTo(0x7FFF_FFFF);
        assertThat(bench.reg(Cpu.EDX)).isZero();
    }

    @Test
    void eventSelectReadsBackAndItsReservedHighHalfRaisesGeneralProtection() {
        int select = 0x0123_002E | USR | OS; // CMASK 1, L2_RQSTS, no EN
        CpuBench bench = new CpuBench().flatProtectedMode().code(wrmsr(0x187, select) + rdmsr(0x187)
                + "b9 87 01 00 00  ba 01 00 00 00  0f 30  f4"); // edx = 1: bit 32 set
        Cpu cpu = bench.run();
        assertThat(bench.reg(Cpu.EAX)).isEqualTo(select);
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
    }

    @Test
    void instructionsRetiredCountFromTheInstructionAfterTheEnablingWrmsr_sdmStartingAndStopping() {
        // WRMSR sets EN|OS|INST_RETIRED; three NOPs and the MOV ECX of the read retire before RDMSR reads
        CpuBench bench = new CpuBench().flatProtectedMode()
                .code(wrmsr(0x186, EN | OS | INST_RETIRED) + NOP3 + rdmsr(0xC1) + "f4");
        bench.run();
        assertThat(bench.reg(Cpu.EAX)).isEqualTo(4);
    }

    @Test
    void unhaltedClocksCountOnePerInstructionHereAndNotWhileHalted() {
        CpuBench bench = new CpuBench().flatProtectedMode().code(wrmsr(0x186, EN | OS | CPU_CLK_UNHALTED) + NOP3 + "f4");
        Cpu cpu = bench.run();
        cpu.skipTimeTo(cpu.nanos() + 1_000_000); // a millisecond halted
        assertThat(cpu.performanceCounters.counter(0, cpu.retired, cpu.cpl)).as("3 NOPs and the HLT").isEqualTo(4);
    }

    @Test
    void usrAndOsFlagsCountOnlyAtTheirPrivilegeLevels_sdmPerfEvtSel() {
        // counter 0 counts at CPL 1-3 (USR), counter 1 at CPL 0 (OS); ring 3 runs 3 NOPs and a HLT, which faults
        String ring0 = wrmsr(0x187, OS | INST_RETIRED) + wrmsr(0x186, EN | USR | INST_RETIRED) + CpuBench.ENTER_RING3;
        CpuBench bench = new CpuBench().flatProtectedMode().code(ring0).codeAt(CpuBench.RING3_CODE, NOP3 + "f4");
        Cpu cpu = bench.run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
        P6PerformanceCounters counters = cpu.performanceCounters;
        // the IRET that enters ring 3 retires there; the faulting HLT never retires
        assertThat(counters.counter(0, cpu.retired, cpu.cpl)).isEqualTo(1 + 3);
        // at CPL 0: the WRMSR to PerfEvtSel0 does not count (it sets EN), then five PUSHes and the stub's HLT
        assertThat(counters.counter(1, cpu.retired, cpu.cpl)).isEqualTo(5 + 1);
    }

    @Test
    void enInPerfEvtSel0GatesBothCountersAndOtherEventsKeepTheirWrittenValue() {
        CpuBench bench = new CpuBench().flatProtectedMode().code(wrmsr(0xC1, 1000) + wrmsr(0xC2, 7)
                + wrmsr(0x187, OS | INST_RETIRED) + NOP3 + rdmsr(0xC2) + "89 c6  "
                + wrmsr(0x186, EN | OS | 0x2E) + NOP3 + rdmsr(0xC1) + "89 c7  " + rdmsr(0xC2) + "f4");
        bench.run();
        assertThat(bench.reg(Cpu.ESI)).as("EN clear: counter 1 stands still").isEqualTo(7);
        assertThat(bench.reg(Cpu.EDI)).as("event 2EH is not modelled: the written value").isEqualTo(1000);
        // counter 1 counts from the WRMSR that set EN: 3 NOPs, MOV ECX, RDMSR, MOV EDI, MOV ECX
        assertThat(bench.reg(Cpu.EAX)).isEqualTo(7 + 7);
    }

    @Test
    void rdpmcReadsTheCounterAtCpl0AndFaultsOnAnIndexPast1_sdmRdpmc() {
        CpuBench bench = new CpuBench().flatProtectedMode().code(wrmsr(0xC2, 0x8000_0005)
                + "b9 01 00 00 00  0f 33  89 c6  89 d7  b9 02 00 00 00  0f 33  f4");
        Cpu cpu = bench.run();
        assertThat(bench.reg(Cpu.ESI)).isEqualTo(0x8000_0005);
        assertThat(bench.reg(Cpu.EDI)).isEqualTo(0xFF);
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.GP));
    }

    @Test
    void rdpmcAtCpl3NeedsCr4Pce_sdmRdpmc() {
        String rdpmcInRing3 = "31 c9  0f 33  f4"; // xor ecx,ecx; rdpmc; hlt (#GP at CPL 3 either way)
        CpuBench without = new CpuBench().flatProtectedMode().code(CpuBench.ENTER_RING3)
                .codeAt(CpuBench.RING3_CODE, rdpmcInRing3);
        without.run();
        assertThat(without.stackDword(1)).as("#GP at the RDPMC").isEqualTo(CpuBench.RING3_CODE + 2);

        CpuBench with = new CpuBench().flatProtectedMode().code(CpuBench.ENTER_RING3)
                .codeAt(CpuBench.RING3_CODE, rdpmcInRing3);
        with.cpu.cr4 |= Cpu.CR4_PCE;
        with.run();
        assertThat(with.stackDword(1)).as("#GP at the HLT after it").isEqualTo(CpuBench.RING3_CODE + 4);
    }
}

package hvlab.hw.cpu.vmx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.cpu.Exceptions;
import hvlab.hw.cpu.Vmx;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxBench.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;
import static org.assertj.core.api.Assertions.assertThat;

/** VMX non-root operation and VM exits (SDM Vol. 3C chapters 25 and 27). */
class VmExitTest {
    private static final String CPUID = "0f a2";

    private static VmxBench guest(String code, int primary) {
        VmxBench bench = new VmxBench().rootWithVmcs().launchable().guest(code);
        bench.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | primary);
        return bench;
    }

    private static VmxBench run(VmxBench bench) {
        assertThat(bench.launchAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.vmx.inNonRootOperation()).as("back in the host").isFalse();
        return bench;
    }

    private static long unsigned(int value) {
        return value & 0xFFFFFFFFL;
    }

    // ---- 25.1.2-25.1.3 instructions ----

    @Test
    void hltExitsOnlyWithHltExiting_25_1_3() {
        VmxBench bench = run(guest("f4", PROC_HLT_EXITING));
        assertThat(bench.exitReason()).isEqualTo(ExitReason.HLT);
        assertThat(bench.read(GUEST_RIP)).as("fault-like: the HLT itself (27.3.3)").isEqualTo(GUEST_CODE);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(1);
        VmxBench plain = guest("f4", 0);
        plain.vmx.vmlaunch();
        plain.cpu.run(100);
        assertThat(plain.vmx.inNonRootOperation()).as("the guest halts").isTrue();
        assertThat(plain.cpu.isHalted()).isTrue();
    }

    @Test
    void cpuidExitsUnconditionallyAndVmresumeContinuesAfterTheVmmAdvancesRip_25_1_2() {
        VmxBench bench = run(guest("0f a2  b8 05 00 00 00  0f a2", 0));
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        long rip = bench.read(GUEST_RIP) + bench.read(VM_EXIT_INSTRUCTION_LENGTH);
        bench.write(GUEST_RIP, rip);
        assertThat(bench.resumeAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE + 7);
        assertThat(bench.cpu.register(Cpu.EAX)).isEqualTo(5);
    }

    @Test
    void vmcallExitsWithReason18_25_1_2() {
        VmxBench bench = run(guest("0f 01 c1", 0));
        assertThat(bench.exitReason()).isEqualTo(ExitReason.VMCALL);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(3);
    }

    @Test
    void vmreadInTheGuestExitsWithItsInstructionInformation_27_2_4() {
        VmxBench bench = run(guest("0f 78 c3", 0)); // vmread ebx, eax
        assertThat(bench.exitReason()).isEqualTo(ExitReason.VMREAD);
        // reg2 (field) EAX = 0 in 31:28, register operand (bit 10) EBX = 3 in 6:3, 32-bit addresses (9:7 = 1)
        assertThat(bench.read(VM_EXIT_INSTRUCTION_INFO)).isEqualTo(0x498);
    }

    @Test
    void vmptrldInTheGuestReportsItsMemoryOperandAndDisplacement_27_2_1() {
        VmxBench bench = run(guest("0f c7 73 f8", 0)); // vmptrld [ebx-8]
        assertThat(bench.exitReason()).isEqualTo(ExitReason.VMPTRLD);
        assertThat(bench.read(EXIT_QUALIFICATION)).as("the displacement").isEqualTo(0xFFFFFFF8L);
        // no index (bit 22), base EBX (26:23), segment DS (17:15), 32-bit address size
        assertThat(bench.read(VM_EXIT_INSTRUCTION_INFO)).isEqualTo(1 << 22 | 3 << 23 | 3 << 15 | 1 << 7);
    }

    @Test
    void vmxonInTheGuestExitsBeforeItsCplCheck_25_1_1() {
        VmxBench bench = new VmxBench().rootWithVmcs().launchable().guest("f3 0f c7 30");
        bench.ring3Guest();
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.VMXON);
    }

    @Test
    void rdmsrAtCpl3RaisesGpBeforeAnyExit_25_1_1() {
        VmxBench bench = new VmxBench().rootWithVmcs().launchable().guest("0f 32");
        bench.ring3Guest();
        bench.write(EXCEPTION_BITMAP, 1 << 13);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_INFO)).isEqualTo(unsigned(InterruptionInfo.of(13, 3, true)));
    }

    @Test
    void invlpgExitsWithTheLinearAddress_27_2_1() {
        VmxBench bench = run(guest("0f 01 7b 10", PROC_INVLPG_EXITING)); // invlpg [ebx+16], EBX = 0x1000
        bench.write(GUEST_RIP, GUEST_CODE); // (EBX was set by the host before entry)
        assertThat(bench.exitReason()).isEqualTo(ExitReason.INVLPG);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(bench.cpu.register(Cpu.EBX) + 16L & 0xFFFFFFFFL);
    }

    @Test
    void rdtscExitsWithRdtscExitingAndAddsTheOffsetOtherwise_25_3() {
        assertThat(run(guest("0f 31", PROC_RDTSC_EXITING)).exitReason()).isEqualTo(ExitReason.RDTSC);
        VmxBench bench = guest("0f 31  " + CPUID, PROC_TSC_OFFSETTING);
        bench.write(TSC_OFFSET, 1L << 40);
        run(bench);
        assertThat(bench.cpu.register(Cpu.EDX)).isEqualTo(0x100);
    }

    @Test
    void codeCompiledWhileHotInTheHostStillExitsInTheGuest_25_1_3() {
        // mov ecx, 3000; l: rdtsc; dec ecx; jnz l; hlt: hot enough to be compiled into a block in root operation
        String loop = "b9 b8 0b 00 00  0f 31  49  75 fb  f4";
        VmxBench bench = guest(loop, PROC_RDTSC_EXITING);
        bench.executeAt(GUEST_CODE, 0, loop);
        assertThat(bench.cpu.register(Cpu.ECX)).isZero();
        bench.write(GUEST_RIP, GUEST_CODE + 5);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.RDTSC);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE + 5);
    }

    // ---- I/O (25.1.3, 24.6.4) ----

    @Test
    void unconditionalIoExitingReportsSizeDirectionAndImmediatePort_27_2_1() {
        VmxBench bench = run(guest("e6 80", PROC_UNCONDITIONAL_IO_EXITING)); // out 0x80, al
        assertThat(bench.exitReason()).isEqualTo(ExitReason.IO_INSTRUCTION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(0x80L << 16 | 1 << 6);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(2);
        bench = run(guest("66 ba f8 03  66 ed", PROC_UNCONDITIONAL_IO_EXITING)); // mov dx, 0x3F8; in ax, dx
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(0x3F8L << 16 | 1 << 3 | 1);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE + 4);
    }

    private static VmxBench ioBitmaps(String code) {
        VmxBench bench = guest(code, PROC_IO_BITMAPS | PROC_UNCONDITIONAL_IO_EXITING);
        bench.write(IO_BITMAP_A, IO_A);
        bench.write(IO_BITMAP_B, IO_B);
        return bench;
    }

    @Test
    void aWordAt7fffExitsOnTheBitOfPort8000InBitmapB_24_6_4() {
        String code = "66 ba ff 7f  66 ed  " + CPUID; // mov dx, 0x7FFF; in ax, dx; cpuid
        assertThat(run(ioBitmaps(code)).exitReason()).as("clear bitmaps: no exit, even unconditional set")
                .isEqualTo(ExitReason.CPUID);
        VmxBench bench = ioBitmaps(code);
        bench.memory.writeU8(IO_B, 1); // port 0x8000
        assertThat(run(bench).exitReason()).isEqualTo(ExitReason.IO_INSTRUCTION);
    }

    @Test
    void anAccessWrappingPastFfffAlwaysExits_25_1_3() {
        assertThat(run(ioBitmaps("66 ba fe ff  ed  " + CPUID)).exitReason()).isEqualTo(ExitReason.IO_INSTRUCTION);
    }

    @Test
    void insReportsStringRepLinearAddressAndInstructionInformation_27_2_5() {
        VmxBench bench = guest("bf 00 90 00 00  b9 04 00 00 00  66 ba 60 00  f3 6c", PROC_UNCONDITIONAL_IO_EXITING);
        run(bench);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(0x60L << 16 | 1 << 5 | 1 << 4 | 1 << 3);
        assertThat(bench.read(GUEST_LINEAR_ADDRESS)).isEqualTo(0x9000);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_INFO)).as("32-bit addresses, ES").isEqualTo(1 << 7);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(2);
    }

    // ---- MSRs (24.6.9, 25.1.3) ----

    private static int rdmsrExit(int msr, int bitmapByte, int bitmapValue, boolean bitmaps) {
        String code = String.format("b9 %02x %02x %02x %02x  0f 32  %s", msr & 0xFF, msr >>> 8 & 0xFF,
                msr >>> 16 & 0xFF, msr >>> 24, CPUID);
        VmxBench bench = guest(code, bitmaps ? PROC_MSR_BITMAPS : 0);
        bench.write(VmcsField.MSR_BITMAP, VmxBench.MSR_BITMAP);
        bench.memory.writeU8(VmxBench.MSR_BITMAP + bitmapByte, bitmapValue);
        return run(bench).exitReason();
    }

    @Test
    void msrAccessesExitPerTheReadBitmapsLowAndHigh_24_6_9() {
        assertThat(rdmsrExit(0x174, 0, 0, false)).as("no bitmaps: every RDMSR exits").isEqualTo(ExitReason.RDMSR);
        assertThat(rdmsrExit(0x174, 0, 0, true)).isEqualTo(ExitReason.CPUID);
        assertThat(rdmsrExit(0x174, 0x174 / 8, 1 << (0x174 & 7), true)).isEqualTo(ExitReason.RDMSR);
        assertThat(rdmsrExit(0xC0000080, 1024 + 0x10, 1, true)).isEqualTo(ExitReason.RDMSR);
        assertThat(rdmsrExit(0x2000, 0, 0, true)).as("outside both ranges").isEqualTo(ExitReason.RDMSR);
    }

    @Test
    void wrmsrUsesTheWriteBitmap_24_6_9() {
        String code = "b9 74 01 00 00  31 c0  31 d2  0f 30  " + CPUID;
        VmxBench bench = guest(code, PROC_MSR_BITMAPS);
        bench.write(VmcsField.MSR_BITMAP, VmxBench.MSR_BITMAP);
        bench.memory.writeU8(VmxBench.MSR_BITMAP + 0x174 / 8, 1 << (0x174 & 7)); // read bit only
        assertThat(run(bench).exitReason()).isEqualTo(ExitReason.CPUID);
        bench = guest(code, PROC_MSR_BITMAPS);
        bench.write(VmcsField.MSR_BITMAP, VmxBench.MSR_BITMAP);
        bench.memory.writeU8(VmxBench.MSR_BITMAP + 2048 + 0x174 / 8, 1 << (0x174 & 7));
        assertThat(run(bench).exitReason()).isEqualTo(ExitReason.WRMSR);
    }

    // ---- control registers (25.1.3, 25.3) ----

    @Test
    void movToCr0ExitsWhenAnOwnedBitDiffersFromTheShadow_25_1_3() {
        VmxBench bench = guest("0f 20 c0  83 c8 08  0f 22 c0", 0); // mov eax, cr0; or eax, TS; mov cr0, eax
        bench.write(CR0_GUEST_HOST_MASK, Cpu.CR0_TS);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CONTROL_REGISTER_ACCESS);
        assertThat(bench.read(EXIT_QUALIFICATION)).as("CR0, MOV to CR, EAX").isZero();
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE + 6);
    }

    @Test
    void ownedBitsReadFromTheShadowAndKeepTheirValueOnWrites_25_3() {
        // mov eax, cr0; mov ebx, eax; and eax, ~NE; mov cr0, eax; cpuid
        VmxBench bench = guest("0f 20 c0  89 c3  83 e0 df  0f 22 c0  " + CPUID, 0);
        bench.write(CR0_GUEST_HOST_MASK, Cpu.CR0_NE);
        bench.write(CR0_READ_SHADOW, 0);
        run(bench);
        assertThat(bench.exitReason()).as("NE written as the shadow holds it: no exit").isEqualTo(ExitReason.CPUID);
        assertThat(bench.cpu.register(Cpu.EBX) & Cpu.CR0_NE).as("MOV from CR0 shows the shadow").isZero();
        assertThat(bench.read(GUEST_CR0) & Cpu.CR0_NE).as("the real NE stays").isEqualTo(Cpu.CR0_NE);
    }

    @Test
    void cr4ReadsShowTheShadow_25_3() {
        VmxBench bench = guest("0f 20 e3  " + CPUID, 0); // mov ebx, cr4
        bench.write(CR4_GUEST_HOST_MASK, 0x2000);
        run(bench);
        assertThat(bench.cpu.register(Cpu.EBX) & 0x2000).isZero();
        assertThat(bench.cpu.register(Cpu.EBX) & 0x10).isEqualTo(0x10);
    }

    @Test
    void cr3LoadsExitUnlessTheValueIsAnActiveTarget_25_1_3() {
        String code = "b8 00 60 00 00  0f 22 d8  " + CPUID; // mov eax, 0x6000; mov cr3, eax
        VmxBench bench = guest(code, PROC_CR3_LOAD_EXITING);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CONTROL_REGISTER_ACCESS);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(3);
        bench = guest(code, PROC_CR3_LOAD_EXITING);
        bench.write(CR3_TARGET_VALUE1, PAGE_DIRECTORY);
        bench.write(CR3_TARGET_COUNT, 1);
        assertThat(run(bench).exitReason()).as("target 1 is beyond the count").isEqualTo(28);
        bench = guest(code, PROC_CR3_LOAD_EXITING);
        bench.write(CR3_TARGET_VALUE1, PAGE_DIRECTORY);
        bench.write(CR3_TARGET_COUNT, 2);
        assertThat(run(bench).exitReason()).isEqualTo(ExitReason.CPUID);
    }

    @Test
    void cr3StoresExitWithTheDestinationRegister_27_2_1() {
        VmxBench bench = run(guest("0f 20 db", PROC_CR3_STORE_EXITING)); // mov ebx, cr3
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(3 | 1 << 4 | 3 << 8);
    }

    @Test
    void cltsExitsOnlyWhenTsIsOwnedAndSetInTheShadow_25_1_3() {
        VmxBench bench = guest("0f 06", 0);
        bench.write(CR0_GUEST_HOST_MASK, Cpu.CR0_TS);
        bench.write(CR0_READ_SHADOW, Cpu.CR0_TS);
        assertThat(run(bench).read(EXIT_QUALIFICATION)).as("CLTS: access type 2").isEqualTo(2 << 4);
        bench = guest("0f 06  " + CPUID, 0);
        bench.write(GUEST_CR0, CR0 | Cpu.CR0_TS);
        bench.write(CR0_GUEST_HOST_MASK, Cpu.CR0_TS);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.read(GUEST_CR0) & Cpu.CR0_TS).as("owned and clear in the shadow: unchanged")
                .isEqualTo(Cpu.CR0_TS);
    }

    @Test
    void lmswExitsWithItsSourceData_27_2_1() {
        VmxBench bench = guest("66 b8 03 00  0f 01 f0", 0); // mov ax, 3; lmsw ax
        bench.write(CR0_GUEST_HOST_MASK, Cpu.CR0_MP);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CONTROL_REGISTER_ACCESS);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(3L << 16 | 3 << 4);
    }

    @Test
    void movDrExitsWithNumberDirectionAndRegister_27_2_1() {
        VmxBench bench = run(guest("0f 21 f8", PROC_MOV_DR_EXITING)); // mov eax, dr7
        assertThat(bench.exitReason()).isEqualTo(ExitReason.MOV_DR);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(7 | 1 << 4);
    }

    // ---- exceptions (25.2, 27.2.2) ----

    @Test
    void anExceptionInTheBitmapExitsWithItsInterruptionInformation_25_2() {
        VmxBench bench = guest("0f 0b", 0);
        bench.write(EXCEPTION_BITMAP, 1 << 6);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_INFO)).isEqualTo(0x80000306L);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
        assertThat(bench.read(IDT_VECTORING_INFO) & InterruptionInfo.VALID).isZero();
    }

    @Test
    void int3ExitsAsASoftwareExceptionWithItsLength_27_2_2() {
        VmxBench bench = guest("cc", 0);
        bench.write(EXCEPTION_BITMAP, 1 << 3);
        run(bench);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_INFO)).isEqualTo(0x80000603L);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(1);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
    }

    /** Reads (or writes) 0x900000, beyond the bench's 8 MiB of mappings: a not-present #PF. */
    private static VmxBench pageFault(boolean write, int bitmap, int mask, int match) {
        VmxBench bench = guest(write ? "c7 05 00 00 90 00 01 00 00 00" : "8b 05 00 00 90 00", PROC_HLT_EXITING);
        bench.write(EXCEPTION_BITMAP, bitmap);
        bench.write(PAGE_FAULT_ERROR_CODE_MASK, mask);
        bench.write(PAGE_FAULT_ERROR_CODE_MATCH, match);
        return run(bench);
    }

    @Test
    void pageFaultsFollowTheErrorCodeMaskAndMatch_25_2() {
        int pf = 1 << 14, w = 2;
        assertThat(pageFault(false, pf, 0, 0).exitReason()).as("bit 14, mask = match = 0: all exit").isZero();
        assertThat(pageFault(false, pf, w, w).exitReason()).as("mismatch: the opposite of bit 14")
                .isEqualTo(ExitReason.HLT);
        assertThat(pageFault(true, pf, w, w).exitReason()).as("match: bit 14").isZero();
        assertThat(pageFault(true, 0, w, w).exitReason()).isEqualTo(ExitReason.HLT);
        assertThat(pageFault(true, 0, w, 0).exitReason()).as("no bit 14, mismatch: exit").isZero();
        assertThat(pageFault(false, 0, 0, 0).exitReason()).isEqualTo(ExitReason.HLT);
    }

    @Test
    void aPageFaultExitLeavesCr2AndReportsTheAddress_27_1() {
        VmxBench bench = guest("8b 05 00 00 90 00", 0);
        bench.write(EXCEPTION_BITMAP, 1 << 14);
        bench.vmx.vmlaunch();
        bench.cpu.run(1000);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(0x900000);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_INFO)).isEqualTo(0x80000B0EL);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_ERROR_CODE)).isZero();
        assertThat(bench.cpu.cr(2)).isZero();
    }

    @Test
    void aFaultDuringDeliveryOfAnInjectedEventRecordsItAsIdtVectoring_27_2_3() {
        VmxBench bench = guest("f4", 0);
        bench.write(GUEST_IDTR_BASE, 0x900000); // not mapped: reading the gate faults
        bench.write(EXCEPTION_BITMAP, 1 << 14);
        bench.write(GUEST_RFLAGS, 0x202);
        int injected = InterruptionInfo.of(0x30, InterruptionInfo.EXTERNAL_INTERRUPT, false);
        bench.write(VM_ENTRY_INTERRUPTION_INFO, injected);
        run(bench);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_INFO)).isEqualTo(0x80000B0EL);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(0x900000 + 0x30 * 8);
        assertThat(bench.read(IDT_VECTORING_INFO)).isEqualTo(unsigned(injected));
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
    }

    @Test
    void aNestedExceptionThatDoesNotExitBecomesADoubleFault_25_2() {
        VmxBench bench = guest("0f 0b", 0);
        // #UD's interrupt gate is not present: #NP, which #UD (benign) does not turn into #DF; #NP's gate is not
        // present either, and #NP while delivering #NP is a double fault (SDM Vol. 3A 6.15, Table 6-5)
        bench.descriptor(GUEST_IDT + 6 * 8, 0x0E00, CODE0 << 16);
        bench.descriptor(GUEST_IDT + 11 * 8, 0x0E00, CODE0 << 16);
        bench.write(EXCEPTION_BITMAP, 1 << 8);
        run(bench);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_INFO)).isEqualTo(0x80000B08L);
    }

    @Test
    void aTripleFaultExitsWithReason2_25_2() {
        VmxBench bench = guest("0f 0b", 0);
        bench.write(GUEST_IDTR_LIMIT, 0);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.TRIPLE_FAULT);
        assertThat(bench.shutdown).isNull();
    }

    // ---- events (25.2, 26.7.5) ----

    @Test
    void externalInterruptsExitWhateverIfSaysAndAreAcknowledgedOnRequest_25_2() {
        VmxBench bench = guest("fa  eb fe", 0); // cli; jmp $
        bench.write(PIN_BASED_CONTROLS, VmxCapabilities.PIN_MUST_BE_1 | PIN_EXTERNAL_INTERRUPT_EXITING);
        bench.write(VM_EXIT_CONTROLS, VmxCapabilities.EXIT_MUST_BE_1 | EXIT_ACKNOWLEDGE_INTERRUPT);
        bench.vmx.vmlaunch();
        bench.cpu.run(50);
        bench.interrupts.pending = 0x41;
        bench.cpu.signalInterrupt();
        bench.cpu.run(50);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EXTERNAL_INTERRUPT);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_INFO)).isEqualTo(0x80000041L);
        assertThat(bench.interrupts.acknowledged).isEqualTo(0x41);
        assertThat(bench.read(GUEST_RFLAGS) & Cpu.IF).isZero();
    }

    @Test
    void withoutAcknowledgeTheInterruptStaysPending_27_2_2() {
        VmxBench bench = guest("eb fe", 0);
        bench.write(PIN_BASED_CONTROLS, VmxCapabilities.PIN_MUST_BE_1 | PIN_EXTERNAL_INTERRUPT_EXITING);
        bench.interrupts.pending = 0x41;
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EXTERNAL_INTERRUPT);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_INFO) & InterruptionInfo.VALID).isZero();
        assertThat(bench.interrupts.pending).isEqualTo(0x41);
    }

    @Test
    void withoutExitingAnInterruptGoesThroughTheGuestIdt_25_2() {
        VmxBench bench = guest("eb fe", PROC_HLT_EXITING);
        bench.write(GUEST_RFLAGS, 0x202);
        bench.interrupts.pending = 0x41;
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.HLT);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_STUBS + 0x41 * 16);
    }

    @Test
    void interruptWindowExitsAtOnceWhenOpenAndAfterTheStiShadowOtherwise_26_7_5() {
        VmxBench bench = run(guest("90", PROC_INTERRUPT_WINDOW_EXITING).guestFlags(0x202));
        assertThat(bench.exitReason()).isEqualTo(ExitReason.INTERRUPT_WINDOW);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
        bench = run(guest("fb  90  90", PROC_INTERRUPT_WINDOW_EXITING)); // sti; nop
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE + 2);
    }

    @Test
    void anExitRightAfterStiSavesBlockingByStiAndTheEntryRestoresIt_24_4_2() {
        VmxBench bench = run(guest("fb  " + CPUID, 0));
        assertThat(bench.read(GUEST_INTERRUPTIBILITY_STATE)).isEqualTo(1);
        assertThat(bench.read(GUEST_RFLAGS) & Cpu.IF).isEqualTo(Cpu.IF);
    }

    @Test
    void thePreemptionTimerExitsWhenItCountsDown_25_5_1() {
        VmxBench bench = guest("eb fe", 0);
        bench.write(PIN_BASED_CONTROLS, VmxCapabilities.PIN_MUST_BE_1 | PIN_PREEMPTION_TIMER);
        bench.write(VM_EXIT_CONTROLS, VmxCapabilities.EXIT_MUST_BE_1 | EXIT_SAVE_PREEMPTION_TIMER);
        bench.write(VMX_PREEMPTION_TIMER_VALUE, 10);
        long start = bench.cpu.retiredInstructions();
        run(bench);
        long ran = bench.cpu.retiredInstructions() - start;
        assertThat(bench.exitReason()).isEqualTo(ExitReason.PREEMPTION_TIMER);
        assertThat(ran).as("10 ticks of 2^5 TSC cycles").isBetween(9L * 32, 11L * 32);
        assertThat(bench.read(VMX_PREEMPTION_TIMER_VALUE)).isZero();
    }

    @Test
    void aHaltedGuestWithExitingInterruptsOrATimerIsNotHaltedForever_25_2_25_5_1() {
        VmxBench bench = guest("f4", 0); // IF = 0: only exits can end this halt
        bench.write(PIN_BASED_CONTROLS, VmxCapabilities.PIN_MUST_BE_1 | PIN_PREEMPTION_TIMER);
        bench.write(VMX_PREEMPTION_TIMER_VALUE, 100);
        bench.vmx.vmlaunch();
        bench.cpu.run(10);
        assertThat(bench.cpu.isHalted()).isTrue();
        assertThat(bench.cpu.interruptCanWake()).isFalse();
        long wake = bench.cpu.selfWakeNanos();
        assertThat(wake - bench.cpu.nanos()).isBetween(99L * 32, 101L * 32);
        bench.cpu.skipTimeTo(wake);
        bench.cpu.run(10);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.PREEMPTION_TIMER);
        assertThat(bench.read(GUEST_ACTIVITY_STATE)).as("saved in HLT (27.3.4)").isEqualTo(1);
    }

    @Test
    void aZeroPreemptionTimerExitsBeforeTheFirstInstruction_25_5_1() {
        VmxBench bench = guest("eb fe", 0);
        bench.write(PIN_BASED_CONTROLS, VmxCapabilities.PIN_MUST_BE_1 | PIN_PREEMPTION_TIMER);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.PREEMPTION_TIMER);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
    }

    @Test
    void aTaskSwitchExitsWithTheSelectorAndSource_27_2_1() {
        VmxBench bench = guest("ea 00 00 00 00 38 00", 0); // jmp 0x38:0
        bench.descriptor(GDT + 0x38, 0x00008900, 0x6000 << 16 | 0x67);
        bench.write(GUEST_GDTR_LIMIT, 0x3F);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.TASK_SWITCH);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(0x38 | 2L << 30);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(7);
    }

    @Test
    void aTssLimitBelow67hIsTsInTheGuestBeforeAnyExit_25_4_2() {
        VmxBench bench = guest("ea 00 00 00 00 38 00", PROC_HLT_EXITING); // jmp 0x38:0 to a TSS of limit 0x60
        bench.descriptor(GDT + 0x38, 0x00008900, 0x6000 << 16 | 0x60);
        bench.write(GUEST_GDTR_LIMIT, 0x3F);
        run(bench);
        assertThat(bench.exitReason()).as("the #TS handler's HLT, not a task switch").isEqualTo(ExitReason.HLT);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_STUBS + Exceptions.TS * 16);
    }

    // ---- 27.3, 27.5 state ----

    @Test
    void anExitSavesTheGuestStateAndLoadsTheHostState_27_3_27_5() {
        VmxBench bench = guest("bc 00 70 00 00  6a 00  " + CPUID, 0); // mov esp, 0x7000; push 0; cpuid
        bench.write(GUEST_FS_ACCESS_RIGHTS, 0x10000);
        bench.write(HOST_FS_SELECTOR, 0);
        run(bench);
        assertThat(bench.read(GUEST_RSP)).isEqualTo(0x6FFC);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE + 7);
        assertThat(bench.read(GUEST_FS_ACCESS_RIGHTS) & 0x10000).as("FS unusable").isEqualTo(0x10000);
        assertThat(bench.read(GUEST_TR_SELECTOR)).isEqualTo(TSS_GUEST);
        CpuState host = bench.cpu.captureState();
        assertThat(host.general().esp()).isEqualTo(HOST_STACK);
        assertThat(host.general().eflags()).isEqualTo(2);
        assertThat(host.segments().get(Cpu.CS).selector()).isEqualTo(CODE0);
        assertThat(host.segments().get(Cpu.CS).limit()).isEqualTo(-1);
        assertThat(host.segments().get(Cpu.FS).attributes()).as("FS selector 0: unusable").isZero();
        assertThat(host.system().gdt().limit()).isEqualTo(0xFFFF);
        assertThat(host.system().idt().base()).isEqualTo(HOST_IDT);
        assertThat(host.system().tr().selector()).isEqualTo(TSS_HOST);
        assertThat(host.system().tr().limit()).isEqualTo(0x67);
        assertThat(host.system().ldt().selector()).isZero();
    }

    @Test
    void theExitMsrListsAreStoredAndLoaded_27_4_27_6() {
        VmxBench bench = guest("b9 74 01 00 00  b8 18 00 00 00  31 d2  0f 30  " + CPUID, PROC_MSR_BITMAPS);
        bench.write(VmcsField.MSR_BITMAP, VmxBench.MSR_BITMAP);
        bench.memory.writeU32(MSR_AREA, 0x174);
        bench.write(VM_EXIT_MSR_STORE_ADDRESS, MSR_AREA);
        bench.write(VM_EXIT_MSR_STORE_COUNT, 1);
        bench.memory.writeU32(MSR_AREA + 0x100, 0x174);
        bench.memory.writeU32(MSR_AREA + 0x108, CODE0);
        bench.write(VM_EXIT_MSR_LOAD_ADDRESS, MSR_AREA + 0x100);
        bench.write(VM_EXIT_MSR_LOAD_COUNT, 1);
        run(bench);
        assertThat(bench.memory.readU32(MSR_AREA + 8)).as("the guest's SYSENTER_CS").isEqualTo(0x18);
        assertThat(bench.read(GUEST_IA32_SYSENTER_CS)).isEqualTo(0x18);
        bench.execute("b9 74 01 00 00  0f 32  f4");
        assertThat(bench.cpu.register(Cpu.EAX)).as("loaded from the exit MSR-load list").isEqualTo(CODE0);
    }

    @Test
    void aJavaHypervisorRunsAtTheHostRipInItsEntryPageAndResumesTheGuest_27_5() {
        int entryPage = 0x400000;
        VmxBench bench = guest("0f a2  0f a2  0f a2  f4", PROC_HLT_EXITING);
        bench.write(HOST_RIP, entryPage + 0x10);
        List<Integer> exits = new ArrayList<>();
        bench.cpu.setHypervisorEntryPage(entryPage, (cpu, offset) -> {
            int reason = (int) cpu.vmx().vmread(EXIT_REASON);
            exits.add(reason);
            if (reason == ExitReason.HLT) {
                cpu.setEip(HOST_EXIT); // done: continue in host code
                return;
            }
            long rip = cpu.vmx().vmread(GUEST_RIP) + cpu.vmx().vmread(VM_EXIT_INSTRUCTION_LENGTH);
            cpu.vmx().vmwrite(GUEST_RIP, rip);
            cpu.vmx().vmresume();
        });
        bench.vmx.vmlaunch();
        bench.cpu.run(10_000);
        assertThat(exits).containsExactly(ExitReason.CPUID, ExitReason.CPUID, ExitReason.CPUID, ExitReason.HLT);
        assertThat(bench.cpu.eip()).isEqualTo(HOST_EXIT + 1);
        assertThat(bench.shutdown).isNull();
    }
}

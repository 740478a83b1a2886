package hvlab.hw.cpu.vmx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.Vmx;
import org.junit.jupiter.api.Test;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxBench.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;
import static org.assertj.core.api.Assertions.assertThat;

/** APIC virtualization with "virtualize APIC accesses" and "use TPR shadow" (SDM Vol. 3C chapter 29, 26.7.7). */
class ApicVirtualizationTest {
    /** The APIC-access page and the virtual-APIC page: RAM, identity-mapped for the guest by the bench's 4 MiB pages. */
    private static final int APIC_ACCESS = 0x200000, VIRTUAL_APIC = 0x201000;
    private static final int ACCESS_PAGE_FILL = 0xDEADBEEF;

    /** A guest with both controls, HLT exiting, VTPR = {@code vtpr} and the given TPR threshold. */
    private static VmxBench guest(String code, int vtpr, int threshold) {
        VmxBench bench = new VmxBench().rootWithVmcs().launchable().guest(code);
        bench.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_HLT_EXITING | PROC_TPR_SHADOW
                | PROC_SECONDARY_CONTROLS);
        bench.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_VIRTUALIZE_APIC_ACCESSES);
        bench.write(APIC_ACCESS_ADDRESS, APIC_ACCESS);
        bench.write(VIRTUAL_APIC_ADDRESS, VIRTUAL_APIC);
        bench.write(TPR_THRESHOLD, threshold);
        bench.memory.writeU32(VIRTUAL_APIC + 0x80, vtpr);
        for (int offset = 0; offset < 0x1000; offset += 4) {
            bench.memory.writeU32(APIC_ACCESS + offset, ACCESS_PAGE_FILL);
        }
        return bench;
    }

    private static VmxBench run(VmxBench bench) {
        assertThat(bench.launchAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.vmx.inNonRootOperation()).as("back in the host").isFalse();
        return bench;
    }

    @Test
    void aTprWriteGoesToTheVirtualApicPageWithoutAnExit_29_4_3() {
        VmxBench bench = run(guest("c7 05 80 00 20 00 50 56 34 12  f4", 0, 0)); // mov dword [tpr], 0x12345650
        assertThat(bench.exitReason()).isEqualTo(ExitReason.HLT);
        assertThat(bench.memory.readU32(VIRTUAL_APIC + 0x80)).as("VTPR, bytes 81H-83H cleared").isEqualTo(0x50);
        assertThat(bench.memory.readU32(APIC_ACCESS + 0x80)).as("the APIC-access page").isEqualTo(ACCESS_PAGE_FILL);
    }

    @Test
    void tprReadsComeFromTheVirtualApicPage_29_4_2() {
        VmxBench bench = run(guest("a1 80 00 20 00  66 8b 1d 82 00 20 00  f4", 0x00AB0035, 0)); // eax, bx <- TPR
        assertThat(bench.exitReason()).isEqualTo(ExitReason.HLT);
        assertThat(bench.cpu.register(Cpu.EAX)).isEqualTo(0x00AB0035);
        assertThat(bench.cpu.register(Cpu.EBX) & 0xFFFF).isEqualTo(0xAB);
    }

    @Test
    void otherAccessesToTheApicAccessPageExitFaultLikeWithOffsetAndType_29_4_27_2_1() {
        VmxBench write = run(guest("c7 05 b0 00 20 00 00 00 00 00  f4", 0, 0)); // mov dword [eoi], 0
        assertThat(write.exitReason()).isEqualTo(ExitReason.APIC_ACCESS);
        assertThat(write.read(EXIT_QUALIFICATION)).as("offset B0H, linear write").isEqualTo(0x10B0);
        assertThat(write.read(GUEST_RIP)).as("fault-like").isEqualTo(GUEST_CODE);
        assertThat(write.memory.readU32(APIC_ACCESS + 0xB0)).isEqualTo(ACCESS_PAGE_FILL);

        VmxBench read = run(guest("a1 20 00 20 00  f4", 0, 0)); // mov eax, [apic id]
        assertThat(read.exitReason()).isEqualTo(ExitReason.APIC_ACCESS);
        assertThat(read.read(EXIT_QUALIFICATION)).as("offset 20H, linear read").isEqualTo(0x020);

        VmxBench byteWrite = run(guest("c6 05 80 00 20 00 10  f4", 0, 0)); // mov byte [tpr], 0x10
        assertThat(byteWrite.exitReason()).as("only a 32-bit TPR write is virtualized").isEqualTo(ExitReason.APIC_ACCESS);
        assertThat(byteWrite.read(EXIT_QUALIFICATION)).isEqualTo(0x1080);
    }

    @Test
    void anInstructionFetchFromTheApicAccessPageExits_29_4_1() {
        VmxBench bench = guest("f4", 0, 0);
        bench.code(APIC_ACCESS + 0x100, "f4");
        bench.write(GUEST_RIP, APIC_ACCESS + 0x100);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.APIC_ACCESS);
        assertThat(bench.read(EXIT_QUALIFICATION)).as("offset 100H, linear fetch").isEqualTo(0x2100);
    }

    @Test
    void aTprWriteBelowTheThresholdExitsTrapLike_29_1_2() {
        VmxBench bench = run(guest("c7 05 80 00 20 00 20 00 00 00  b8 07 00 00 00  f4", 0x40, 3));
        assertThat(bench.exitReason()).isEqualTo(ExitReason.TPR_BELOW_THRESHOLD);
        assertThat(bench.read(GUEST_RIP)).as("after the write").isEqualTo(GUEST_CODE + 10);
        assertThat(bench.cpu.register(Cpu.EAX)).as("the next instruction did not run").isNotEqualTo(7);
        assertThat(bench.memory.readU32(VIRTUAL_APIC + 0x80)).isEqualTo(0x20);
    }

    @Test
    void theTrapLikeExitIsExactInsideAHotLoop_29_1_2() {
        // mov ecx, 0x200; mov ebx, 0x50; loop: cmp ecx, 1; jne +5; mov ebx, 0x20; mov [tpr], ebx; inc eax; dec ecx;
        // jnz loop; hlt. Only the last iteration writes a TPR below the threshold.
        String code = "b9 00 02 00 00  bb 50 00 00 00  83 f9 01  75 05  bb 20 00 00 00  89 1d 80 00 20 00  40  49"
                + "  75 ec  f4";
        VmxBench bench = guest(code, 0x50, 3);
        bench.cpu.setRegister(Cpu.EAX, 0);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.TPR_BELOW_THRESHOLD);
        assertThat(bench.read(GUEST_RIP)).as("at the INC after the write").isEqualTo(GUEST_CODE + 26);
        assertThat(bench.cpu.register(Cpu.ECX)).isEqualTo(1);
        assertThat(bench.cpu.register(Cpu.EAX)).isEqualTo(0x1FF);
        bench.write(TPR_THRESHOLD, 0); // else the entry exits again at once (26.7.7)
        assertThat(bench.resumeAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.HLT);
        assertThat(bench.cpu.register(Cpu.EAX)).isEqualTo(0x200);
    }

    @Test
    void aWriteAtOrAboveTheThresholdDoesNotExit_29_1_2() {
        VmxBench bench = run(guest("c7 05 80 00 20 00 30 00 00 00  f4", 0x40, 3));
        assertThat(bench.exitReason()).isEqualTo(ExitReason.HLT);
    }

    @Test
    void anEntryWithVtprBelowTheThresholdExitsAtOnce_26_7_7() {
        VmxBench bench = guest("b8 07 00 00 00  f4", 0x20, 5);
        bench.cpu.setRegister(Cpu.EAX, 0);
        run(bench);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.TPR_BELOW_THRESHOLD);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
        assertThat(bench.cpu.register(Cpu.EAX)).isZero();
    }

    @Test
    void controlChecksOnTheApicFields_26_2_1_1() {
        assertThat(launch(guest("f4", 0, 0x10))).as("TPR threshold bits 31:4").isEqualTo(7);
        VmxBench misalignedVirtualApic = guest("f4", 0, 0);
        misalignedVirtualApic.write(VIRTUAL_APIC_ADDRESS, VIRTUAL_APIC + 0x80);
        assertThat(launch(misalignedVirtualApic)).isEqualTo(7);
        VmxBench misalignedAccessPage = guest("f4", 0, 0);
        misalignedAccessPage.write(APIC_ACCESS_ADDRESS, APIC_ACCESS + 0x10);
        assertThat(launch(misalignedAccessPage)).isEqualTo(7);
        VmxBench shadowOnly = guest("f4", 0x20, 5);
        shadowOnly.write(SECONDARY_PROCESSOR_CONTROLS, 0);
        assertThat(launch(shadowOnly)).as("TPR shadow alone: threshold above VTPR[7:4] fails the entry").isEqualTo(7);
        shadowOnly.write(TPR_THRESHOLD, 2);
        assertThat(launch(shadowOnly)).isEqualTo(Vmx.SUCCEED);
    }

    private static int launch(VmxBench bench) {
        return bench.vmx.vmlaunch();
    }

    @Test
    void theCapabilityMsrsOfferBothControls_A_3() {
        VmxBench bench = new VmxBench();
        bench.execute("b9 8e 04 00 00  0f 32  f4"); // rdmsr IA32_VMX_TRUE_PROCBASED_CTLS
        assertThat(bench.cpu.register(Cpu.EDX) & PROC_TPR_SHADOW).isNotZero();
        bench.execute("b9 8b 04 00 00  0f 32  f4"); // rdmsr IA32_VMX_PROCBASED_CTLS2
        assertThat(bench.cpu.register(Cpu.EDX) & PROC2_VIRTUALIZE_APIC_ACCESSES).isNotZero();
    }
}

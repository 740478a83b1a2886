package hvlab.hw.cpu.vmx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.Vmx;
import org.junit.jupiter.api.Test;

import static hvlab.hw.cpu.vmx.VmxBench.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The VMX instructions in VMX root operation and outside it (SDM Vol. 3C 30.2 conventions, 30.3 per instruction,
 * 30.4 error numbers), executed as machine code and through the Java facade, which must agree.
 */
class VmxInstructionTest {
    private static final String VMXON_EAX = "f3 0f c7 30", VMPTRLD_EAX = "0f c7 30", VMCLEAR_EAX = "66 0f c7 30",
            VMPTRST_EAX = "0f c7 38", VMLAUNCH = "0f 01 c2", VMRESUME = "0f 01 c3", VMXOFF = "0f 01 c4",
            VMCALL = "0f 01 c1";

    /** mov eax, address (the m64 operand's address); then the instruction; hlt. */
    private static String withOperand(int address, String instruction) {
        return String.format("b8 %02x %02x %02x %02x  %s  f4", address & 0xFF, address >>> 8 & 0xFF,
                address >>> 16 & 0xFF, address >>> 24, instruction);
    }

    private static void qword(VmxBench bench, int at, long value) {
        bench.memory.writeU32(at, (int) value);
        bench.memory.writeU32(at + 4, (int) (value >>> 32));
    }

    private static boolean faulted(Cpu cpu, int vector) {
        return cpu.eip() == HOST_STUBS + vector * 16 + 1;
    }

    @Test
    void vmxonRaisesUdWhileCr4VmxeIsClear_30_3() {
        VmxBench bench = new VmxBench();
        qword(bench, 0x9000, VMXON_REGION);
        // mov eax, cr4; and eax, ~VMXE; mov cr4, eax; then VMXON [0x9000]
        Cpu cpu = bench.execute("0f 20 e0  25 ff df ff ff  0f 22 e0  " + withOperand(0x9000, VMXON_EAX));
        assertThat(faulted(cpu, 6)).isTrue();
    }

    @Test
    void vmxonRaisesGpWithFeatureControlUnlocked_30_3() {
        VmxBench bench = new VmxBench();
        bench.cpu.reset();
        bench.cpu.setVmxSupported(true);
        qword(bench, 0x9000, VMXON_REGION);
        assertThat(faulted(bench.execute(withOperand(0x9000, VMXON_EAX)), 13)).isTrue();
        assertThat(bench.vmx.inVmxOperation()).isFalse();
    }

    @Test
    void vmxonRaisesGpWhenCr0BreaksTheFixedBits_23_8() {
        VmxBench bench = new VmxBench();
        qword(bench, 0x9000, VMXON_REGION);
        // mov eax, cr0; and eax, ~NE; mov cr0, eax; VMXON: CR0.NE must be 1 (IA32_VMX_CR0_FIXED0)
        Cpu cpu = bench.execute("0f 20 c0  83 e0 df  0f 22 c0  " + withOperand(0x9000, VMXON_EAX));
        assertThat(faulted(cpu, 13)).isTrue();
    }

    @Test
    void vmxonAtCpl3RaisesGp_30_3() {
        VmxBench bench = new VmxBench();
        qword(bench, 0x9000, VMXON_REGION);
        Cpu cpu = bench.executeAt(0x30000, 3, withOperand(0x9000, VMXON_EAX));
        assertThat(faulted(cpu, 13)).isTrue();
    }

    @Test
    void vmxonEntersVmxOperationWithNoCurrentVmcs_30_3() {
        VmxBench bench = new VmxBench();
        qword(bench, 0x9000, VMXON_REGION);
        Cpu cpu = bench.execute("b8 ff ff ff ff  0f ba e8 00  " + withOperand(0x9000, VMXON_EAX)); // CF=1 before
        assertThat(bench.flags()).as("VMsucceed clears CF PF AF ZF SF OF").isZero();
        assertThat(bench.vmx.inVmxOperation()).isTrue();
        assertThat(bench.vmx.vmptrst()).isEqualTo(-1L);
    }

    @Test
    void vmxonFailsInvalidOnAMisalignedRegionOrAWrongRevision_30_3() {
        VmxBench bench = new VmxBench();
        assertThat(bench.vmx.vmxon(VMXON_REGION + 8)).isEqualTo(Vmx.FAIL_INVALID);
        assertThat(bench.flags()).isEqualTo(Cpu.CF);
        assertThat(bench.vmx.vmxon(1L << 32)).as("beyond the 32-bit physical width").isEqualTo(Vmx.FAIL_INVALID);
        bench.memory.writeU32(VMXON_REGION, VmxCapabilities.REVISION_ID | 0x80000000);
        assertThat(bench.vmx.vmxon(VMXON_REGION)).as("shadow bit set").isEqualTo(Vmx.FAIL_INVALID);
        bench.memory.writeU32(VMXON_REGION, VmxCapabilities.REVISION_ID + 1);
        assertThat(bench.vmx.vmxon(VMXON_REGION)).isEqualTo(Vmx.FAIL_INVALID);
        assertThat(bench.vmx.inVmxOperation()).isFalse();
    }

    @Test
    void vmxonInRootFailsWithError15OnlyWhenAVmcsIsCurrent_30_3() {
        VmxBench bench = new VmxBench();
        VmxBench.check(bench.vmx.vmxon(VMXON_REGION));
        assertThat(bench.vmx.vmxon(VMXON_REGION)).as("no current VMCS: VMfailInvalid").isEqualTo(Vmx.FAIL_INVALID);
        VmxBench.check(bench.vmx.vmptrld(VMCS));
        assertThat(bench.vmx.vmxon(VMXON_REGION)).isEqualTo(VmInstructionError.VMXON_IN_ROOT);
        assertThat(bench.flags()).isEqualTo(Cpu.ZF);
        assertThat(bench.read(VmcsField.VM_INSTRUCTION_ERROR)).isEqualTo(15);
    }

    @Test
    void vmxInstructionsOutsideVmxOperationRaiseUd_30_3() {
        VmxBench bench = new VmxBench();
        qword(bench, 0x9000, VMCS);
        for (String insn : new String[] {VMPTRLD_EAX, VMCLEAR_EAX, VMPTRST_EAX, VMLAUNCH, VMRESUME, VMXOFF, VMCALL,
            "0f 78 c3", "0f 79 c3", "66 0f 38 80 00", "0f 01 d4"}) {
            assertThat(faulted(bench.execute(withOperand(0x9000, insn)), 6)).as(insn).isTrue();
        }
    }

    @Test
    void registerFormsOf0fC7Slash6And7AreRdrandAndRdseedWhichThisProcessorLacks_30_3() {
        VmxBench bench = new VmxBench();
        VmxBench.check(bench.vmx.vmxon(VMXON_REGION));
        assertThat(faulted(bench.execute("0f c7 f0  f4"), 6)).isTrue();
        assertThat(faulted(bench.execute("0f c7 f8  f4"), 6)).isTrue();
    }

    @Test
    void vmxInstructionsInRootAtCpl3RaiseGp_30_3() {
        VmxBench bench = new VmxBench();
        VmxBench.check(bench.vmx.vmxon(VMXON_REGION));
        assertThat(faulted(bench.executeAt(0x30000, 3, VMCALL + " f4"), 13)).isTrue();
        assertThat(faulted(bench.executeAt(0x30000, 3, "0f 78 c3  f4"), 13)).isTrue();
    }

    @Test
    void vmptrldChecksAddressVmxonPointerAndRevision_30_3() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        assertThat(bench.vmx.vmptrld(VMCS + 0x10)).isEqualTo(VmInstructionError.VMPTRLD_INVALID_ADDRESS);
        assertThat(bench.vmx.vmptrld(VMXON_REGION)).isEqualTo(VmInstructionError.VMPTRLD_VMXON_POINTER);
        bench.memory.writeU32(VMCS2, 0x7777);
        assertThat(bench.vmx.vmptrld(VMCS2)).isEqualTo(VmInstructionError.VMPTRLD_BAD_REVISION);
        assertThat(bench.read(VmcsField.VM_INSTRUCTION_ERROR)).isEqualTo(11);
        assertThat(bench.vmx.vmptrst()).as("the current VMCS stays").isEqualTo(VMCS);
    }

    @Test
    void vmptrldByInstructionMakesTheVmcsCurrentAndVmptrstStoresIt_30_3() {
        VmxBench bench = new VmxBench();
        VmxBench.check(bench.vmx.vmxon(VMXON_REGION));
        qword(bench, 0x9000, VMCS2);
        bench.execute(withOperand(0x9000, VMPTRLD_EAX));
        assertThat(bench.flags()).isZero();
        qword(bench, 0x9100, 0);
        bench.execute(withOperand(0x9100, VMPTRST_EAX));
        assertThat(bench.memory.readU32(0x9100)).isEqualTo(VMCS2);
    }

    @Test
    void vmclearChecksItsOperandAndClearsTheCurrentPointer_30_3() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        assertThat(bench.vmx.vmclear(VMCS + 1)).isEqualTo(VmInstructionError.VMCLEAR_INVALID_ADDRESS);
        assertThat(bench.vmx.vmclear(VMXON_REGION)).isEqualTo(VmInstructionError.VMCLEAR_VMXON_POINTER);
        qword(bench, 0x9000, VMCS);
        bench.execute(withOperand(0x9000, VMCLEAR_EAX));
        assertThat(bench.flags()).isZero();
        assertThat(bench.vmx.vmptrst()).isEqualTo(-1L);
        assertThat(bench.vmx.vmread(VmcsField.GUEST_RIP)).isZero();
        assertThat(bench.vmx.status()).as("no current VMCS").isEqualTo(Vmx.FAIL_INVALID);
    }

    @Test
    void vmreadAndVmwriteFailOnUnsupportedAndReadOnlyFields_30_3() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        assertThat(bench.vmx.vmwrite(VmcsField.GUEST_IA32_PAT, 0)).isEqualTo(VmInstructionError.UNSUPPORTED_FIELD);
        assertThat(bench.vmx.vmwrite(0x6801, 0)).as("high access to a natural-width field")
                .isEqualTo(VmInstructionError.UNSUPPORTED_FIELD);
        assertThat(bench.vmx.vmwrite(VmcsField.EXIT_REASON, 1)).isEqualTo(VmInstructionError.VMWRITE_READ_ONLY);
        bench.vmx.vmread(0x7777);
        assertThat(bench.vmx.status()).isEqualTo(VmInstructionError.UNSUPPORTED_FIELD);
    }

    @Test
    void vmreadAndVmwriteMoveFieldsThroughRegistersTruncatedToTheFieldWidth_24_11_2() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        // mov eax, 0x0800 (guest ES selector); mov ebx, 0x12345678; vmwrite eax, ebx; vmread ecx, eax
        bench.execute("b8 00 08 00 00  bb 78 56 34 12  0f 79 c3  0f 78 c1  f4");
        assertThat(bench.flags()).isZero();
        assertThat(bench.cpu.register(Cpu.ECX)).isEqualTo(0x5678);
    }

    @Test
    void aFullAccessVmwriteFrom32BitCodeClearsTheHighHalfOfA64BitField_30_3() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        bench.write(VmcsField.TSC_OFFSET, 0x1111111122222222L);
        // mov eax, 0x2010; mov ebx, 0x33333333; vmwrite eax, ebx; then the high half: eax |= 1; vmread ecx, eax
        bench.execute("b8 10 20 00 00  bb 33 33 33 33  0f 79 c3  83 c8 01  0f 78 c1  f4");
        assertThat(bench.read(VmcsField.TSC_OFFSET)).isEqualTo(0x33333333L);
        assertThat(bench.cpu.register(Cpu.ECX)).isZero();
        bench.write(VmcsField.TSC_OFFSET | 1, 0x44);
        assertThat(bench.read(VmcsField.TSC_OFFSET)).isEqualTo(0x4433333333L);
    }

    @Test
    void vmreadToMemoryWritesTheField_30_3() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        bench.write(VmcsField.GUEST_RIP, 0xCAFE);
        // mov eax, 0x681E; mov ebx, 0x9000; vmread [ebx], eax
        bench.execute("b8 1e 68 00 00  bb 00 90 00 00  0f 78 03  f4");
        assertThat(bench.memory.readU32(0x9000)).isEqualTo(0xCAFE);
    }

    @Test
    void theVmcsDataGoesToItsRegionOnVmclearAndComesBackOnVmptrld_24_11_1() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        bench.write(VmcsField.GUEST_RIP, 0xABCD);
        VmxBench.check(bench.vmx.vmclear(VMCS));
        bench.memory.writeU32(VMCS2, VmxCapabilities.REVISION_ID);
        VmxBench.check(bench.vmx.vmptrld(VMCS2));
        VmxBench.check(bench.vmx.vmptrld(VMCS));
        assertThat(bench.read(VmcsField.GUEST_RIP)).isEqualTo(0xABCD);
    }

    @Test
    void vmlaunchNeedsAClearVmcsAndVmresumeALaunchedOne_30_3() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        assertThat(bench.vmx.vmresume()).isEqualTo(VmInstructionError.VMRESUME_NON_LAUNCHED);
        bench.launchable().guest("0f a2"); // cpuid exits at once
        assertThat(bench.launchAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.vmx.vmlaunch()).isEqualTo(VmInstructionError.VMLAUNCH_NON_CLEAR);
        assertThat(bench.flags()).isEqualTo(Cpu.ZF);
    }

    @Test
    void vmresumeAfterVmxoffAndVmxonFailsWithError6_30_4() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        bench.launchable().guest("0f a2");
        bench.launchAndRun();
        VmxBench.check(bench.vmx.vmxoff());
        VmxBench.check(bench.vmx.vmxon(VMXON_REGION));
        VmxBench.check(bench.vmx.vmptrld(VMCS));
        assertThat(bench.vmx.vmresume()).isEqualTo(VmInstructionError.VMRESUME_AFTER_VMXOFF);
    }

    @Test
    void vmlaunchWithoutCurrentVmcsFailsInvalid_30_3() {
        VmxBench bench = new VmxBench();
        VmxBench.check(bench.vmx.vmxon(VMXON_REGION));
        bench.execute(VMLAUNCH + " f4");
        assertThat(bench.flags()).isEqualTo(Cpu.CF);
    }

    @Test
    void vmcallInRootFailsWithError1_30_3() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        bench.execute(VMCALL + " f4");
        assertThat(bench.flags()).isEqualTo(Cpu.ZF);
        assertThat(bench.read(VmcsField.VM_INSTRUCTION_ERROR)).isEqualTo(VmInstructionError.VMCALL_IN_ROOT);
    }

    @Test
    void vmxoffLeavesVmxOperationAndCr4VmxeMayThenBeCleared_23_8() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        // mov cr4 without VMXE in VMX operation: #GP (23.8)
        assertThat(faulted(bench.execute("b8 10 00 00 00  0f 22 e0  f4"), 13)).isTrue();
        bench.execute(VMXOFF + " f4");
        assertThat(bench.vmx.inVmxOperation()).isFalse();
        assertThat(faulted(bench.execute("b8 10 00 00 00  0f 22 e0  f4"), 13)).isFalse();
    }

    @Test
    void invvpidChecksTypeAndDescriptor_30_3() {
        VmxBench bench = new VmxBench().rootWithVmcs();
        assertThat(bench.vmx.invvpid(1, 0, 0)).as("VPID 0").isEqualTo(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND);
        assertThat(bench.vmx.invvpid(1, 1 << 16, 0)).as("bits 63:16").isEqualTo(28);
        assertThat(bench.vmx.invvpid(0, 1, 1L << 32)).as("a linear address beyond 32 bits").isEqualTo(28);
        assertThat(bench.vmx.invvpid(0, 1, 0x1000)).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.vmx.invvpid(2, 0, 0)).as("all contexts need no VPID").isEqualTo(Vmx.SUCCEED);
        assertThat(bench.vmx.invvpid(4, 1, 0)).isEqualTo(28);
        // by instruction: mov ecx, type; mov ebx, 0x9000; invvpid ecx, [ebx]
        qword(bench, 0x9000, 1);
        qword(bench, 0x9008, 0);
        bench.execute("b9 03 00 00 00  bb 00 90 00 00  66 0f 38 81 0b  f4");
        assertThat(bench.flags()).isZero();
        bench.execute("b9 05 00 00 00  bb 00 90 00 00  66 0f 38 81 0b  f4");
        assertThat(bench.flags()).isEqualTo(Cpu.ZF);
        assertThat(bench.read(VmcsField.VM_INSTRUCTION_ERROR)).isEqualTo(28);
    }

    @Test
    void theSecondaryControlsOfferEptWithWhatComesWithIt_A3_3() {
        long allowed = VmxCapabilities.read(VmxCapabilities.IA32_VMX_PROCBASED_CTLS2) >>> 32;
        assertThat(allowed & VmxControls.PROC2_VPID).isNotZero();
        assertThat(allowed & VmxControls.PROC2_EPT).isNotZero();
        assertThat(allowed & VmxControls.PROC2_UNRESTRICTED_GUEST).isNotZero();
        assertThat(allowed & VmxControls.PROC2_VM_FUNCTIONS).isNotZero();
        assertThat(VmxCapabilities.isCapabilityMsr(VmxCapabilities.IA32_VMX_VMFUNC)).isTrue();
        assertThat(VmxCapabilities.read(VmxCapabilities.IA32_VMX_VMFUNC)).as("EPTP switching only (A.11)").isEqualTo(1);
    }

    @Test
    void theEptCapabilitiesAgreeWithEachOther_A_10() {
        long cap = VmxCapabilities.read(VmxCapabilities.IA32_VMX_EPT_VPID_CAP);
        assertThat(cap & VmxCapabilities.EPT_WALK_4).as("4-level walk").isNotZero();
        assertThat(cap & VmxCapabilities.EPT_WB).isNotZero();
        assertThat(cap & VmxCapabilities.EPT_UC).isNotZero();
        assertThat(cap & (VmxCapabilities.EPT_2MB_PAGES | VmxCapabilities.EPT_1GB_PAGES))
                .isEqualTo(VmxCapabilities.EPT_2MB_PAGES | VmxCapabilities.EPT_1GB_PAGES);
        assertThat(cap & VmxCapabilities.EPT_ACCESSED_DIRTY).isNotZero();
        assertThat(cap & VmxCapabilities.EPT_INVEPT).as("INVEPT, since both types are there").isNotZero();
        assertThat(cap & (VmxCapabilities.EPT_INVEPT_SINGLE | VmxCapabilities.EPT_INVEPT_ALL))
                .isEqualTo(VmxCapabilities.EPT_INVEPT_SINGLE | VmxCapabilities.EPT_INVEPT_ALL);
        assertThat(cap & 1L << 7).as("no 5-level walk").isZero();
        assertThat(cap & 1L << 22).as("no advanced VM-exit information").isZero();
        long trueProc2 = VmxCapabilities.read(VmxCapabilities.IA32_VMX_PROCBASED_CTLS2);
        assertThat((int) trueProc2).as("no secondary control is forced on").isZero();
    }
}

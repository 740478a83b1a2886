package hvlab.hw.cpu.vmx;

import hvlab.hw.cpu.Cpu;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Discovery and enablement of VMX (SDM Vol. 3C 23.6-23.8) and the capability MSRs (Appendix A). */
class VmxCapabilitiesTest {
    /** rdmsr ECX=msr; the result in EDX:EAX, then HLT. */
    private static String rdmsr(int msr) {
        return String.format("b9 %02x %02x %02x %02x  0f 32  f4", msr & 0xFF, msr >>> 8 & 0xFF, msr >>> 16 & 0xFF,
                msr >>> 24);
    }

    private static long rdmsr(VmxBench bench, int msr) {
        Cpu cpu = bench.execute(rdmsr(msr));
        assertThat(cpu.eip()).as("RDMSR %x must not fault", msr).isEqualTo(VmxBench.HOST_CODE + 8);
        return (long) cpu.register(Cpu.EDX) << 32 | cpu.register(Cpu.EAX) & 0xFFFFFFFFL;
    }

    private static boolean faulted(Cpu cpu, int vector) {
        return cpu.eip() == VmxBench.HOST_STUBS + vector * 16 + 1;
    }

    @Test
    void cpuid1ReportsVmxInEcxBit5OnlyOnAMachineWithVmx_23_6() {
        VmxBench bench = new VmxBench();
        String cpuid1 = "b8 01 00 00 00  0f a2  f4";
        assertThat(bench.execute(cpuid1).register(Cpu.ECX) & 0x20).isEqualTo(0x20);
        bench.cpu.setVmxSupported(false);
        assertThat(bench.execute(cpuid1).register(Cpu.ECX) & 0x20).isZero();
    }

    @Test
    void withoutVmxTheVmxMsrsAndCr4VmxeRaiseGp_23_7() {
        VmxBench bench = new VmxBench();
        bench.cpu.setVmxSupported(false);
        assertThat(faulted(bench.execute(rdmsr(0x480)), 13)).isTrue();
        assertThat(faulted(bench.execute(rdmsr(0x3A)), 13)).isTrue();
        // mov eax, cr4; mov cr4, eax with VMXE (the bench's CR4 has it): #GP without VMX
        assertThat(faulted(bench.execute("b8 10 20 00 00  0f 22 e0  f4"), 13)).isTrue();
    }

    @Test
    void featureControlLocksAgainstFurtherWrites_23_7() {
        VmxBench bench = new VmxBench(); // the bench wrote lock | VMX outside SMX
        assertThat(rdmsr(bench, 0x3A)).isEqualTo(5);
        Cpu cpu = bench.execute("b9 3a 00 00 00  b8 04 00 00 00  31 d2  0f 30  f4");
        assertThat(faulted(cpu, 13)).as("WRMSR to a locked IA32_FEATURE_CONTROL").isTrue();
    }

    @Test
    void featureControlRejectsVmxInsideSmxWithoutSmx_23_7() {
        VmxBench bench = new VmxBench();
        bench.cpu.reset(); // power-on: IA32_FEATURE_CONTROL is 0 and unlocked
        bench.cpu.setVmxSupported(true);
        assertThat(faulted(bench.execute("b9 3a 00 00 00  b8 02 00 00 00  31 d2  0f 30  f4"), 13)).isTrue();
        assertThat(rdmsr(bench, 0x3A)).isZero();
    }

    @Test
    void capabilityMsrsAreReadOnly_AppendixA() {
        VmxBench bench = new VmxBench();
        assertThat(faulted(bench.execute("b9 80 04 00 00  31 c0  31 d2  0f 30  f4"), 13)).isTrue();
    }

    @Test
    void basicReportsRevisionRegionSizeWidthMemoryTypeAndTrueMsrs_A1() {
        long basic = rdmsr(new VmxBench(), 0x480);
        assertThat(basic & 0x7FFFFFFF).isEqualTo(VmxCapabilities.REVISION_ID);
        assertThat(basic >>> 32 & 0x1FFF).isEqualTo(4096);
        assertThat(basic >>> 48 & 1).as("32-bit VMX pointers").isEqualTo(1);
        assertThat(basic >>> 50 & 0xF).as("write-back VMCS").isEqualTo(6);
        assertThat(basic >>> 55 & 1).as("TRUE_* MSRs").isEqualTo(1);
    }

    @Test
    void trueProcBasedLetsCr3ExitingBeZeroWhileTheOldMsrForcesIt_A3_2() {
        VmxBench bench = new VmxBench();
        long old = rdmsr(bench, 0x482), allowedTrue = rdmsr(bench, 0x48E);
        int cr3Exiting = VmxControls.PROC_CR3_LOAD_EXITING | VmxControls.PROC_CR3_STORE_EXITING;
        assertThat((int) old & cr3Exiting).isEqualTo(cr3Exiting);
        assertThat((int) allowedTrue & cr3Exiting).isZero();
        assertThat((int) (allowedTrue >>> 32) & cr3Exiting).isEqualTo(cr3Exiting);
    }

    @Test
    void cr8ExitingMayNotBeSetWithoutIntel64_Table24_6() {
        long allowed = rdmsr(new VmxBench(), 0x48E);
        int cr8 = VmxControls.PROC_CR8_LOAD_EXITING | VmxControls.PROC_CR8_STORE_EXITING;
        assertThat((int) (allowed >>> 32) & cr8).isZero();
    }

    @Test
    void fixedMsrsPinPeNePgAndVmxe_A7_A8() {
        VmxBench bench = new VmxBench();
        assertThat(rdmsr(bench, 0x486)).isEqualTo(0x80000021L);
        assertThat(rdmsr(bench, 0x488)).isEqualTo(0x2000L);
        assertThat(rdmsr(bench, 0x489) & 0x2000).isEqualTo(0x2000);
        assertThat(rdmsr(bench, 0x489) & 0x20).as("no PAE on this processor").isZero();
    }

    @Test
    void cr4TakesEveryBitCr4Fixed1AllowsAndNoOther_A8() {
        VmxBench bench = new VmxBench();
        int fixed1 = (int) rdmsr(bench, 0x489);
        String movCr4 = "b8 %02x %02x %02x %02x  0f 22 e0  f4"; // mov eax, value; mov cr4, eax
        assertThat(faulted(bench.execute(String.format(movCr4, fixed1 & 0xFF, fixed1 >>> 8 & 0xFF,
                fixed1 >>> 16 & 0xFF, fixed1 >>> 24)), 13)).isFalse();
        for (int bit = 0; bit < 22; bit++) {
            if ((fixed1 & 1 << bit) == 0) {
                int value = VmxBench.CR4 | 1 << bit;
                assertThat(faulted(bench.execute(String.format(movCr4, value & 0xFF, value >>> 8 & 0xFF,
                        value >>> 16 & 0xFF, value >>> 24)), 13)).as("CR4 bit %d", bit).isTrue();
            }
        }
    }

    @Test
    void vmcsEnumReportsTheHighestFieldIndex_A9() {
        long enumeration = rdmsr(new VmxBench(), 0x48A);
        int highest = 0;
        for (int slot = 0; slot < VmcsField.count(); slot++) {
            highest = Math.max(highest, VmcsField.encodingAt(slot) >>> 1 & 0x1FF);
        }
        assertThat(enumeration >>> 1 & 0x1FF).isEqualTo(highest);
    }

    @Test
    void fieldEncodingsFollowTheWidthTypeIndexRule_24_11_2() {
        assertThat(VmcsField.width(VmcsField.GUEST_CR0)).isEqualTo(VmcsField.WIDTH_NATURAL);
        assertThat(VmcsField.type(VmcsField.GUEST_CR0)).isEqualTo(VmcsField.TYPE_GUEST);
        assertThat(VmcsField.width(VmcsField.EPT_POINTER)).isEqualTo(VmcsField.WIDTH_64);
        assertThat(VmcsField.isReadOnly(VmcsField.EXIT_REASON)).isTrue();
        assertThat(VmcsField.guestAccessRights(Cpu.GS)).isEqualTo(0x481E);
        assertThat(VmcsField.isSupported(VmcsField.EPT_POINTER | 1)).as("high half of a 64-bit field").isTrue();
        assertThat(VmcsField.isSupported(VmcsField.GUEST_CR0 | 1)).as("high access to a natural field").isFalse();
        assertThat(VmcsField.isSupported(VmcsField.GUEST_IA32_PAT)).as("no PAT on this processor").isFalse();
        assertThat(VmcsField.isSupported(0x10000 | VmcsField.GUEST_CR0)).as("bits 31:15 set").isFalse();
    }
}

package hvlab.hw.cpu.vmx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.Vmx;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxBench.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;
import static org.assertj.core.api.Assertions.assertThat;

/** VM entry (SDM Vol. 3C chapter 26): each check's failure mode, guest-state loading, event injection. */
class VmEntryTest {
    private static VmxBench ready() {
        return new VmxBench().rootWithVmcs().launchable();
    }

    /** The VMLAUNCH result after {@code change} breaks a launchable VMCS. */
    private static int launchAfter(Consumer<VmxBench> change) {
        VmxBench bench = ready();
        change.accept(bench);
        return bench.vmx.vmlaunch();
    }

    /** The exit reason after a VMLAUNCH that the guest-state checks fail (26.3.1, 26.8). */
    private static VmxBench failedEntry(Consumer<VmxBench> change) {
        VmxBench bench = ready().guest("f4");
        change.accept(bench);
        assertThat(bench.launchAndRun()).as("the instruction itself succeeds").isEqualTo(Vmx.SUCCEED);
        return bench;
    }

    private static final int INVALID_GUEST_STATE = ExitReason.INVALID_GUEST_STATE | ExitReason.ENTRY_FAILURE;

    @Test
    void aLaunchableVmcsEntersTheGuest_26() {
        VmxBench bench = ready().guest("b8 07 00 00 00  0f a2"); // mov eax, 7; cpuid
        assertThat(bench.launchAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.cpu.register(Cpu.EAX)).as("the guest ran; GPRs are not switched (27.5)").isEqualTo(7);
        assertThat(bench.cpu.eip()).isEqualTo(HOST_EXIT + 1);
    }

    // ---- 26.2.1 controls: VMfailValid(7) ----

    @Test
    void aClearedDefault1PinBasedBitFailsWithError7_26_2_1_1() {
        assertThat(launchAfter(b -> b.write(PIN_BASED_CONTROLS, 0))).isEqualTo(7);
    }

    @Test
    void aPrimaryControlThatMayNotBeSetFailsWithError7_26_2_1_1() {
        assertThat(launchAfter(b -> b.write(PRIMARY_PROCESSOR_CONTROLS,
                VmxCapabilities.PROC_MUST_BE_1 | PROC_CR8_LOAD_EXITING))).isEqualTo(7);
    }

    @Test
    void secondaryControlsAreCheckedOnlyWhenActivated_26_2_1_1() {
        assertThat(launchAfter(b -> b.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_VMCS_SHADOWING)))
                .as("not activated: ignored").isEqualTo(Vmx.SUCCEED);
        assertThat(launchAfter(b -> {
            b.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_SECONDARY_CONTROLS);
            b.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_VMCS_SHADOWING);
        })).isEqualTo(7);
    }

    @Test
    void moreThanFourCr3TargetsFailWithError7_26_2_1_1() {
        assertThat(launchAfter(b -> b.write(CR3_TARGET_COUNT, 5))).isEqualTo(7);
        assertThat(launchAfter(b -> b.write(CR3_TARGET_COUNT, 4))).isEqualTo(Vmx.SUCCEED);
    }

    @Test
    void bitmapAddressesMustBePageAligned_26_2_1_1() {
        assertThat(launchAfter(b -> {
            b.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_IO_BITMAPS);
            b.write(IO_BITMAP_A, IO_A);
            b.write(IO_BITMAP_B, IO_B + 0x800);
        })).isEqualTo(7);
        assertThat(launchAfter(b -> {
            b.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_MSR_BITMAPS);
            b.write(VmcsField.MSR_BITMAP, 1L << 32);
        })).isEqualTo(7);
    }

    @Test
    void virtualNmisNeedNmiExitingAndNmiWindowNeedsVirtualNmis_26_2_1_1() {
        assertThat(launchAfter(b -> b.write(PIN_BASED_CONTROLS, VmxCapabilities.PIN_MUST_BE_1 | PIN_VIRTUAL_NMIS)))
                .isEqualTo(7);
        assertThat(launchAfter(b -> b.write(PRIMARY_PROCESSOR_CONTROLS,
                VmxCapabilities.PROC_MUST_BE_1 | PROC_NMI_WINDOW_EXITING))).isEqualTo(7);
    }

    @Test
    void enableVpidNeedsANonZeroVpidAndUnrestrictedGuestNeedsEpt_26_2_1_1() {
        assertThat(launchAfter(b -> {
            b.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_SECONDARY_CONTROLS);
            b.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_VPID);
        })).isEqualTo(7);
        assertThat(launchAfter(b -> {
            b.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_SECONDARY_CONTROLS);
            b.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_UNRESTRICTED_GUEST);
        })).isEqualTo(7);
    }

    @Test
    void savingThePreemptionTimerNeedsTheTimer_26_2_1_2() {
        assertThat(launchAfter(b -> b.write(VM_EXIT_CONTROLS,
                VmxCapabilities.EXIT_MUST_BE_1 | EXIT_SAVE_PREEMPTION_TIMER))).isEqualTo(7);
    }

    @Test
    void msrListsMustBe16ByteAligned_26_2_1_2() {
        assertThat(launchAfter(b -> {
            b.write(VM_EXIT_MSR_LOAD_COUNT, 1);
            b.write(VM_EXIT_MSR_LOAD_ADDRESS, MSR_AREA + 8);
        })).isEqualTo(7);
        assertThat(launchAfter(b -> {
            b.write(VM_ENTRY_MSR_LOAD_COUNT, 0);
            b.write(VM_ENTRY_MSR_LOAD_ADDRESS, MSR_AREA + 8);
        })).as("no entries: the address is not checked").isEqualTo(Vmx.SUCCEED);
    }

    @Test
    void injectionFieldsAreChecked_26_2_1_3() {
        int valid = InterruptionInfo.VALID;
        assertThat(launchAfter(b -> b.write(VM_ENTRY_INTERRUPTION_INFO, valid | 1 << 8 | 0x20)))
                .as("reserved type 1").isEqualTo(7);
        assertThat(launchAfter(b -> b.write(VM_ENTRY_INTERRUPTION_INFO, valid | 2 << 8 | 3)))
                .as("NMI with vector 3").isEqualTo(7);
        assertThat(launchAfter(b -> b.write(VM_ENTRY_INTERRUPTION_INFO, valid | 3 << 8 | 32)))
                .as("hardware exception above 31").isEqualTo(7);
        assertThat(launchAfter(b -> b.write(VM_ENTRY_INTERRUPTION_INFO, valid | 3 << 8 | 13)))
                .as("#GP without its error code").isEqualTo(7);
        assertThat(launchAfter(b -> b.write(VM_ENTRY_INTERRUPTION_INFO, valid | 1 << 11 | 3 << 8 | 6)))
                .as("#UD with an error code").isEqualTo(7);
        assertThat(launchAfter(b -> {
            b.write(VM_ENTRY_INTERRUPTION_INFO, valid | 1 << 11 | 3 << 8 | 13);
            b.write(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000);
        })).as("error code bits 31:15").isEqualTo(7);
        assertThat(launchAfter(b -> b.write(VM_ENTRY_INTERRUPTION_INFO, valid | 4 << 8 | 0x80)))
                .as("INT n with instruction length 0").isEqualTo(7);
        assertThat(launchAfter(b -> b.write(VM_ENTRY_INTERRUPTION_INFO, valid | 1 << 12 | 0x20)))
                .as("reserved bit 12").isEqualTo(7);
    }

    // ---- 26.2.2-26.2.4 host state: VMfailValid(8) ----

    @Test
    void hostControlRegistersMustMeetTheFixedBits_26_2_2() {
        assertThat(launchAfter(b -> b.write(HOST_CR0, CR0 & ~Cpu.CR0_PG))).isEqualTo(8);
        assertThat(launchAfter(b -> b.write(HOST_CR4, CR4 & ~0x2000))).isEqualTo(8);
    }

    @Test
    void hostSelectorsNeedRplAndTiZeroAndCsTrSsNonNull_26_2_3() {
        assertThat(launchAfter(b -> b.write(HOST_DS_SELECTOR, DATA0 | 3))).isEqualTo(8);
        assertThat(launchAfter(b -> b.write(HOST_FS_SELECTOR, DATA0 | 4))).isEqualTo(8);
        assertThat(launchAfter(b -> b.write(HOST_CS_SELECTOR, 0))).isEqualTo(8);
        assertThat(launchAfter(b -> b.write(HOST_TR_SELECTOR, 0))).isEqualTo(8);
        assertThat(launchAfter(b -> b.write(HOST_SS_SELECTOR, 0))).isEqualTo(8);
        assertThat(launchAfter(b -> b.write(HOST_DS_SELECTOR, 0))).as("null DS is fine").isEqualTo(Vmx.SUCCEED);
    }

    @Test
    void controlChecksComeBeforeHostChecks_26_2() {
        VmxBench bench = ready();
        bench.write(HOST_CS_SELECTOR, 0);
        bench.write(CR3_TARGET_COUNT, 9);
        assertThat(bench.vmx.vmlaunch()).isEqualTo(7);
        assertThat(bench.read(VM_INSTRUCTION_ERROR)).isEqualTo(7);
        assertThat(bench.vmx.inNonRootOperation()).isFalse();
    }

    // ---- 26.3.1 guest state: VM exit 80000021H, host state loaded (26.8) ----

    @Test
    void guestRflagsBit1ClearFailsTheEntry_26_3_1_4() {
        VmxBench bench = failedEntry(b -> b.write(GUEST_RFLAGS, 0));
        assertThat(bench.exitReason()).isEqualTo(INVALID_GUEST_STATE);
        assertThat(bench.read(EXIT_QUALIFICATION)).isZero();
        assertThat(bench.cpu.eip()).as("at the host RIP").isEqualTo(HOST_EXIT + 1);
        assertThat(bench.vmx.inNonRootOperation()).isFalse();
    }

    @Test
    void aFailedEntryLeavesTheVmcsClearAndTheGuestAreaUnsaved_26_8() {
        VmxBench bench = failedEntry(b -> b.write(GUEST_RFLAGS, 0x8002));
        assertThat(bench.exitReason()).isEqualTo(INVALID_GUEST_STATE);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
        assertThat(bench.read(GUEST_RFLAGS)).isEqualTo(0x8002);
        assertThat(bench.vmx.vmresume()).as("never launched").isEqualTo(VmInstructionError.VMRESUME_NON_LAUNCHED);
    }

    @Test
    void guestCr0PagingWithoutProtectionFails_26_3_1_1() {
        assertThat(failedEntry(b -> b.write(GUEST_CR0, CR0 & ~Cpu.CR0_PE)).exitReason())
                .isEqualTo(INVALID_GUEST_STATE);
    }

    @Test
    void guestCodeSegmentMustBeAccessedCode_26_3_1_2() {
        assertThat(failedEntry(b -> b.write(GUEST_CS_ACCESS_RIGHTS, 0xC093)).exitReason())
                .isEqualTo(INVALID_GUEST_STATE);
        assertThat(failedEntry(b -> b.write(GUEST_CS_ACCESS_RIGHTS, 0xC09A)).exitReason())
                .as("not accessed").isEqualTo(INVALID_GUEST_STATE);
    }

    @Test
    void granularityMustAgreeWithTheLimit_26_3_1_2() {
        assertThat(exitOf(b -> b.write(GUEST_DS_LIMIT, 0xFFFFE)))
                .as("G = 1 with limit[11:0] != FFF").isEqualTo(INVALID_GUEST_STATE);
        assertThat(exitOf(b -> b.write(GUEST_DS_ACCESS_RIGHTS, 0x4093))).as("G = 0 with limit[31:20] != 0")
                .isEqualTo(INVALID_GUEST_STATE);
        assertThat(exitOf(b -> {
            b.write(GUEST_DS_LIMIT, 0xFFFFF);
            b.write(GUEST_DS_ACCESS_RIGHTS, 0x4093);
        })).as("G = 0 with a byte limit below 1 MiB").isEqualTo(ExitReason.HLT);
    }

    /** The exit reason of a guest that halts right away with HLT exiting, after {@code change}. */
    private static int exitOf(Consumer<VmxBench> change) {
        VmxBench bench = failedEntry(b -> {
            change.accept(b);
            b.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_HLT_EXITING);
        });
        return bench.exitReason();
    }

    @Test
    void anUnusableDataSegmentIsNotChecked_26_3_1_2() {
        assertThat(exitOf(b -> b.write(GUEST_ES_ACCESS_RIGHTS, 0x10000))).isEqualTo(ExitReason.HLT);
    }

    @Test
    void ssDplMustEqualItsRplAndCsDplForNonConformingCode_26_3_1_2() {
        assertThat(failedEntry(b -> b.write(GUEST_SS_SELECTOR, DATA0 | 3)).exitReason())
                .as("SS.RPL != CS.RPL").isEqualTo(INVALID_GUEST_STATE);
        assertThat(failedEntry(b -> b.write(GUEST_SS_ACCESS_RIGHTS, 0xC0F3)).exitReason())
                .as("SS.DPL != SS.RPL").isEqualTo(INVALID_GUEST_STATE);
    }

    @Test
    void trMustBeABusyTss_26_3_1_2() {
        assertThat(failedEntry(b -> b.write(GUEST_TR_ACCESS_RIGHTS, 0x89)).exitReason())
                .isEqualTo(INVALID_GUEST_STATE);
        assertThat(failedEntry(b -> b.write(GUEST_TR_ACCESS_RIGHTS, 0x1008B)).exitReason())
                .as("unusable").isEqualTo(INVALID_GUEST_STATE);
    }

    @Test
    void v86GuestSegmentsMustLookLikeRealMode_26_3_1_2() {
        assertThat(failedEntry(b -> b.write(GUEST_RFLAGS, 0x20002)).exitReason())
                .isEqualTo(INVALID_GUEST_STATE);
    }

    @Test
    void descriptorTableLimitsHave16Bits_26_3_1_3() {
        assertThat(failedEntry(b -> b.write(GUEST_IDTR_LIMIT, 0x10000)).exitReason())
                .isEqualTo(INVALID_GUEST_STATE);
    }

    @Test
    void stiBlockingNeedsIfAndActiveState_26_3_1_5() {
        assertThat(failedEntry(b -> b.write(GUEST_INTERRUPTIBILITY_STATE, 1)).exitReason())
                .as("IF = 0").isEqualTo(INVALID_GUEST_STATE);
        assertThat(failedEntry(b -> b.write(GUEST_INTERRUPTIBILITY_STATE, 3)).exitReason())
                .as("STI and MOV SS together").isEqualTo(INVALID_GUEST_STATE);
        assertThat(failedEntry(b -> b.write(GUEST_ACTIVITY_STATE, 2)).exitReason())
                .as("shutdown state unsupported (MISC bit 7)").isEqualTo(INVALID_GUEST_STATE);
    }

    @Test
    void aBadVmcsLinkPointerFailsWithQualification4_26_3_1_5() {
        VmxBench bench = failedEntry(b -> b.write(VMCS_LINK_POINTER, VMCS2 + 4));
        assertThat(bench.exitReason()).isEqualTo(INVALID_GUEST_STATE);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(4);
    }

    @Test
    void aFailingEntryMsrLoadExitsWithReason34AndTheEntryNumber_26_4() {
        VmxBench bench = failedEntry(b -> {
            b.memory.writeU32(MSR_AREA, 0x174); // IA32_SYSENTER_CS: fine
            b.memory.writeU32(MSR_AREA + 8, 0x08);
            b.memory.writeU32(MSR_AREA + 16, 0x12345); // no such MSR: WRMSR would raise #GP
            b.write(VM_ENTRY_MSR_LOAD_COUNT, 2);
            b.write(VM_ENTRY_MSR_LOAD_ADDRESS, MSR_AREA);
        });
        assertThat(bench.exitReason()).isEqualTo(ExitReason.MSR_LOADING | ExitReason.ENTRY_FAILURE);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(2);
    }

    // ---- 26.3.2 loading, 26.5 injection, 26.6 activity ----

    @Test
    void entryLoadsTheGuestSegmentsRegistersAndCpl_26_3_2() {
        VmxBench bench = ready().guest("8c d8  0f a2"); // mov eax, ds; cpuid
        bench.write(GUEST_DS_SELECTOR, DATA3);
        bench.write(GUEST_DS_ACCESS_RIGHTS, 0xC0F3);
        bench.launchAndRun();
        assertThat(bench.cpu.register(Cpu.EAX) & 0xFFFF).isEqualTo(DATA3);
        assertThat(bench.read(GUEST_DS_ACCESS_RIGHTS)).isEqualTo(0xC0F3);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE + 2);
    }

    @Test
    void anInjectedExternalInterruptIsDeliveredThroughTheGuestIdt_26_5_1() {
        VmxBench bench = ready().guest("f4");
        bench.write(GUEST_RFLAGS, 0x202);
        bench.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_HLT_EXITING);
        bench.write(VM_ENTRY_INTERRUPTION_INFO, InterruptionInfo.of(0x30, InterruptionInfo.EXTERNAL_INTERRUPT, false));
        bench.launchAndRun();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.HLT);
        assertThat(bench.read(GUEST_RIP)).as("the handler's HLT").isEqualTo(GUEST_STUBS + 0x30 * 16);
        assertThat(bench.memory.readU32(GUEST_STACK - 12)).as("pushed EIP").isEqualTo(GUEST_CODE);
        assertThat(bench.memory.readU32(GUEST_STACK - 4) & Cpu.IF).as("pushed EFLAGS.IF").isEqualTo(Cpu.IF);
        assertThat(bench.read(VM_ENTRY_INTERRUPTION_INFO) & InterruptionInfo.VALID).as("the exit clears valid")
                .isZero();
    }

    @Test
    void anInjectedHardwareExceptionPushesItsErrorCodeAndIgnoresTheExceptionBitmap_26_5_1_1() {
        VmxBench bench = ready().guest("f4");
        bench.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_HLT_EXITING);
        bench.write(EXCEPTION_BITMAP, 1 << 13);
        bench.write(VM_ENTRY_INTERRUPTION_INFO, InterruptionInfo.of(13, InterruptionInfo.HARDWARE_EXCEPTION, true));
        bench.write(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x1234);
        bench.launchAndRun();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.HLT);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_STUBS + 13 * 16);
        assertThat(bench.memory.readU32(GUEST_STACK - 16)).isEqualTo(0x1234);
        assertThat(bench.memory.readU32(GUEST_STACK - 12)).isEqualTo(GUEST_CODE);
    }

    @Test
    void anInjectedSoftwareInterruptPushesRipPlusTheInstructionLength_26_5_1_1() {
        VmxBench bench = ready().guest("f4");
        bench.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_HLT_EXITING);
        bench.write(VM_ENTRY_INTERRUPTION_INFO, InterruptionInfo.of(0x80, InterruptionInfo.SOFTWARE_INTERRUPT, false));
        bench.write(VM_ENTRY_INSTRUCTION_LENGTH, 2);
        bench.launchAndRun();
        assertThat(bench.memory.readU32(GUEST_STACK - 12)).isEqualTo(GUEST_CODE + 2);
    }

    @Test
    void anInjectedSoftwareInterruptChecksTheGateDpl_26_5_1_1() {
        VmxBench bench = ready().guest("f4");
        bench.descriptor(GUEST_IDT + 0x80 * 8, (GUEST_STUBS & 0xFFFF0000) | 0x8E00, CODE0 << 16 | 0x8800); // DPL 0
        bench.ring3Guest();
        bench.write(EXCEPTION_BITMAP, 1 << 13);
        bench.write(VM_ENTRY_INTERRUPTION_INFO, InterruptionInfo.of(0x80, InterruptionInfo.SOFTWARE_INTERRUPT, false));
        bench.write(VM_ENTRY_INSTRUCTION_LENGTH, 2);
        bench.launchAndRun();
        assertThat(bench.exitReason()).as("#GP(vector*8+2) at CPL 3").isEqualTo(ExitReason.EXCEPTION_OR_NMI);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_ERROR_CODE)).isEqualTo(0x80 * 8 + 2);
        assertThat(bench.read(IDT_VECTORING_INFO)).as("the injected INT n is re-injectable")
                .isEqualTo(InterruptionInfo.of(0x80, InterruptionInfo.SOFTWARE_INTERRUPT, false) & 0xFFFFFFFFL);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(2);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
    }

    @Test
    void aGuestEnteredInHltStaysHaltedUnlessAnEventIsInjected_26_6_2() {
        VmxBench bench = ready().guest("0f a2");
        bench.write(GUEST_ACTIVITY_STATE, 1);
        bench.vmx.vmlaunch();
        bench.cpu.run(1000);
        assertThat(bench.cpu.isHalted()).isTrue();
        assertThat(bench.vmx.inNonRootOperation()).isTrue();
        assertThat(bench.cpu.eip()).isEqualTo(GUEST_CODE);
    }

    @Test
    void vmlaunchByInstructionEntersTheGuest_30_3() {
        VmxBench bench = ready().guest("0f a2");
        bench.execute("0f 01 c2  f4");
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.cpu.eip()).isEqualTo(HOST_EXIT + 1);
    }
}

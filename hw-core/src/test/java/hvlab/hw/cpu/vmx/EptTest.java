package hvlab.hw.cpu.vmx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.Vmx;
import org.junit.jupiter.api.Test;

import static hvlab.hw.cpu.vmx.EptTables.*;
import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxBench.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * EPT (SDM Vol. 3C, 28.2-28.3) driven as a VMM drives it: the bench's guest (flat, 4-MByte identity paging at
 * PAGE_DIRECTORY) runs on EPT tables the test builds, and each test checks what the SDM says the exit records.
 */
class EptTest {
    static final int EPT_BASE = 0x200000, EPT_BASE2 = 0x280000, DATA = 0x30000, OTHER = 0x50000,
            EPTP_LIST = 0x107000;
    static final String CPUID = "0f a2";
    static final String READ_EBX = "8b 1d 00 00 03 00"; // mov ebx, [0x30000]
    static final String WRITE_10 = "c7 05 10 00 03 00 78 56 34 12"; // mov dword [0x30010], 0x12345678

    // Exit qualification of an EPT violation (27.2.1, Table 27-7).
    static final long QR = 1, QW = 2, QX = 4, LINEAR_VALID = 1 << 7, FINAL = 1 << 8;

    static long rights(long rwx) {
        return rwx << 3;
    }

    final VmxBench bench = new VmxBench();
    final EptTables ept = new EptTables(bench.memory, EPT_BASE).identity(8 << 20);

    /** A launchable VMCS with "enable EPT" and the bench's EPT tables, guest code at GUEST_CODE. */
    VmxBench eptGuest(String code, boolean accessedDirty, int secondary) {
        bench.rootWithVmcs().launchable().guest(code);
        bench.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_SECONDARY_CONTROLS);
        bench.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_EPT | secondary);
        bench.write(EPT_POINTER, ept.eptp(accessedDirty));
        return bench;
    }

    VmxBench eptGuest(String code) {
        return eptGuest(code, false, 0);
    }

    VmxBench run() {
        assertThat(bench.launchAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.vmx.inNonRootOperation()).as("back in the host").isFalse();
        return bench;
    }

    long pte(long gpa) {
        return ept.read(ept.entry(1, gpa));
    }

    // ---- 28.2.1-28.2.2 translation ----

    @Test
    void anIdentityEptRunsTheGuestAsBefore_28_2_2() {
        eptGuest("c7 05 00 00 03 00 78 56 34 12  " + READ_EBX + CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.memory.readU32(DATA)).isEqualTo(0x12345678);
        assertThat(bench.cpu.register(Cpu.EBX)).isEqualTo(0x12345678);
        assertThat(bench.cpu.counters().eptWalks()).as("every guest-physical access walked EPT").isPositive();
    }

    @Test
    void aGuestPhysicalPageIsTheHostFrameItsEptPteNames_28_2_2() {
        ept.map4k(DATA, OTHER, RWX);
        bench.memory.writeU32(OTHER, 0xCAFE);
        eptGuest(READ_EBX + WRITE_10 + CPUID);
        run();
        assertThat(bench.cpu.register(Cpu.EBX)).isEqualTo(0xCAFE);
        assertThat(bench.memory.readU32(OTHER + 0x10)).isEqualTo(0x12345678);
        assertThat(bench.memory.readU32(DATA + 0x10)).as("the guest-physical address is not the frame").isZero();
    }

    @Test
    void twoAndOneGigabytePagesMapLargeFrames_28_2_2() {
        ept.map2m(0x400000, 0x600000, RWX);
        bench.memory.writeU32(0x600010, 0xBEEF);
        eptGuest("8b 1d 10 00 40 00  " + CPUID);
        run();
        assertThat(bench.cpu.register(Cpu.EBX)).isEqualTo(0xBEEF);

        VmxBench gig = new VmxBench();
        EptTables one = new EptTables(gig.memory, EPT_BASE);
        one.write(one.entry(3, 0), PAGE | WB | RWX); // PDPTE 0 maps [0, 1 GiB)
        gig.rootWithVmcs().launchable().guest("c7 05 00 00 03 00 78 56 34 12  " + CPUID);
        gig.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_SECONDARY_CONTROLS);
        gig.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_EPT);
        gig.write(EPT_POINTER, one.eptp(false));
        assertThat(gig.launchAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(gig.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(gig.memory.readU32(DATA)).isEqualTo(0x12345678);
    }

    // ---- 28.2.3.2 EPT violations, 27.2.1 their exit qualification ----

    @Test
    void aWriteToAReadOnlyPageExitsAndVmresumeRetriesItOnceTheVmmGrantsWrite_28_2_3_2() {
        ept.map4k(DATA, DATA, R | X);
        eptGuest("b8 11 00 00 00  " + WRITE_10 + CPUID); // mov eax, 0x11; the store
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QW | rights(R | X) | LINEAR_VALID | FINAL);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).isEqualTo(DATA + 0x10);
        assertThat(bench.read(GUEST_LINEAR_ADDRESS)).isEqualTo(DATA + 0x10);
        assertThat(bench.read(GUEST_RIP)).as("fault-like: the store itself").isEqualTo(GUEST_CODE + 5);
        assertThat(bench.memory.readU32(DATA + 0x10)).isZero();
        ept.map4k(DATA, DATA, RWX);
        assertThat(bench.resumeAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.memory.readU32(DATA + 0x10)).isEqualTo(0x12345678);
    }

    @Test
    void aReadOfANotPresentPageReportsNoRights_27_2_1() {
        ept.write(ept.entry(1, DATA), 0);
        eptGuest(READ_EBX + CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QR | LINEAR_VALID | FINAL);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).isEqualTo(DATA);
    }

    @Test
    void theRightsReportedAreTheAndOverAllLevels_27_2_1() {
        ept.write(ept.entry(2, DATA), ept.read(ept.entry(2, DATA)) & ~W); // the EPT PDE takes W away
        eptGuest(WRITE_10 + CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QW | rights(R | X) | LINEAR_VALID | FINAL);
    }

    @Test
    void aFetchFromANonExecutablePageExitsEvenAfterAReadFilledTheTlb_28_2_3_2() {
        int page = GUEST_CODE + 0x1000;
        ept.map4k(page, page, R | W);
        bench.code(page, CPUID);
        // mov ebx, [page]; jmp page
        eptGuest("8b 1d 00 10 02 00  e9 f5 0f 00 00");
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QX | rights(R | W) | LINEAR_VALID | FINAL);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(page);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).isEqualTo(page);
    }

    @Test
    void executeOnlyPagesRunButCannotBeRead_A_10() {
        int page = GUEST_CODE + 0x1000;
        ept.map4k(page, page, X);
        bench.code(page, "8b 1d 00 10 02 00  " + CPUID); // mov ebx, [page] from the page itself
        eptGuest("e9 fb 0f 00 00"); // jmp page
        run();
        assertThat(bench.exitReason()).as("fetched: not a misconfiguration").isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QR | rights(X) | LINEAR_VALID | FINAL);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(page);
    }

    @Test
    void aReadAfterWhichAWriteStillExitsBecauseTheTlbKeepsEptRights_28_3_1() {
        bench.memory.writeU32(PAGE_DIRECTORY, 0x87 | 0x60); // guest PDE accessed and dirty: the guest allows writes
        ept.map4k(DATA, DATA, R);
        eptGuest(READ_EBX + WRITE_10 + CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QW | rights(R) | LINEAR_VALID | FINAL);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE + 6);
    }

    @Test
    void readingAGuestPagingStructureThroughEptIsAReadWithBit8Clear_28_2_3_2() {
        ept.write(ept.entry(1, PAGE_DIRECTORY), 0);
        eptGuest(CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).as("a paging-structure access").isEqualTo(QR | LINEAR_VALID);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).as("the PDE for GUEST_CODE").isEqualTo(PAGE_DIRECTORY);
        assertThat(bench.read(GUEST_LINEAR_ADDRESS)).isEqualTo(GUEST_CODE);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
    }

    @Test
    void settingAGuestAccessedFlagIsADataWriteThroughEpt_28_2_3_2() {
        bench.memory.writeU32(PAGE_DIRECTORY, 0x87); // PDE 0: A clear
        ept.map4k(PAGE_DIRECTORY, PAGE_DIRECTORY, R | X);
        eptGuest(CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QW | rights(R | X) | LINEAR_VALID);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).isEqualTo(PAGE_DIRECTORY);
    }

    @Test
    void withEptAccessedAndDirtyFlagsGuestPagingStructureReadsAreWrites_28_2_3_2() {
        bench.memory.writeU32(PAGE_DIRECTORY, 0x87 | 0x20);
        ept.map4k(PAGE_DIRECTORY, PAGE_DIRECTORY, R | X);
        eptGuest(CPUID, true, 0);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).as("bits 0 and 1 both set (Table 27-7)")
                .isEqualTo(QR | QW | rights(R | X) | LINEAR_VALID);
    }

    @Test
    void aGuestPageFaultComesBeforeTheEptViolationOfTheFinalAddress_28_2_3_3() {
        bench.memory.writeU32(PAGE_DIRECTORY + 4, 0x400000 | 0x83); // a supervisor-only 4-MByte page
        ept.write(ept.entry(1, 0x400000), 0);
        eptGuest("8b 1d 00 00 40 00  " + CPUID);
        bench.ring3Guest();
        bench.write(EXCEPTION_BITMAP, 1 << 14);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
        assertThat(bench.read(VM_EXIT_INTERRUPTION_ERROR_CODE)).as("present, user").isEqualTo(5);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(0x400000);
    }

    @Test
    void aViolationWhileDeliveringAnEventRecordsItAsIdtVectoring_27_2_3() {
        ept.map4k(GUEST_STACK - 0x1000, GUEST_STACK - 0x1000, R | X);
        eptGuest("cd 30"); // int 0x30: the frame goes onto a stack EPT does not let the guest write
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QW | rights(R | X) | LINEAR_VALID | FINAL);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS) & ~0xFFFL).isEqualTo(GUEST_STACK - 0x1000);
        assertThat(bench.read(IDT_VECTORING_INFO))
                .isEqualTo(InterruptionInfo.of(0x30, InterruptionInfo.SOFTWARE_INTERRUPT, false) & 0xFFFFFFFFL);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(2);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(GUEST_CODE);
        assertThat(bench.read(GUEST_RSP)).isEqualTo(GUEST_STACK);
    }

    // ---- 28.2.3.1 EPT misconfigurations ----

    /** Sets one EPT entry for {@code gpa}, which the guest then reads. */
    int misconfiguration(int level, int gpa, long value) {
        ept.write(ept.entry(level, gpa), value);
        eptGuest(String.format("8b 1d %02x %02x %02x %02x  ", gpa & 0xFF, gpa >>> 8 & 0xFF, gpa >>> 16 & 0xFF,
                gpa >>> 24) + CPUID);
        run();
        return bench.exitReason();
    }

    @Test
    void writeWithoutReadIsAMisconfiguration_28_2_3_1() {
        assertThat(misconfiguration(1, DATA, DATA | WB | W)).isEqualTo(ExitReason.EPT_MISCONFIGURATION);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).isEqualTo(DATA);
    }

    @Test
    void writeAndExecuteWithoutReadIsAMisconfiguration_28_2_3_1() {
        assertThat(misconfiguration(1, DATA, DATA | WB | W | X)).isEqualTo(ExitReason.EPT_MISCONFIGURATION);
    }

    @Test
    void reservedMemoryTypesInALeafAreMisconfigurations_28_2_3_1() {
        for (long type : new long[] {2, 3, 7}) {
            VmxBench fresh = new VmxBench();
            EptTables tables = new EptTables(fresh.memory, EPT_BASE).identity(8 << 20);
            tables.write(tables.entry(1, DATA), DATA | type << 3 | R);
            fresh.rootWithVmcs().launchable().guest(READ_EBX + CPUID);
            fresh.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_SECONDARY_CONTROLS);
            fresh.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_EPT);
            fresh.write(EPT_POINTER, tables.eptp(false));
            fresh.launchAndRun();
            assertThat(fresh.exitReason()).as("type " + type).isEqualTo(ExitReason.EPT_MISCONFIGURATION);
        }
        assertThat(misconfiguration(1, DATA, DATA | 0 << 3 | R)).as("UC is a valid leaf type")
                .isEqualTo(ExitReason.CPUID);
    }

    @Test
    void anAddressBitBeyondThePhysicalAddressWidthIsReserved_28_2_3_1() {
        assertThat(misconfiguration(1, DATA, 1L << 32 | DATA | WB | R)).isEqualTo(ExitReason.EPT_MISCONFIGURATION);
    }

    @Test
    void reservedBitsOfA2MbytePageAreMisconfigurations_28_2_2() {
        assertThat(misconfiguration(2, 0x400000, 0x400000 | 1 << 12 | PAGE | WB | R))
                .isEqualTo(ExitReason.EPT_MISCONFIGURATION);
    }

    @Test
    void aReservedBitInThePml4eMisconfiguresEveryAccess_28_2_3_1() {
        ept.write(ept.pml4, ept.read(ept.pml4) | 1 << 3);
        eptGuest(CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_MISCONFIGURATION);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).as("the first access: the guest PDE").isEqualTo(PAGE_DIRECTORY);
    }

    @Test
    void aMisconfigurationBelowAnEntryWithoutReadIsStillAMisconfiguration_28_2_3() {
        int gpa = 0x300000;
        ept.write(ept.entry(1, gpa), gpa | 7 << 3 | R);
        ept.write(ept.entry(2, gpa), ept.read(ept.entry(2, gpa)) & ~(R | W));
        eptGuest("8b 1d 00 00 30 00  " + CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_MISCONFIGURATION);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).isEqualTo(gpa);
    }

    // ---- 28.2.4 accessed and dirty flags ----

    @Test
    void withEptpBit6TheWalkSetsAccessedAndWritesSetDirty_28_2_4() {
        eptGuest("c7 05 00 00 03 00 01 00 00 00  8b 1d 00 10 03 00  " + CPUID, true, 0);
        run();
        assertThat(pte(DATA) & (ACCESSED | DIRTY)).isEqualTo(ACCESSED | DIRTY);
        assertThat(pte(DATA + 0x1000) & (ACCESSED | DIRTY)).as("read only").isEqualTo(ACCESSED);
        assertThat(pte(DATA + 0x2000) & (ACCESSED | DIRTY)).as("untouched").isZero();
        assertThat(ept.read(ept.pml4) & ACCESSED).isEqualTo(ACCESSED);
        assertThat(pte(PAGE_DIRECTORY) & DIRTY).as("guest paging-structure reads count as writes").isEqualTo(DIRTY);
    }

    @Test
    void withoutEptpBit6NoFlagIsWritten_28_2_4() {
        eptGuest("c7 05 00 00 03 00 01 00 00 00  " + CPUID);
        run();
        assertThat(pte(DATA) & (ACCESSED | DIRTY)).isZero();
        assertThat(ept.read(ept.pml4) & ACCESSED).isZero();
    }

    @Test
    void aWriteToAPageFirstReadStillSetsItsDirtyFlag_28_2_4() {
        bench.memory.writeU32(PAGE_DIRECTORY, 0x87 | 0x60); // the guest's own D is set: only EPT's D can stop it
        eptGuest(READ_EBX + "c7 05 00 00 03 00 01 00 00 00  " + CPUID, true, 0);
        run();
        assertThat(pte(DATA) & DIRTY).isEqualTo(DIRTY);
    }

    // ---- unrestricted guest (26.3.1.1, 28.2.3.3: paging off) ----

    VmxBench realModeGuest(String code) {
        eptGuest("", false, PROC2_UNRESTRICTED_GUEST);
        bench.code(GUEST_CODE, code);
        bench.write(GUEST_CR0, 0x30); // NE ET: PE and PG clear
        bench.write(GUEST_CR4, 0x2000);
        for (int s = Cpu.ES; s <= Cpu.GS; s++) {
            bench.write(guestSelector(s), s == Cpu.CS ? GUEST_CODE >>> 4 : 0);
            bench.write(guestBase(s), s == Cpu.CS ? GUEST_CODE : 0);
            bench.write(guestLimit(s), 0xFFFF);
            bench.write(guestAccessRights(s), s == Cpu.CS ? 0x9B : 0x93);
        }
        bench.write(GUEST_RIP, 0);
        bench.write(GUEST_RSP, 0x8000);
        return bench;
    }

    @Test
    void anUnrestrictedGuestInRealModeAccessesMemoryThroughEpt_28_2_3_3() {
        ept.map4k(0x1000, OTHER, RWX);
        bench.memory.writeU32(OTHER, 0x1234);
        bench.memory.writeU32(OTHER + 4, 0xDEADBEEF);
        realModeGuest("8b 1e 00 10  66 8b 16 04 10  " + CPUID); // mov bx, [0x1000]; mov edx, [0x1004]
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.cpu.register(Cpu.EBX) & 0xFFFF).isEqualTo(0x1234);
        assertThat(bench.cpu.register(Cpu.EDX)).isEqualTo(0xDEADBEEF);
        assertThat(bench.read(GUEST_RIP)).isEqualTo(9);
    }

    @Test
    void withPagingOffTheLinearAddressIsTheGuestPhysicalOne_28_2_3_3() {
        ept.write(ept.entry(1, 0x1000), 0);
        realModeGuest("8b 1e 08 10  " + CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(bench.read(EXIT_QUALIFICATION)).isEqualTo(QR | LINEAR_VALID | FINAL);
        assertThat(bench.read(GUEST_PHYSICAL_ADDRESS)).isEqualTo(0x1008);
        assertThat(bench.read(GUEST_LINEAR_ADDRESS)).isEqualTo(0x1008);
    }

    // ---- VM functions (25.5.6.3) ----

    void eptpSwitching(String code) {
        EptTables second = new EptTables(bench.memory, EPT_BASE2).identity(8 << 20).map4k(DATA, OTHER, RWX);
        ept.write(EPTP_LIST, ept.eptp(false));
        ept.write(EPTP_LIST + 8, second.eptp(false));
        eptGuest(code, false, PROC2_VM_FUNCTIONS);
        bench.write(VM_FUNCTION_CONTROLS, VMFUNC_EPTP_SWITCHING);
        bench.write(EPTP_LIST_ADDRESS, EPTP_LIST);
    }

    @Test
    void vmfuncZeroSwitchesToTheEptpInTheList_25_5_6_3() {
        bench.memory.writeU32(DATA, 0x1111);
        bench.memory.writeU32(OTHER, 0x2222);
        // mov ebx, [DATA]; xor eax, eax; mov ecx, 1; vmfunc; mov edx, [DATA]; cpuid
        eptpSwitching(READ_EBX + "31 c0  b9 01 00 00 00  0f 01 d4  8b 15 00 00 03 00  " + CPUID);
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.cpu.register(Cpu.EBX)).isEqualTo(0x1111);
        assertThat(bench.cpu.register(Cpu.EDX)).as("through the second EPT").isEqualTo(0x2222);
        assertThat(bench.read(EPT_POINTER)).isEqualTo(EPT_BASE2 | 6 | 3 << 3);
    }

    @Test
    void vmfuncWithAnInvalidListEntryExits_25_5_6_3() {
        eptpSwitching("31 c0  b9 02 00 00 00  0f 01 d4  " + CPUID); // entry 2 is 0: not a valid EPTP
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.VMFUNC);
        assertThat(bench.read(EPT_POINTER)).isEqualTo(ept.eptp(false));
    }

    // ---- INVEPT (30.3), the TLB (28.3.3) ----

    @Test
    void inveptChecksItsTypeAndEptp_30_3() {
        bench.rootWithVmcs();
        assertThat(bench.vmx.invept(1, ept.eptp(true))).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.vmx.invept(2, 0)).as("all-context ignores the EPTP").isEqualTo(Vmx.SUCCEED);
        assertThat(bench.vmx.invept(1, EPT_BASE | 1 | 3 << 3)).as("memory type WC").isEqualTo(28);
        assertThat(bench.vmx.invept(1, EPT_BASE | 6 | 4 << 3)).as("a 5-level walk").isEqualTo(28);
        assertThat(bench.vmx.invept(0, ept.eptp(false))).isEqualTo(28);
        assertThat(bench.vmx.invept(3, ept.eptp(false))).isEqualTo(28);
        long flushes = bench.cpu.counters().tlbFlushes();
        assertThat(bench.vmx.invept(2, 0)).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.cpu.counters().tlbFlushes()).isEqualTo(flushes + 1);
        // by instruction: mov ecx, 1; mov ebx, 0x9000; invept ecx, [ebx]
        ept.write(0x9000, ept.eptp(false));
        ept.write(0x9008, 0);
        bench.execute("b9 01 00 00 00  bb 00 90 00 00  66 0f 38 80 0b  f4");
        assertThat(bench.flags()).isZero();
        bench.execute("b9 03 00 00 00  bb 00 90 00 00  66 0f 38 80 0b  f4");
        assertThat(bench.flags()).as("type 3 is not an INVEPT type").isEqualTo(Cpu.ZF);
        assertThat(bench.read(VM_INSTRUCTION_ERROR)).isEqualTo(28);
    }

    @Test
    void inveptInTheGuestExits_25_1_2() {
        eptGuest("b9 02 00 00 00  bb 00 90 00 00  66 0f 38 80 0b");
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.INVEPT);
        assertThat(bench.read(VM_EXIT_INSTRUCTION_LENGTH)).isEqualTo(5);
    }

    @Test
    void theHostDoesNotWalkEptAfterTheExit_28_3_3() {
        ept.map4k(DATA, OTHER, RWX);
        bench.memory.writeU32(DATA, 7);
        eptGuest(CPUID);
        run();
        long walks = bench.cpu.counters().eptWalks();
        bench.execute(READ_EBX + " f4");
        assertThat(bench.cpu.register(Cpu.EBX)).as("the host reads physical memory").isEqualTo(7);
        assertThat(bench.cpu.counters().eptWalks()).isEqualTo(walks);
    }

    // ---- VM-entry checks on the EPTP (26.2.1.1) ----

    @Test
    void entryChecksTheEptp_26_2_1_1() {
        eptGuest(CPUID);
        for (long bad : new long[] {EPT_BASE | 1 | 3 << 3, EPT_BASE | 6 | 2 << 3, EPT_BASE | 6 | 3 << 3 | 1 << 7,
            EPT_BASE | 6 | 3 << 3 | 1L << 32}) {
            bench.write(EPT_POINTER, bad);
            assertThat(bench.vmx.vmlaunch()).as("EPTP %x", bad).isEqualTo(7);
        }
        bench.write(EPT_POINTER, ept.eptp(true));
        run();
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
    }
}

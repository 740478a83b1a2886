package hvlab.hw.cpu.vmx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.Vmx;
import org.junit.jupiter.api.Test;

import static hvlab.hw.cpu.vmx.EptTables.RWX;
import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxBench.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * VPID-tagged translations (SDM Vol. 3C 28.1, 28.3.1, 28.3.3.3) and INVVPID/INVEPT (30.3). The guest reads DATA,
 * exits on CPUID, and reads DATA again after the VMM has moved DATA's EPT entry to another frame without telling
 * the processor: the second read shows whether the guest's cached combined mapping survived the exit and entry.
 */
class VpidTest {
    private static final int DATA = EptTest.DATA, OTHER = EptTest.OTHER, OLD = 0x1111, NEW = 0x2222;
    private static final int VPID_1 = 1;

    private final VmxBench bench = new VmxBench();
    private final EptTables ept = new EptTables(bench.memory, EptTest.EPT_BASE).identity(8 << 20);

    /** The guest, with "enable VPID" and VPID {@code vpid} unless it is 0; it stops at its first CPUID. */
    private void firstRead(int vpid) {
        bench.rootWithVmcs().launchable();
        firstReadOnTheBench(vpid);
    }

    private void firstReadOnTheBench(int vpid) {
        bench.memory.writeU32(DATA, OLD);
        bench.memory.writeU32(OTHER, NEW);
        bench.guest(EptTest.READ_EBX + EptTest.CPUID + EptTest.READ_EBX + EptTest.CPUID);
        bench.write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1 | PROC_SECONDARY_CONTROLS);
        bench.write(SECONDARY_PROCESSOR_CONTROLS, PROC2_EPT | (vpid != 0 ? PROC2_VPID : 0));
        bench.write(VPID, vpid);
        bench.write(EPT_POINTER, ept.eptp(false));
        assertThat(bench.launchAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.cpu.register(Cpu.EBX)).isEqualTo(OLD);
        ept.map4k(DATA, OTHER, RWX); // no INVEPT, no INVVPID yet
    }

    /** From the guest's second read of DATA (after READ_EBX and CPUID) to the CPUID after it: what it read. */
    private int secondRead() {
        bench.write(GUEST_RIP, GUEST_CODE + 8);
        assertThat(bench.resumeAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        return bench.cpu.register(Cpu.EBX);
    }

    @Test
    void withAVpidTheGuestsTranslationsSurviveItsExitAndEntry_28_3_3_3() {
        firstRead(VPID_1);
        long flushes = bench.cpu.counters().tlbFlushes();
        assertThat(secondRead()).as("the cached combined mapping, stale as the SDM allows").isEqualTo(OLD);
        assertThat(bench.cpu.counters().tlbFlushes()).as("no flush on entry or exit").isEqualTo(flushes);
    }

    @Test
    void withoutVpidsEveryEntryAndExitFlushesVpidZero_28_3_3_3() {
        firstRead(0);
        long flushes = bench.cpu.counters().tlbFlushes();
        assertThat(secondRead()).isEqualTo(NEW);
        assertThat(bench.cpu.counters().tlbFlushes() - flushes).as("the entry and the exit").isEqualTo(2);
    }

    @Test
    void invvpidSingleContextDropsThatVpidsMappings_30_3() {
        firstRead(VPID_1);
        assertThat(bench.vmx.invvpid(1, VPID_1, 0)).isEqualTo(Vmx.SUCCEED);
        assertThat(secondRead()).isEqualTo(NEW);
    }

    @Test
    void invvpidOfAnotherVpidLeavesTheGuestsMappings_30_3() {
        firstRead(VPID_1);
        assertThat(bench.vmx.invvpid(1, 2, 0)).isEqualTo(Vmx.SUCCEED);
        assertThat(secondRead()).isEqualTo(OLD);
    }

    @Test
    void invvpidIndividualAddressDropsThatPageOnly_30_3() {
        firstRead(VPID_1);
        assertThat(bench.vmx.invvpid(0, VPID_1, DATA + 0x1000)).isEqualTo(Vmx.SUCCEED);
        assertThat(secondRead()).as("another page was named").isEqualTo(OLD);
        assertThat(bench.vmx.invvpid(0, VPID_1, DATA)).isEqualTo(Vmx.SUCCEED);
        assertThat(secondRead()).isEqualTo(NEW);
    }

    @Test
    void invvpidAllContextDropsEveryVpidsMappings_30_3() {
        firstRead(VPID_1);
        assertThat(bench.vmx.invvpid(2, 0, 0)).isEqualTo(Vmx.SUCCEED);
        assertThat(secondRead()).isEqualTo(NEW);
    }

    @Test
    void invvpidRetainingGlobalsKeepsAGlobalTranslation_30_3() {
        bench.memory.writeU32(PAGE_DIRECTORY, bench.memory.readU32(PAGE_DIRECTORY) | 0x100); // G
        bench.rootWithVmcs().launchable();
        bench.write(GUEST_CR4, VmxBench.CR4 | Cpu.CR4_PGE);
        firstReadOnTheBench(VPID_1);
        assertThat(bench.vmx.invvpid(3, VPID_1, 0)).isEqualTo(Vmx.SUCCEED);
        assertThat(secondRead()).as("global: retained").isEqualTo(OLD);
        assertThat(bench.vmx.invvpid(1, VPID_1, 0)).isEqualTo(Vmx.SUCCEED);
        assertThat(secondRead()).isEqualTo(NEW);
    }

    @Test
    void inveptSingleContextDropsTheCombinedMappingsOfThatEptp_30_3() {
        firstRead(VPID_1);
        assertThat(bench.vmx.invept(1, ept.eptp(false))).isEqualTo(Vmx.SUCCEED);
        assertThat(secondRead()).isEqualTo(NEW);
    }

    @Test
    void aGuestMovToCr3FlushesItsVpidsMappings_28_3_3_1() {
        firstRead(VPID_1);
        bench.write(GUEST_RIP, GUEST_CODE + 0x40);
        bench.code(GUEST_CODE + 0x40, "0f 20 d8  0f 22 d8  " + EptTest.READ_EBX + EptTest.CPUID); // mov cr3 twice
        assertThat(bench.resumeAndRun()).isEqualTo(Vmx.SUCCEED);
        assertThat(bench.exitReason()).isEqualTo(ExitReason.CPUID);
        assertThat(bench.cpu.register(Cpu.EBX)).isEqualTo(NEW);
    }
}

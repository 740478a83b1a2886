package hvlab.hw.cpu.vmx;

import org.junit.jupiter.api.Test;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static org.assertj.core.api.Assertions.assertThat;

/** The LDTR a VM exit saves (SDM Vol. 3C 27.3.2): unusable only when a null selector was loaded. */
class VmExitLdtrTest {
    @Test
    void theResetLdtrWithItsNullSelectorIsSavedUsable_27_3_2() {
        VmxBench bench = new VmxBench().rootWithVmcs().launchable().guest("0f a2"); // cpuid exits
        bench.write(GUEST_LDTR_ACCESS_RIGHTS, 0x82);
        bench.write(GUEST_LDTR_LIMIT, 0xFFFF);
        assertThat(bench.launchAndRun()).isZero();
        assertThat(bench.read(GUEST_LDTR_ACCESS_RIGHTS)).isEqualTo(0x82);
    }

    @Test
    void anLdtrLoadedWithANullSelectorIsSavedUnusable_27_3_2() {
        VmxBench bench = new VmxBench().rootWithVmcs().launchable().guest("31 c0  0f 00 d0  0f a2"); // lldt ax=0
        bench.write(GUEST_LDTR_ACCESS_RIGHTS, 0x82);
        bench.write(GUEST_LDTR_LIMIT, 0xFFFF);
        assertThat(bench.launchAndRun()).isZero();
        assertThat(bench.read(GUEST_LDTR_ACCESS_RIGHTS)).isEqualTo(0x10000);
    }
}

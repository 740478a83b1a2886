package hvlab.spi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A domain's config as xl.cfg(5) gives Xen's toolstack: cpu_weight 1..65535, default 256 (sched_credit.c). */
class DomainConfigTest {
    @Test
    void theDefaultWeightIsCreditSchedulersDefault() {
        assertThat(DomainConfig.DEFAULT.cpuWeight()).isEqualTo(256); // CSCHED_DEFAULT_WEIGHT
        assertThat(DomainConfig.DEFAULT.isDefault()).isTrue();
        assertThat(new DomainConfig(512).isDefault()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 256, 65535})
    void weightsInXensRangeAreTaken(int weight) {
        assertThat(new DomainConfig(weight).cpuWeight()).isEqualTo(weight);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65536, Integer.MIN_VALUE})
    void weightsOutsideXensRangeAreRefusedWithTheRange(int weight) {
        assertThatThrownBy(() -> new DomainConfig(weight)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1..65535").hasMessageContaining("not " + weight);
    }

    /** A hypervisor without weights boots default configs and refuses any weight rather than drop it. */
    @Test
    void aHypervisorWithoutWeightsRefusesThem() throws Exception {
        List<GuestImage> booted = new java.util.ArrayList<>();
        Hypervisor single = new Hypervisor() {
            @Override
            public void boot(GuestImage image) {
                booted.add(image);
            }

            @Override
            public hvlab.hw.machine.RunOutcome run(long maxInstructions) {
                throw new UnsupportedOperationException();
            }
        };
        GuestImage image = new GuestImage.Firmware("rom", new byte[0]);
        single.boot(List.of(image), List.of(DomainConfig.DEFAULT));
        assertThat(booted).containsExactly(image);
        assertThatThrownBy(() -> single.boot(List.of(image), List.of(new DomainConfig(512))))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("DOMAIN_WEIGHTS");
        assertThatThrownBy(() -> single.boot(List.of(image), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

package hvlab.cli.plugins;

import hvlab.hw.cpu.CpuState;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.GuestImage;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.HypervisorType;
import hvlab.spi.MachineDescription;
import hvlab.spi.VirtualizationLimit;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoadedProviderTest {

    /** The TCK and `hvlab run` ask the guarded hypervisor, so what the plugin says must come through it. */
    @Test
    void guardedHypervisorPassesGuestStateAndLimitThrough() {
        CpuState state = Machine.builder().ramBytes(1 << 20).build().cpu().captureState();
        Hypervisor guarded = loaded(new Hypervisor() {
            @Override public void boot(GuestImage image) {
            }

            @Override public RunOutcome run(long maxInstructions) {
                throw new UnsupportedOperationException();
            }

            @Override public Optional<CpuState> guestCpuState() {
                return Optional.of(state);
            }

            @Override public Optional<VirtualizationLimit> limitReached() {
                return Optional.of(VirtualizationLimit.HARDWARE_TASK_SWITCH);
            }
        }).create(null);

        assertThat(guarded.guestCpuState()).containsSame(state);
        assertThat(guarded.limitReached()).contains(VirtualizationLimit.HARDWARE_TASK_SWITCH);
    }

    @Test
    void aPluginThatFailsToSayItsLimitFailsAsThePlugin() {
        Hypervisor guarded = loaded(new Hypervisor() {
            @Override public void boot(GuestImage image) {
            }

            @Override public RunOutcome run(long maxInstructions) {
                throw new UnsupportedOperationException();
            }

            @Override public Optional<VirtualizationLimit> limitReached() {
                return null;
            }
        }).create(null);

        assertThatThrownBy(guarded::limitReached).isInstanceOf(PluginFailure.class)
                .hasMessageContaining("hypervisor 'fixed' failed");
    }

    private static LoadedProvider loaded(Hypervisor hypervisor) {
        HypervisorProvider provider = new HypervisorProvider() {
            @Override public String id() {
                return "fixed";
            }

            @Override public String description() {
                return "hands out one hypervisor";
            }

            @Override public HypervisorType type() {
                return HypervisorType.TYPE_1;
            }

            @Override public Set<Capability> capabilities() {
                return Set.of();
            }

            @Override public Availability probe(MachineDescription machine) {
                return Availability.available();
            }

            @Override public Hypervisor create(HostContext context) {
                return hypervisor;
            }
        };
        return new LoadedProvider(provider, "test", provider.id(), provider.description(), provider.type(),
                provider.capabilities(), Availability.available());
    }
}

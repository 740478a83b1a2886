package hvlab.cli.plugins;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.machine.RunOutcome;
import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.DomainConfig;
import hvlab.spi.GuestImage;
import hvlab.spi.HostContext;
import hvlab.spi.Hypervisor;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.HypervisorType;
import hvlab.spi.VirtualizationLimit;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A provider that loaded cleanly: its identity, read once, and its answer for the machine it was probed on.
 *
 * @param origin the plugin jar, or the boot layer
 * @param availability what {@link HypervisorProvider#probe} said for the registry's machine
 */
public record LoadedProvider(HypervisorProvider provider, String origin, String id, String description,
        HypervisorType type, Set<Capability> capabilities, Availability availability) {

    /**
     * Creates the hypervisor on the context's machine. Whatever the plugin throws here, or later in the returned
     * hypervisor (other than a bad boot image), comes out as a {@link PluginFailure} naming the id.
     */
    public Hypervisor create(HostContext context) {
        String failed = "hypervisor '" + id + "' failed";
        Hypervisor created = PluginCalls.callNonNull(failed, "create()", () -> provider.create(context));
        return new GuardedHypervisor(failed, created);
    }

    private record GuardedHypervisor(String failed, Hypervisor plugin) implements Hypervisor {
        @Override
        public void boot(GuestImage image) throws BootImageException {
            PluginCalls.call(failed, "boot()", () -> {
                plugin.boot(image);
                return null;
            });
        }

        @Override
        public void boot(List<GuestImage> images) throws BootImageException {
            PluginCalls.call(failed, "boot()", () -> {
                plugin.boot(images);
                return null;
            });
        }

        @Override
        public void boot(List<GuestImage> images, List<DomainConfig> configs) throws BootImageException {
            PluginCalls.call(failed, "boot()", () -> {
                plugin.boot(images, configs);
                return null;
            });
        }

        @Override
        public RunOutcome run(long maxInstructions) {
            return PluginCalls.callNonNull(failed, "run()", () -> plugin.run(maxInstructions));
        }

        @Override
        public Optional<CpuState> guestCpuState() {
            return PluginCalls.callNonNull(failed, "guestCpuState()", plugin::guestCpuState);
        }

        @Override
        public Optional<VirtualizationLimit> limitReached() {
            return PluginCalls.callNonNull(failed, "limitReached()", plugin::limitReached);
        }

        @Override
        public void close() {
            PluginCalls.call(failed, "close()", () -> {
                plugin.close();
                return null;
            });
        }
    }
}

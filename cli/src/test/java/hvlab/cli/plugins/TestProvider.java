package hvlab.cli.plugins;

import hvlab.spi.HypervisorProvider;

/**
 * The source of a test provider, good unless a part is replaced. Its hypervisor is a test double for loading, not
 * a strategy: it runs the guest on the bare machine it is given.
 *
 * @param packageName the provider's package; also the module name of a modular jar
 * @param constructorBody statements run by the provider's constructor
 * @param probeBody the body of {@code probe(MachineDescription machine)}
 * @param runBody the body of the hypervisor's {@code run(long maxInstructions)}
 */
public record TestProvider(String packageName, String id, String spiVersion, String constructorBody,
        String probeBody, String runBody) {
    private static final String SERVICE = HypervisorProvider.class.getName();

    public static TestProvider good(String packageName, String id) {
        return new TestProvider(packageName, id, HypervisorProvider.SPI_VERSION, "",
                "return Availability.available();", "return machine.run(maxInstructions);");
    }

    public TestProvider withSpiVersion(String version) {
        return new TestProvider(packageName, id, version, constructorBody, probeBody, runBody);
    }

    public TestProvider withConstructor(String body) {
        return new TestProvider(packageName, id, spiVersion, body, probeBody, runBody);
    }

    public TestProvider withProbe(String body) {
        return new TestProvider(packageName, id, spiVersion, constructorBody, body, runBody);
    }

    public TestProvider withRun(String body) {
        return new TestProvider(packageName, id, spiVersion, constructorBody, probeBody, body);
    }

    public String className() {
        return packageName + ".Provider";
    }

    /** A modular jar: {@code provides hvlab.spi.HypervisorProvider with ...Provider}. */
    public PluginJar modularJar(String fileName) {
        return sources(PluginJar.named(fileName)).source("module-info.java", """
                module %s {
                    requires hvlab.hw;
                    provides %s with %s;
                }
                """.formatted(packageName, SERVICE, className()));
    }

    /** A plain jar found through its {@code META-INF/services} entry. */
    public PluginJar classPathJar(String fileName) {
        return sources(PluginJar.named(fileName)).file("META-INF/services/" + SERVICE, className() + "\n");
    }

    private PluginJar sources(PluginJar jar) {
        String folder = packageName.replace('.', '/') + "/";
        return jar.source(folder + "Provider.java", """
                package %s;

                import hvlab.spi.*;
                import java.util.Set;

                public final class Provider implements HypervisorProvider {
                    public Provider() {
                        %s
                    }

                    @Override public String spiVersion() { return "%s"; }
                    @Override public String id() { return "%s"; }
                    @Override public String description() { return "test double: the guest runs on the bare machine"; }
                    @Override public HypervisorType type() { return HypervisorType.TYPE_1; }
                    @Override public Set<Capability> capabilities() {
                        return Set.of(Capability.UNMODIFIED_GUESTS, Capability.TRAP_AND_EMULATE);
                    }
                    @Override public Availability probe(MachineDescription machine) {
                        %s
                    }
                    @Override public Hypervisor create(HostContext context) {
                        return new MachineHypervisor(context.machine());
                    }
                }
                """.formatted(packageName, constructorBody, spiVersion, id, probeBody))
                .source(folder + "MachineHypervisor.java", """
                package %s;

                import hvlab.hw.boot.BootImageException;
                import hvlab.hw.machine.Machine;
                import hvlab.hw.machine.RunOutcome;
                import hvlab.spi.GuestImage;
                import hvlab.spi.Hypervisor;

                final class MachineHypervisor implements Hypervisor {
                    private final Machine machine;

                    MachineHypervisor(Machine machine) {
                        this.machine = machine;
                    }

                    @Override public void boot(GuestImage image) throws BootImageException {
                        switch (image) {
                            case GuestImage.Multiboot kernel ->
                                    machine.bootMultiboot(kernel.name(), kernel.image(), kernel.commandLine());
                            case GuestImage.LinuxKernel linux -> machine.bootLinux(linux.name(), linux.image(),
                                    linux.initrd(), linux.commandLine());
                            case GuestImage.Firmware rom -> machine.bootFirmware(rom.name(), rom.image());
                        }
                    }

                    @Override public RunOutcome run(long maxInstructions) {
                        %s
                    }
                }
                """.formatted(packageName, runBody));
    }
}

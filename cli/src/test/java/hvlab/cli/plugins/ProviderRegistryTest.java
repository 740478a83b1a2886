package hvlab.cli.plugins;

import hvlab.spi.Availability;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.MachineDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How the registry loads plugins: where each lives, which SPI versions pass, and how it gets past broken ones. */
class ProviderRegistryTest {
    private static final MachineDescription MACHINE = new MachineDescription(128L << 20, 1);
    private static final String SERVICES = "META-INF/services/" + HypervisorProvider.class.getName();

    @TempDir
    Path dir;

    private static ProviderRegistry load(MachineDescription machine, Path... pluginPath) {
        return ProviderRegistry.load(List.of(pluginPath), machine);
    }

    @Test
    void aModularPluginGetsAModuleLayerOfItsOwn() {
        Path jar = TestProvider.good("test.layered", "layered").modularJar("layered.jar").buildIn(dir);

        LoadedProvider provider = load(MACHINE, jar).find("layered").orElseThrow();

        Module module = provider.provider().getClass().getModule();
        assertThat(module.getName()).isEqualTo("test.layered");
        assertThat(module.getLayer()).isNotNull().isNotSameAs(ModuleLayer.boot());
        assertThat(provider.origin()).isEqualTo(jar.toString());
    }

    @Test
    void aPlainPluginGetsAClassLoaderOfItsOwn() {
        Path jar = TestProvider.good("test.loaded", "loaded").classPathJar("loaded.jar").buildIn(dir);

        LoadedProvider provider = load(MACHINE, jar).find("loaded").orElseThrow();

        Class<?> type = provider.provider().getClass();
        assertThat(type.getModule().isNamed()).isFalse();
        assertThat(type.getClassLoader()).isInstanceOf(URLClassLoader.class);
    }

    @Test
    void anotherMinorVersionOfTheSameMajorIsAccepted() {
        String sameMajor = HypervisorProvider.SPI_VERSION.split("\\.")[0] + ".99";
        Path jar = TestProvider.good("test.minor", "minor").withSpiVersion(sameMajor)
                .modularJar("minor.jar").buildIn(dir);

        ProviderRegistry registry = load(MACHINE, jar);

        assertThat(registry.problems()).isEmpty();
        assertThat(registry.ids()) // in the reactor
                .containsExactly(ProviderRegistry.NATIVE, "xen-pv", "vtx", "vtx-ept", "minor");
    }

    @Test
    void eachProviderIsProbedOnTheGivenMachine() {
        Path jar = TestProvider.good("test.big", "big")
                .withProbe("return machine.ramBytes() >= (256L << 20) ? Availability.available()"
                        + " : Availability.unavailable(\"needs 256 MiB\");")
                .modularJar("big.jar").buildIn(dir);

        assertThat(load(MACHINE, jar).find("big").orElseThrow().availability())
                .isEqualTo(Availability.unavailable("needs 256 MiB"));
        assertThat(load(new MachineDescription(256L << 20, 1), jar).find("big").orElseThrow().availability())
                .isEqualTo(Availability.available());
    }

    @Test
    void aBadServiceEntryDoesNotHideTheNextOneInTheSameJar() {
        TestProvider provider = TestProvider.good("test.after", "after");
        Path jar = provider.classPathJar("after.jar")
                .file(SERVICES, "test.missing.Gone\n" + provider.className() + "\n")
                .buildIn(dir);

        ProviderRegistry registry = load(MACHINE, jar);

        assertThat(registry.find("after")).isPresent();
        assertThat(registry.problems()).singleElement().hasToString(jar + ": Provider test.missing.Gone not found");
    }

    @Test
    void aBrokenJarInAFolderDoesNotStopTheJarsAfterIt() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("plugins"));
        PluginJar.notAJar(folder, "a-broken.jar");
        TestProvider.good("test.next", "next").modularJar("b-next.jar").buildIn(folder);
        Files.writeString(folder.resolve("notes.txt"), "not a jar, and not named like one: passed over\n");

        ProviderRegistry registry = load(MACHINE, folder);

        assertThat(registry.find("next")).isPresent();
        assertThat(registry.problems()).singleElement().satisfies(problem -> {
            assertThat(problem.origin()).endsWith("a-broken.jar");
            assertThat(problem.message()).startsWith("not a jar file");
            assertThat(problem.hypervisorId()).isNull();
        });
    }
}

package hvlab.cli.plugins;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The plugin jars the tests load, built once into a folder: two good ones (modular and plain) in {@code good/},
 * and beside them one for each way a plugin can be broken.
 */
public record TestPlugins(Path goodFolder, Path goodModular, Path goodClassPath, Path unavailable,
        Path failsWhileRunning, Path notAJar, Path noProvider, Path missingClass, Path constructorThrows,
        Path probeThrows, Path sameIdFirst, Path sameIdSecond, Path futureSpi, Path claimsNative) {
    public static final String GOOD_MODULAR = "good-modular", GOOD_CLASS_PATH = "good-classpath";
    public static final String UNAVAILABLE = "needs-vtx", FAILS_WHILE_RUNNING = "fails-running";
    public static final String PROBE_THROWS = "probe-throws", SAME_ID = "twice", FUTURE_SPI = "future";

    public static TestPlugins buildIn(Path dir) {
        Path good;
        try {
            good = Files.createDirectories(dir.resolve("good"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TestPlugins(good,
                TestProvider.good("test.good", GOOD_MODULAR).modularJar("good-modular.jar").buildIn(good),
                TestProvider.good("test.plain", GOOD_CLASS_PATH).classPathJar("good-classpath.jar").buildIn(good),
                TestProvider.good("test.unavailable", UNAVAILABLE)
                        .withProbe("return Availability.unavailable(\"the CPU has no VMX\");")
                        .modularJar("unavailable.jar").buildIn(dir),
                TestProvider.good("test.failing", FAILS_WHILE_RUNNING)
                        .withRun("throw new IllegalStateException(\"lost the guest\");")
                        .modularJar("fails-running.jar").buildIn(dir),
                PluginJar.notAJar(dir, "not-a-jar.jar"),
                PluginJar.named("no-provider.jar").file("README.txt", "no hypervisor here\n").buildIn(dir),
                PluginJar.named("missing-class.jar")
                        .file("META-INF/services/hvlab.spi.HypervisorProvider", "test.missing.Gone\n").buildIn(dir),
                TestProvider.good("test.ctor", "ctor-throws")
                        .withConstructor("throw new IllegalStateException(\"no host here\");")
                        .modularJar("ctor-throws.jar").buildIn(dir),
                TestProvider.good("test.probe", PROBE_THROWS)
                        .withProbe("throw new ArithmeticException(\"/ by zero\");")
                        .classPathJar("probe-throws.jar").buildIn(dir),
                TestProvider.good("test.first", SAME_ID).modularJar("same-id-first.jar").buildIn(dir),
                TestProvider.good("test.second", SAME_ID).modularJar("same-id-second.jar").buildIn(dir),
                TestProvider.good("test.future", FUTURE_SPI).withSpiVersion("9.0")
                        .modularJar("future-spi.jar").buildIn(dir),
                TestProvider.good("test.nativeclaim", "native").classPathJar("claims-native.jar").buildIn(dir));
    }
}

package hvlab.cli.plugins;

import hvlab.spi.HypervisorProvider;

import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Predicate;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.zip.ZipFile;

/**
 * Where providers are looked for: the boot layer, or one plugin jar in a module layer or class loader of its own,
 * so that plugins cannot see or break one another.
 *
 * @param origin how messages name the source
 * @param serviceLoader finds the providers; for a plugin it also sees its parents' providers
 * @param owns which provider classes belong to this source (and not to a parent already loaded)
 */
record ProviderSource(String origin, ServiceLoader<HypervisorProvider> serviceLoader, Predicate<Class<?>> owns) {
    /** The providers hvlab was started with: modules of the boot layer, and the class path. */
    static ProviderSource bootLayer() {
        return new ProviderSource("boot layer", ServiceLoader.load(HypervisorProvider.class), type -> true);
    }

    /** Opens a plugin jar: a modular jar gets its own module layer, a plain jar its own class loader. */
    static ProviderSource open(Path jar) {
        boolean modular;
        // Opened as the runtime would: a multi-release jar may keep its module-info under META-INF/versions.
        try (JarFile file = new JarFile(jar.toFile(), true, ZipFile.OPEN_READ, Runtime.version())) {
            modular = file.getJarEntry("module-info.class") != null;
        } catch (IOException e) {
            throw new PluginFailure("not a jar file (" + e.getMessage() + ")", e);
        }
        return modular ? moduleLayer(jar) : classLoader(jar);
    }

    /**
     * Layrry's way: resolve the jar's module against the boot layer, define it with one loader, and look up its
     * {@code provides} through the new layer.
     */
    private static ProviderSource moduleLayer(Path jar) {
        ModuleLayer boot = ModuleLayer.boot();
        ModuleLayer layer = PluginCalls.call("cannot load its module", null, () -> {
            ModuleFinder finder = ModuleFinder.of(jar);
            Set<String> roots = finder.findAll().stream()
                    .map(ModuleReference::descriptor)
                    .map(ModuleDescriptor::name)
                    .collect(Collectors.toSet());
            Configuration configuration = boot.configuration().resolve(finder, ModuleFinder.of(), roots);
            return boot.defineModulesWithOneLoader(configuration, HypervisorProvider.class.getClassLoader());
        });
        return new ProviderSource(jar.toString(), ServiceLoader.load(layer, HypervisorProvider.class),
                type -> type.getModule().getLayer() == layer);
    }

    /** A plain jar: its {@code META-INF/services} entries, through a class loader of its own. */
    private static ProviderSource classLoader(Path jar) {
        URL url;
        try {
            url = jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new PluginFailure("cannot make a URL of it: " + e.getMessage(), e);
        }
        // Stays open for the life of the process: the providers' classes are loaded from it on demand.
        URLClassLoader loader = new URLClassLoader("plugin " + jar.getFileName(), new URL[] {url},
                HypervisorProvider.class.getClassLoader());
        return new ProviderSource(jar.toString(), ServiceLoader.load(HypervisorProvider.class, loader),
                type -> type.getClassLoader() == loader);
    }
}

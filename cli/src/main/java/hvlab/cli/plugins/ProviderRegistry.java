package hvlab.cli.plugins;

import hvlab.spi.Capability;
import hvlab.spi.HypervisorProvider;
import hvlab.spi.MachineDescription;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every hypervisor provider hvlab can find: the boot layer's first, then each plugin jar's in the order given.
 * Loading never stops at a broken plugin: each instantiation and each call into a provider is guarded (SLF4J's
 * safe instantiation), what goes wrong becomes a {@link LoadProblem}, and the rest still load. Of two providers
 * with one id the first stays, as the JDK does with file system providers of one scheme.
 */
public final class ProviderRegistry {
    /** The bare machine: no hypervisor at all, the baseline. No provider may take this id. */
    public static final String NATIVE = "native";

    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]*");
    /** ServiceLoader goes on after a bad entry only as a "best effort": stop looking after this many. */
    private static final int MAX_LOOKUP_ERRORS = 32;

    private final MachineDescription machine;
    private final Map<String, LoadedProvider> providers = new LinkedHashMap<>();
    private final List<LoadProblem> problems = new ArrayList<>();

    private ProviderRegistry(MachineDescription machine) {
        this.machine = machine;
    }

    /**
     * Loads the boot layer's providers and those of each plugin path entry (a jar, or a folder whose jars load one
     * by one), and probes each on {@code machine}.
     */
    public static ProviderRegistry load(List<Path> pluginPath, MachineDescription machine) {
        ProviderRegistry registry = new ProviderRegistry(machine);
        registry.loadFrom(ProviderSource.bootLayer());
        for (Path entry : pluginPath) {
            for (Path jar : registry.jarsIn(entry)) {
                registry.loadJar(jar);
            }
        }
        return registry;
    }

    /** The providers that loaded, in load order. */
    public List<LoadedProvider> providers() {
        return List.copyOf(providers.values());
    }

    public List<LoadProblem> problems() {
        return Collections.unmodifiableList(problems);
    }

    public Optional<LoadedProvider> find(String id) {
        return Optional.ofNullable(providers.get(id));
    }

    /** Every id that can be selected: {@code native} first. */
    public List<String> ids() {
        List<String> ids = new ArrayList<>(List.of(NATIVE));
        ids.addAll(providers.keySet());
        return ids;
    }

    private List<Path> jarsIn(Path entry) {
        if (Files.isDirectory(entry)) {
            try (Stream<Path> files = Files.list(entry)) {
                return files.filter(file -> file.getFileName().toString().endsWith(".jar")).sorted().toList();
            } catch (IOException e) {
                problems.add(new LoadProblem(entry.toString(), null, "cannot list the folder: " + e.getMessage()));
                return List.of();
            }
        }
        if (!Files.exists(entry)) {
            problems.add(new LoadProblem(entry.toString(), null, "no such file or folder"));
            return List.of();
        }
        return List.of(entry);
    }

    private void loadJar(Path jar) {
        try {
            // Guarded too: a jar can be malformed in more ways than the JDK reports as an IOException.
            if (loadFrom(PluginCalls.call(null, null, () -> ProviderSource.open(jar))) == 0) {
                problems.add(new LoadProblem(jar.toString(), null, "provides no hypervisor (neither a 'provides "
                        + HypervisorProvider.class.getName() + "' in its module nor a META-INF/services entry)"));
            }
        } catch (PluginFailure failure) {
            problems.add(new LoadProblem(jar.toString(), null, failure.getMessage()));
        }
    }

    /** Loads the providers the source owns; returns how many entries it had, good or bad. */
    private int loadFrom(ProviderSource source) {
        Iterator<ServiceLoader.Provider<HypervisorProvider>> lookup = source.serviceLoader().stream().iterator();
        int entries = 0;
        int errors = 0;
        while (errors < MAX_LOOKUP_ERRORS) {
            try {
                ServiceLoader.Provider<HypervisorProvider> found =
                        PluginCalls.call(null, null, () -> lookup.hasNext() ? lookup.next() : null);
                if (found == null) {
                    break;
                }
                if (PluginCalls.call(null, null, () -> source.owns().test(found.type()))) {
                    entries++;
                    load(source.origin(), found);
                }
            } catch (PluginFailure failure) { // a service entry naming a missing or unloadable class
                problems.add(new LoadProblem(source.origin(), null, failure.getMessage()));
                entries++;
                errors++;
            }
        }
        return entries;
    }

    private void load(String origin, ServiceLoader.Provider<HypervisorProvider> found) {
        String className = found.type().getName();
        HypervisorProvider provider;
        String id;
        try {
            provider = PluginCalls.call(null, null, found::get);
            id = PluginCalls.callNonNull(className, "id()", provider::id);
        } catch (PluginFailure failure) {
            problems.add(new LoadProblem(origin, null, failure.getMessage()));
            return;
        }
        if (!ID.matcher(id).matches()) {
            problems.add(new LoadProblem(origin, null, className + ": the id '" + id
                    + "' is not lower-case letters, digits, '.', '_' and '-'"));
            return;
        }
        if (id.equals(NATIVE)) { // the refused claim does not concern the real native, so no id on the problem
            problems.add(new LoadProblem(origin, null, className + " claims the id '" + NATIVE
                    + "', which is reserved for the bare machine"));
            return;
        }
        String label = "hypervisor '" + id + "' (" + className + ")";
        LoadedProvider taken = providers.get(id);
        if (taken != null) {
            problems.add(new LoadProblem(origin, id, label + ": the id is already taken by "
                    + taken.provider().getClass().getName() + " from " + taken.origin()));
            return;
        }
        try {
            checkSpiVersion(label, provider);
            providers.put(id, new LoadedProvider(provider, origin, id,
                    PluginCalls.callNonNull(label, "description()", provider::description),
                    PluginCalls.callNonNull(label, "type()", provider::type),
                    PluginCalls.callNonNull(label, "capabilities()", () -> capabilitiesOf(provider)),
                    PluginCalls.callNonNull(label, "probe()", () -> provider.probe(machine))));
        } catch (PluginFailure failure) {
            problems.add(new LoadProblem(origin, id, failure.getMessage()));
        }
    }

    /** A copy in the enum's order, so the listing is stable whatever set the provider returns. */
    private static Set<Capability> capabilitiesOf(HypervisorProvider provider) {
        Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
        capabilities.addAll(provider.capabilities());
        return Collections.unmodifiableSet(capabilities);
    }

    /** The major versions must match; a newer minor only adds default methods (SLF4J's version sanity check). */
    private static void checkSpiVersion(String label, HypervisorProvider provider) {
        String version = PluginCalls.callNonNull(label, "spiVersion()", provider::spiVersion);
        if (!majorOf(version).equals(majorOf(HypervisorProvider.SPI_VERSION))) {
            throw new PluginFailure(label + ": built for SPI " + version + ", but this hvlab implements SPI "
                    + HypervisorProvider.SPI_VERSION + " (the major versions must match)", null);
        }
    }

    private static String majorOf(String version) {
        int dot = version.indexOf('.');
        return dot < 0 ? version : version.substring(0, dot);
    }
}

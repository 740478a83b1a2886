package hvlab.cli;

import hvlab.cli.plugins.TestPlugins;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static hvlab.cli.plugins.TestPlugins.FAILS_WHILE_RUNNING;
import static hvlab.cli.plugins.TestPlugins.FUTURE_SPI;
import static hvlab.cli.plugins.TestPlugins.GOOD_CLASS_PATH;
import static hvlab.cli.plugins.TestPlugins.GOOD_MODULAR;
import static hvlab.cli.plugins.TestPlugins.PROBE_THROWS;
import static hvlab.cli.plugins.TestPlugins.SAME_ID;
import static hvlab.cli.plugins.TestPlugins.UNAVAILABLE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code hvlab list} and {@code hvlab run --hypervisor} with plugins on {@code --plugin-path}: good plugins load
 * and run the guest, and each kind of broken plugin gets a message naming it and a non-zero exit, never a stack
 * trace, without keeping the good ones from loading.
 */
class PluginCommandsTest {
    /** The providers the command ships with: native and the reactor's plugin modules. */
    private static final String BUILT_IN = "native, xen-pv, vtx, vtx-ept";

    private static final int LAB_SUCCESS = 16;

    @TempDir
    static Path dir;
    static TestPlugins plugins;

    @BeforeAll
    static void buildPlugins() {
        plugins = TestPlugins.buildIn(dir);
    }

    /** What hvlab did: exit status, its output and errors, and what the guest wrote to the serial console. */
    private record Result(int status, String out, String err, String console) { }

    /** Runs hvlab with the good plugins and {@code extra} on the plugin path. */
    private static Result hvlab(List<Path> extra, String... args) {
        List<Path> pluginPath = new ArrayList<>(List.of(plugins.goodModular(), plugins.goodClassPath()));
        pluginPath.addAll(extra);
        List<String> command = new ArrayList<>(List.of("--plugin-path", joined(pluginPath)));
        command.addAll(List.of(args));
        return hvlab(command.toArray(String[]::new));
    }

    /**
     * Runs hvlab with the console (stdin and stdout, as 'hvlab run' uses them) captured: the test JVM's own stdin
     * is the test runner's channel and must not be read.
     */
    private static Result hvlab(String... args) {
        InputStream stdin = System.in;
        PrintStream stdout = System.out;
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        System.setIn(InputStream.nullInputStream());
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        try {
            int status = HvlabCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
            return new Result(status, out.toString(), err.toString(), console.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(stdin);
            System.setOut(stdout);
        }
    }

    private static String joined(List<Path> pluginPath) {
        return pluginPath.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
    }

    private static Result runHello(List<Path> extra, String hypervisor) {
        return hvlab(extra, "run", "--hypervisor", hypervisor, "--guest", "lab:hello");
    }

    private static void assertTheGuestRan(Result result) {
        assertThat(result.status()).isEqualTo(LAB_SUCCESS);
        assertThat(result.console()).contains("hello from the hvlab lab kernel");
    }

    @Test
    void severalGuestsUnderAPluginWithoutMultipleDomainsAreRefused() {
        Result result = hvlab(List.of(), "run", "--hypervisor", GOOD_MODULAR, "--guest", "lab:hello", "--guest",
                "lab:hello");
        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err()).contains("'" + GOOD_MODULAR + "' runs one guest");
        assertOnlyMessages(result);
    }

    /** Every line on stderr is one of hvlab's own: no stack trace. */
    private static void assertOnlyMessages(Result result) {
        assertThat(result.err().lines()).allSatisfy(line -> assertThat(line).startsWith("hvlab: "));
    }

    /**
     * A broken plugin: the jars that make it, what the warning says after naming the jar, the id a user would try
     * to run it by and what the refusal says.
     */
    record Broken(String name, List<Path> jars, String warning, String id, String refusal) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Broken> brokenPlugins() {
        String unknown = "known: " + BUILT_IN + ", " + GOOD_MODULAR + ", " + GOOD_CLASS_PATH;
        return Stream.of(
                new Broken("a file that is not a jar", List.of(plugins.notAJar()),
                        "not-a-jar.jar: not a jar file", "not-a-jar", unknown),
                new Broken("a jar without a provider", List.of(plugins.noProvider()),
                        "no-provider.jar: provides no hypervisor", "no-provider", unknown),
                new Broken("a service entry naming a missing class", List.of(plugins.missingClass()),
                        "missing-class.jar: Provider test.missing.Gone not found", "gone", unknown),
                new Broken("a provider whose constructor throws", List.of(plugins.constructorThrows()),
                        "ctor-throws.jar: Provider test.ctor.Provider could not be instantiated:"
                                + " IllegalStateException: no host here", "ctor-throws", unknown),
                new Broken("a provider whose probe throws", List.of(plugins.probeThrows()),
                        "probe-throws.jar: hypervisor 'probe-throws' (test.probe.Provider): probe() threw"
                                + " ArithmeticException: / by zero", PROBE_THROWS,
                        "hypervisor 'probe-throws' cannot be used"),
                new Broken("two providers with one id", List.of(plugins.sameIdFirst(), plugins.sameIdSecond()),
                        "same-id-second.jar: hypervisor 'twice' (test.second.Provider): the id is already taken"
                                + " by test.first.Provider from " + plugins.sameIdFirst(), SAME_ID,
                        "hypervisor 'twice' cannot be used"),
                new Broken("a provider built for another SPI major version", List.of(plugins.futureSpi()),
                        "future-spi.jar: hypervisor 'future' (test.future.Provider): built for SPI 9.0, but this"
                                + " hvlab implements SPI 0.1 (the major versions must match)", FUTURE_SPI,
                        "hypervisor 'future' cannot be used"),
                new Broken("a provider claiming the id native", List.of(plugins.claimsNative()),
                        "claims-native.jar: test.nativeclaim.Provider claims the id 'native', which is reserved",
                        "nativeclaim", unknown));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenPlugins")
    void listShowsTheGoodPluginsAndWarnsAboutTheBrokenOne(Broken broken) {
        Result result = hvlab(broken.jars(), "list");

        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_BAD_INPUT);
        assertThat(result.out()).contains("  " + GOOD_MODULAR + " ", "  " + GOOD_CLASS_PATH + " ");
        assertThat(result.err()).contains("hvlab: warning: ").contains(broken.warning());
        assertOnlyMessages(result);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenPlugins")
    void runningTheBrokenPluginIsRefused(Broken broken) {
        Result result = runHello(broken.jars(), broken.id());

        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_BAD_INPUT);
        assertThat(result.err()).contains(broken.warning()).contains(broken.refusal());
        assertOnlyMessages(result);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenPlugins")
    void theGoodPluginStillRunsTheGuest(Broken broken) {
        assertTheGuestRan(runHello(broken.jars(), GOOD_MODULAR));
    }

    @Test
    void listShowsEachHypervisorWithTypeCapabilitiesAndAvailability() {
        Result result = hvlab(List.of(plugins.unavailable()), "list");

        assertThat(result.status()).isZero();
        assertThat(result.err()).isEmpty();
        List<String> table = result.out().lines().dropWhile(line -> !line.startsWith("Hypervisors")).toList();
        assertThat(table.get(1)).contains("ID", "TYPE", "CAPABILITIES", "AVAILABILITY", "DESCRIPTION");
        assertThat(table.get(2)).startsWith("  native ").contains("available", "the bare machine");
        assertThat(table.get(3)).startsWith("  xen-pv ").contains("Type I", "paravirt-hypercalls", "available");
        assertThat(table.get(4)).startsWith("  vtx ").contains("Type I", "vmx, shadow-paging, unmodified-guests",
                "available");
        assertThat(table.get(5)).startsWith("  vtx-ept ").contains("Type I", "vmx, ept, unmodified-guests",
                "available");
        assertThat(table.get(6)).startsWith("  " + GOOD_MODULAR + " ")
                .contains("Type I", "unmodified-guests, trap-and-emulate", "available", "test double");
        assertThat(table.get(7)).startsWith("  " + GOOD_CLASS_PATH + " ");
        assertThat(table.get(8)).startsWith("  " + UNAVAILABLE + " ").contains("unavailable: the CPU has no VMX");
    }

    /** By default compare takes every available hypervisor that runs the workloads, a plugin path's too. */
    @Test
    void compareTakesThePluginPathsAvailableHypervisors() {
        Result result = hvlab(List.of(plugins.unavailable()), "compare", "--workloads", "divzero", "--iterations",
                "50");

        assertThat(result.status()).as(result.err()).isZero();
        String header = result.out().lines().filter(line -> line.startsWith("workload  iterations")).findFirst()
                .orElseThrow();
        assertThat(header).contains(" " + GOOD_MODULAR + " ", " " + GOOD_CLASS_PATH + " ", " vtx ", " xen-pv ")
                .doesNotContain(UNAVAILABLE);
    }

    @Test
    void aFolderOnThePluginPathLoadsEachJarInIt() {
        Result result = hvlab("--plugin-path", plugins.goodFolder().toString(), "list");

        assertThat(result.status()).isZero();
        assertThat(result.out()).contains("  " + GOOD_MODULAR + " ", "  " + GOOD_CLASS_PATH + " ");
    }

    @Test
    void theClassPathPluginRunsTheGuest() {
        assertTheGuestRan(runHello(List.of(), GOOD_CLASS_PATH));
    }

    @Test
    void nativeStaysTheBareMachineWhenAPluginClaimsItsId() {
        Result result = runHello(List.of(plugins.claimsNative()), "native");

        assertTheGuestRan(result);
        assertThat(result.err()).isEmpty();
    }

    @Test
    void anUnknownIdListsTheKnownOnes() {
        Result result = runHello(List.of(), "no-such-hv");

        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_BAD_INPUT);
        assertThat(result.err()).isEqualTo("hvlab: no hypervisor 'no-such-hv'; known: " + BUILT_IN + ", "
                + GOOD_MODULAR + ", " + GOOD_CLASS_PATH + System.lineSeparator());
    }

    @Test
    void anUnavailableHypervisorIsRefusedWithTheReason() {
        Result result = runHello(List.of(plugins.unavailable()), UNAVAILABLE);

        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_BAD_INPUT);
        assertThat(result.err()).contains("hypervisor 'needs-vtx' is unavailable: the CPU has no VMX");
    }

    @Test
    void aMissingPluginPathEntryIsNamed() {
        Result result = hvlab(List.of(dir.resolve("nowhere.jar")), "list");

        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_BAD_INPUT);
        assertThat(result.err()).contains("nowhere.jar: no such file or folder");
    }

    @Test
    void aHypervisorThatFailsWhileRunningExitsWithOneAndNoStackTrace() {
        Result result = runHello(List.of(plugins.failsWhileRunning()), FAILS_WHILE_RUNNING);

        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_PLUGIN_FAILURE);
        assertThat(result.err()).isEqualTo("hvlab: hypervisor 'fails-running' failed: run() threw"
                + " IllegalStateException: lost the guest" + System.lineSeparator());
    }

    @Test
    void stackTracesShowWhereThePluginFailed() {
        Result result = hvlab(List.of(plugins.failsWhileRunning()), "run", "--stack-traces",
                "--hypervisor", FAILS_WHILE_RUNNING, "--guest", "lab:hello");

        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_PLUGIN_FAILURE);
        assertThat(result.err()).contains("test.failing.MachineHypervisor.run(");
    }
}

package hvlab.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The example plugin in examples/trap-and-emulate is built as a third party builds one: outside the reactor, against
 * hvlab's artifacts as published (staged here into a local repository of their own), running the conformance suite
 * from its own build; then hvlab loads the jar it made with --plugin-path. Runs after the reactor packaged hw-core,
 * guests, cli and this module.
 */
class ExternalExamplePluginIT {
    private static final String VERSION = "0.1.0-SNAPSHOT";
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Path EXAMPLE = ROOT.resolve("examples/trap-and-emulate");
    private static String buildOutput;
    private static int buildExit;

    @BeforeAll
    static void buildTheExampleOutsideTheReactor() throws Exception {
        Path published = Path.of("target/published-repository").toAbsolutePath();
        publish(published, "hvlab", ROOT.resolve("pom.xml"), null);
        publish(published, "hw-core", ROOT.resolve("hw-core/pom.xml"), ROOT.resolve("hw-core/target"));
        publish(published, "guests", ROOT.resolve("guests/pom.xml"), ROOT.resolve("guests/target"));
        publish(published, "integration-tests", ROOT.resolve("integration-tests/pom.xml"),
                ROOT.resolve("integration-tests/target"));
        deleteRecursively(EXAMPLE.resolve("target"));
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("mvnw").toString(), "-B",
                "-f", EXAMPLE.resolve("pom.xml").toString(),
                "-Dmaven.repo.local=" + published,
                "-Dmaven.repo.local.tail=" + System.getProperty("hvlab.userRepository",
                        Path.of(System.getProperty("user.home"), ".m2", "repository").toString()),
                "verify"));
        Process build = run(command);
        buildOutput = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(build.waitFor(20, TimeUnit.MINUTES)).isTrue();
        buildExit = build.exitValue();
    }

    /** The artifact's pom and jar where a local repository keeps them (as `mvn install` would put them). */
    private static void publish(Path repository, String artifact, Path pom, Path target) throws IOException {
        Path folder = repository.resolve("dev/hvlab/" + artifact + "/" + VERSION);
        Files.createDirectories(folder);
        Files.copy(pom, folder.resolve(artifact + "-" + VERSION + ".pom"), StandardCopyOption.REPLACE_EXISTING);
        if (target != null) {
            Path jar = target.resolve(artifact + "-" + VERSION + ".jar");
            assertThat(jar).as("the reactor packaged %s", artifact).exists();
            Files.copy(jar, folder.resolve(artifact + "-" + VERSION + ".jar"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteRecursively(Path folder) throws IOException {
        if (Files.exists(folder)) {
            try (Stream<Path> paths = Files.walk(folder)) {
                for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }

    private static Process run(List<String> command) throws IOException {
        return new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
    }

    private static String lineOf(String rule) {
        return buildOutput.lines().filter(l -> l.startsWith("tck trap-emulate " + rule + " ")).findFirst()
                .orElse("no line for " + rule);
    }

    @Test
    void theExampleBuildsAndItsOwnBuildRunsTheConformanceSuite() {
        assertThat(buildExit).as(buildOutput).isZero();
        assertThat(buildOutput.lines().filter(l -> l.startsWith("tck trap-emulate "))).hasSize(14);
    }

    /** One guest at a time: the rules for several domains are skipped, naming the capability. */
    @Test
    void theRulesForSeveralDomainsAreSkippedForIt() {
        for (String rule : List.of("required_equivalence_005_domains_side_by_side",
                "required_resource_control_006_crashing_domain_ends_alone")) {
            assertThat(lineOf(rule)).contains(" SKIP: ").contains("MULTIPLE_DOMAINS");
        }
    }

    /** Robin & Irvine's instructions defeat trap-and-emulate, and the suite names them instead of failing. */
    @Test
    void theSuiteReportsIa32HolesAsTheDeclaredKnownLimits() {
        String escape = lineOf("required_resource_control_005_sensitive_unprivileged_escape");
        assertThat(escape).contains(" KNOWN_LIMIT: ").contains("SGDT", "SIDT", "PUSHF", "POPF", "LAR", "LSL",
                "MOV_SEGMENT_REGISTER", "PUSH_SEGMENT_REGISTER");
        assertThat(lineOf("required_equivalence_004_sensitive_unprivileged_instructions"))
                .contains(" KNOWN_LIMIT: ").contains("SGDT", "SIDT", "STR");
    }

    /** What trap-and-emulate does virtualize, it must get right: these rules pass outright. */
    @Test
    void theRulesTheHolesDoNotTouchPass() {
        for (String rule : List.of("required_resource_control_001_user_mode_privileged_instructions_trap",
                "required_resource_control_002_memory_outside_domain",
                "required_resource_control_004_host_interrupts_unmaskable",
                "required_accounting_001_counts_bounded_by_guest_events",
                "required_accounting_002_sensitive_operations_accounted",
                "required_determinism_001_two_runs_bit_identical")) {
            assertThat(lineOf(rule)).contains(" PASS");
        }
    }

    @Test
    void hvlabLoadsTheBuiltJarWithPluginPathAndRunsAGuestUnderIt() throws Exception {
        assertThat(buildExit).as(buildOutput).isZero();
        Path jar;
        try (Stream<Path> jars = Files.list(EXAMPLE.resolve("target"))) {
            jar = jars.filter(p -> p.getFileName().toString().endsWith(".jar")).findFirst().orElseThrow();
        }
        Process list = run(List.of(ROOT.resolve("hvlab").toString(), "--plugin-path", jar.toString(), "list"));
        String listed = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(list.waitFor()).as(listed).isZero();
        assertThat(listed).contains("trap-emulate").contains("trap-and-emulate");

        Process hello = run(List.of(ROOT.resolve("hvlab").toString(), "--plugin-path", jar.toString(), "run",
                "--hypervisor", "trap-emulate", "--guest", "lab:hello", "--stats"));
        String output = new String(hello.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(hello.waitFor()).as(output).isEqualTo(0x10); // the debug-exit value of a passing lab guest
        assertThat(output).contains("hello from ring 3").contains("lab: done status=pass")
                .contains("emulated instructions");
    }
}

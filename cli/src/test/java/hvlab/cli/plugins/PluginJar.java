package hvlab.cli.plugins;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

/**
 * A plugin jar made at test time: Java sources compiled with the JDK's javac against the modules the tests run on
 * (hw-core among them), plus files such as {@code META-INF/services} entries. A {@code module-info.java} among the
 * sources makes it a modular jar.
 */
public final class PluginJar {
    private final String fileName;
    private final Map<String, String> sources = new LinkedHashMap<>();
    private final Map<String, String> files = new LinkedHashMap<>();

    private PluginJar(String fileName) {
        this.fileName = fileName;
    }

    public static PluginJar named(String fileName) {
        return new PluginJar(fileName);
    }

    /** A source file, by its path under the source root: {@code test/good/Provider.java}. */
    public PluginJar source(String path, String code) {
        sources.put(path, code);
        return this;
    }

    /** A file stored as it is, e.g. {@code META-INF/services/hvlab.spi.HypervisorProvider}. */
    public PluginJar file(String path, String content) {
        files.put(path, content);
        return this;
    }

    /** Compiles and jars into {@code dir}; returns the jar. The build's files stay in {@code dir/.build}. */
    public Path buildIn(Path dir) {
        try {
            Path work = Files.createDirectories(dir.resolve(".build").resolve(fileName));
            Path classes = Files.createDirectories(work.resolve("classes"));
            if (!sources.isEmpty()) {
                compile(work.resolve("src"), classes);
            }
            for (Map.Entry<String, String> file : files.entrySet()) {
                Path target = classes.resolve(file.getKey());
                Files.createDirectories(target.getParent());
                Files.writeString(target, file.getValue());
            }
            return jar(classes, dir.resolve(fileName));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void compile(Path sourceRoot, Path classes) throws IOException {
        List<String> arguments = new ArrayList<>(List.of("-d", classes.toString()));
        // The test JVM's module path holds hw-core and its dependencies, what a real plugin is built against.
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath == null) {
            throw new IllegalStateException("the tests must run on the module path to build plugins");
        }
        boolean modular = sources.containsKey("module-info.java");
        arguments.addAll(List.of(modular ? "--module-path" : "--class-path", modulePath));
        for (Map.Entry<String, String> source : sources.entrySet()) {
            Path file = sourceRoot.resolve(source.getKey());
            Files.createDirectories(file.getParent());
            arguments.add(Files.writeString(file, source.getValue()).toString());
        }
        StringWriter diagnostics = new StringWriter();
        PrintWriter writer = new PrintWriter(diagnostics);
        int status = ToolProvider.findFirst("javac").orElseThrow()
                .run(writer, writer, arguments.toArray(String[]::new));
        if (status != 0) {
            throw new IllegalStateException("javac failed for " + fileName + ":\n" + diagnostics);
        }
    }

    private static Path jar(Path classes, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar);
             JarOutputStream entries = new JarOutputStream(out);
             Stream<Path> tree = Files.walk(classes)) {
            for (Path file : tree.filter(Files::isRegularFile).sorted().toList()) {
                entries.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                entries.write(Files.readAllBytes(file));
                entries.closeEntry();
            }
        }
        return jar;
    }

    /** A file named like a jar that is not one. */
    public static Path notAJar(Path dir, String fileName) {
        try {
            return Files.writeString(dir.resolve(fileName), "this is not a jar\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package hvlab.cli;

import hvlab.cli.plugins.LoadProblem;
import hvlab.cli.plugins.PluginFailure;
import hvlab.cli.plugins.ProviderRegistry;
import hvlab.spi.MachineDescription;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@code hvlab}: a virtualization lab on one exact model of an IA-32 PC. */
@Command(name = "hvlab", mixinStandardHelpOptions = true, version = "hvlab 0.1.0",
        description = "A virtualization lab: boots guests on an exact IA-32 PC model.",
        subcommands = {RunCommand.class, ListCommand.class, BenchCommand.class, CompareCommand.class,
                CpuVectorsCommand.class, CommandLine.HelpCommand.class})
public final class HvlabCommand implements Runnable {
    /** Exit status for bad input (a usage error, an unreadable or malformed image, a broken plugin). */
    static final int EXIT_BAD_INPUT = 2;
    /** Exit status when a plugin's hypervisor fails: the plugin's fault, not the user's. */
    static final int EXIT_PLUGIN_FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--plugin-path", paramLabel = "PATH", scope = ScopeType.INHERIT,
            defaultValue = "${sys:hvlab.plugin.path:-${env:HVLAB_PLUGIN_PATH}}",
            description = {"Hypervisor plugins: jars, or folders of jars, separated by '${sys:path.separator}'"
                    + " (default: system property hvlab.plugin.path, else $HVLAB_PLUGIN_PATH).",
                    "A modular jar loads in a module layer of its own, a plain one (META-INF/services) in a"
                    + " class loader of its own."})
    List<String> pluginPath = new ArrayList<>();

    @Option(names = "--stack-traces", scope = ScopeType.INHERIT,
            description = "When a plugin fails, print its stack trace too (for plugin authors).")
    boolean stackTraces;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: run, list, bench, compare or cpu-vectors");
    }

    /** Loads the boot layer's hypervisor providers and the plugin path's, probing each on {@code machine}. */
    ProviderRegistry loadProviders(MachineDescription machine) {
        List<Path> entries = pluginPath.stream()
                .flatMap(value -> Arrays.stream(value.split(File.pathSeparator)))
                .filter(entry -> !entry.isBlank())
                .map(Path::of)
                .toList();
        return ProviderRegistry.load(entries, machine);
    }

    static void warn(PrintWriter err, LoadProblem problem) {
        err.println("hvlab: warning: " + problem);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command and returns its exit status; bad input gets one clear line on stderr, never a trace. */
    static int execute(String... args) {
        return execute(new PrintWriter(System.err, true), args);
    }

    static int execute(PrintWriter err, String... args) {
        return execute(new PrintWriter(System.out, true), err, args);
    }

    static int execute(PrintWriter out, PrintWriter err, String... args) {
        HvlabCommand hvlab = new HvlabCommand();
        CommandLine commandLine = new CommandLine(hvlab);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            if (exception instanceof UserInputException bad) {
                cmd.getErr().println("hvlab: " + bad.getMessage());
                return EXIT_BAD_INPUT;
            }
            if (exception instanceof PluginFailure failure) {
                cmd.getErr().println("hvlab: " + failure.getMessage());
                if (hvlab.stackTraces && failure.getCause() != null) {
                    failure.getCause().printStackTrace(cmd.getErr());
                }
                return EXIT_PLUGIN_FAILURE;
            }
            cmd.getErr().println("hvlab: internal error: " + exception);
            return 1;
        });
        commandLine.setParameterExceptionHandler((exception, parsedArgs) -> {
            CommandLine cmd = exception.getCommandLine();
            cmd.getErr().println("hvlab: " + exception.getMessage());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
            return EXIT_BAD_INPUT;
        });
        return commandLine.execute(args);
    }
}

package hvlab.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code hvlab}: a virtualization lab on one exact model of an IA-32 PC. */
@Command(name = "hvlab", mixinStandardHelpOptions = true, version = "hvlab 0.1.0",
        description = "A virtualization lab: boots guests on an exact IA-32 PC model.",
        subcommands = {RunCommand.class, ListCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class HvlabCommand implements Runnable {
    /** Exit status for bad input (a usage error, an unreadable or malformed image). */
    static final int EXIT_BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: run, list or bench");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command and returns its exit status; bad input gets one clear line on stderr, never a trace. */
    static int execute(String... args) {
        return execute(new java.io.PrintWriter(System.err, true), args);
    }

    static int execute(java.io.PrintWriter err, String... args) {
        return execute(new java.io.PrintWriter(System.out, true), err, args);
    }

    static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(new HvlabCommand());
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            if (exception instanceof UserInputException bad) {
                cmd.getErr().println("hvlab: " + bad.getMessage());
                return EXIT_BAD_INPUT;
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

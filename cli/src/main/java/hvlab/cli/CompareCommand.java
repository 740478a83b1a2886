package hvlab.cli;

import hvlab.cli.compare.CompareJson;
import hvlab.cli.compare.CompareTable;
import hvlab.cli.compare.Comparison;
import hvlab.cli.compare.GuestChoice;
import hvlab.cli.compare.Strategy;
import hvlab.cli.plugins.LoadProblem;
import hvlab.cli.plugins.LoadedProvider;
import hvlab.cli.plugins.ProviderRegistry;
import hvlab.guests.LabGuest;
import hvlab.hw.machine.MachineHostContext;
import hvlab.spi.Availability;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/**
 * {@code hvlab compare}: runs the same lab workloads natively and under each hypervisor and prints the modelled
 * cost per operation, its ratio to native, whether the results agree, and the mechanisms each operation took.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Compares strategies on the same workloads: modelled cycles and mechanisms per operation.",
        footer = {"", "Every figure comes from the machine's counters and the cost model, never from the host's clock:"
                + " the same command prints the same tables.", "A strategy that lacks unmodified guests runs the"
                + " paravirtualized port (lab-pv:NAME) where there is one, else its cell reads n/a.",
                "Progress goes to stderr, the tables to stdout.",
                "Exit status: 0, 1 if a run failed (its note says why), 2 bad input."})
final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    HvlabCommand hvlab;

    @Option(names = "--hypervisors", split = ",", paramLabel = "ID",
            description = "Strategies to compare (see 'hvlab list'); native, the reference, always runs first"
                    + " (default: native and every available hypervisor that runs one of the workloads, by id).")
    List<String> hypervisors;

    @Option(names = "--workloads", split = ",", paramLabel = "NAME",
            defaultValue = "syscall,in,cr8wr,callret,pgfault,divzero,ptemod,forkwait",
            description = "Lab workloads (default ${DEFAULT-VALUE}: the nanobenchmarks and forkwait).")
    List<String> workloads;

    @Option(names = "--iterations", paramLabel = "N",
            description = "Iterations each workload runs (default: each workload's own, e.g. syscall 100000).")
    Long iterations;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON to FILE.")
    Path json;

    @Override
    public Integer call() {
        if (iterations != null && iterations <= Comparison.BASELINE_ITERATIONS) {
            throw new UserInputException("--iterations must be more than the baseline's "
                    + Comparison.BASELINE_ITERATIONS);
        }
        List<LabGuest> guests = workloads.stream().distinct().map(RunCommand::labGuestNamed).toList();
        List<Strategy> strategies = strategies(guests);
        PrintWriter err = spec.commandLine().getErr();
        List<Comparison.Row> rows = new Comparison(strategies,
                iterations == null ? OptionalLong.empty() : OptionalLong.of(iterations), err).run(guests);
        List<String> ids = strategies.stream().map(Strategy::id).toList();
        PrintWriter out = spec.commandLine().getOut();
        out.print(CompareTable.format(ids, rows));
        out.flush();
        if (json != null) {
            try {
                Files.writeString(json, CompareJson.format(ids, rows));
            } catch (IOException e) {
                throw new UserInputException("cannot write " + json + ": " + e.getMessage());
            }
        }
        boolean failed = rows.stream().flatMap(row -> row.cells().stream())
                .anyMatch(cell -> cell instanceof hvlab.cli.compare.Cell.Failed);
        return failed ? HvlabCommand.EXIT_PLUGIN_FAILURE : 0;
    }

    /** Native first, then the named providers, or by default every available one that runs a workload. */
    private List<Strategy> strategies(List<LabGuest> guests) {
        ProviderRegistry registry = hvlab.loadProviders(RunCommand.DEFAULT_MACHINE);
        List<String> named = hypervisors == null ? null : hypervisors.stream().distinct().toList();
        for (LoadProblem problem : registry.problems()) {
            if (named != null && named.stream().anyMatch(problem::concerns)) {
                throw new UserInputException(problem.toString());
            }
            HvlabCommand.warn(spec.commandLine().getErr(), problem);
        }
        List<Strategy> strategies = new ArrayList<>(List.of(
                new Strategy(ProviderRegistry.NATIVE, Strategy.NATIVE_CAPABILITIES, BareMachine::new)));
        if (named == null) {
            registry.providers().stream()
                    .filter(p -> p.availability() instanceof Availability.Available)
                    .sorted(java.util.Comparator.comparing(LoadedProvider::id))
                    .map(CompareCommand::strategyOf)
                    .filter(s -> guests.stream().anyMatch(g ->
                            GuestChoice.of(s.capabilities(), g) instanceof GuestChoice.Image))
                    .forEach(strategies::add);
            return strategies;
        }
        for (String id : named) {
            if (id.equals(ProviderRegistry.NATIVE)) {
                continue;
            }
            LoadedProvider provider = registry.find(id).orElseThrow(() -> new UserInputException(
                    "no hypervisor '" + id + "'; known: " + String.join(", ", registry.ids())));
            if (provider.availability() instanceof Availability.Unavailable(String reason)) {
                throw new UserInputException("hypervisor '" + id + "' is unavailable: " + reason);
            }
            strategies.add(strategyOf(provider));
        }
        return strategies;
    }

    private static Strategy strategyOf(LoadedProvider provider) {
        System.Logger logger = System.getLogger("hvlab.hv." + provider.id());
        return new Strategy(provider.id(), provider.capabilities(), machine ->
                provider.create(new MachineHostContext(machine, machine.description(), logger)));
    }
}

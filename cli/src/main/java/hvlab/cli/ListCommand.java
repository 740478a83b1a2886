package hvlab.cli;

import hvlab.cli.plugins.LoadProblem;
import hvlab.cli.plugins.LoadedProvider;
import hvlab.cli.plugins.ProviderRegistry;
import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.spi.Availability;
import hvlab.spi.Capability;
import hvlab.spi.HypervisorType;
import hvlab.spi.MachineDescription;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code hvlab list}: the lab guests {@code hvlab run --guest} boots and the hypervisors it can run them under. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the lab guests and the hypervisors (with --plugin-path, plugins too).",
        footer = {"", "Exit status: 0; 2 when a plugin could not be loaded (a warning on stderr names each)."})
final class ListCommand implements Callable<Integer> {
    private static final List<String> HEADINGS = List.of("ID", "TYPE", "CAPABILITIES", "AVAILABILITY", "DESCRIPTION");
    private static final List<String> NATIVE_ROW = List.of(ProviderRegistry.NATIVE, "-", "-", "available",
            "the bare machine, no hypervisor: the baseline (default)");

    @Spec
    CommandSpec spec;

    @ParentCommand
    HvlabCommand hvlab;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("Lab guests (hvlab run --guest lab:NAME):");
        for (LabGuest guest : LabGuests.all()) {
            out.printf("  lab:%-10s %s%n", guest.name(), guest.description());
        }
        out.println("Paravirtualized lab guests (hvlab run --hypervisor xen-pv --guest lab-pv:NAME):");
        for (LabGuest guest : LabGuests.paravirtual()) {
            out.printf("  lab-pv:%-7s %s%n", guest.name(), guest.description());
        }
        MachineDescription machine = RunCommand.DEFAULT_MACHINE;
        ProviderRegistry registry = hvlab.loadProviders(machine);
        out.printf("%nHypervisors (hvlab run --hypervisor ID), availability on the default machine"
                + " (%d MiB, %d CPU):%n", machine.ramBytes() >> 20, machine.cpus());
        List<List<String>> rows = new ArrayList<>(List.of(HEADINGS, NATIVE_ROW));
        for (LoadedProvider provider : registry.providers()) {
            rows.add(List.of(provider.id(), typeName(provider.type()), capabilityNames(provider.capabilities()),
                    availabilityText(provider.availability()), provider.description()));
        }
        printTable(out, rows);
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        for (LoadProblem problem : registry.problems()) {
            HvlabCommand.warn(err, problem);
        }
        return registry.problems().isEmpty() ? 0 : HvlabCommand.EXIT_BAD_INPUT;
    }

    private static String typeName(HypervisorType type) {
        return switch (type) {
            case TYPE_1 -> "Type I";
            case TYPE_2 -> "Type II";
        };
    }

    private static String capabilityNames(Set<Capability> capabilities) {
        if (capabilities.isEmpty()) {
            return "-";
        }
        return capabilities.stream()
                .map(capability -> capability.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                .collect(Collectors.joining(", "));
    }

    private static String availabilityText(Availability availability) {
        return switch (availability) {
            case Availability.Available available -> "available";
            case Availability.Unavailable(String reason) -> "unavailable: " + reason;
        };
    }

    /** Columns as wide as their widest cell; the last one runs free. */
    private static void printTable(PrintWriter out, List<List<String>> rows) {
        int columns = HEADINGS.size();
        int[] widths = new int[columns];
        for (List<String> row : rows) {
            for (int column = 0; column < columns - 1; column++) {
                widths[column] = Math.max(widths[column], row.get(column).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder(" ");
            for (int column = 0; column < columns - 1; column++) {
                String cell = row.get(column);
                line.append(' ').append(cell).append(" ".repeat(widths[column] - cell.length() + 1));
            }
            out.println(line.append(' ').append(row.get(columns - 1)));
        }
    }
}

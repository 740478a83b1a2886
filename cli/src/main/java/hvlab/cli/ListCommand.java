package hvlab.cli;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/** {@code hvlab list}: the lab guests that {@code hvlab run --guest lab:NAME} can boot. */
@Command(name = "list", description = "Lists the lab guests.")
final class ListCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("Lab guests (hvlab run --guest lab:NAME):");
        for (LabGuest guest : LabGuests.all()) {
            out.printf("  lab:%-10s %s%n", guest.name(), guest.description());
        }
        out.println("Hypervisors: native (the bare machine; the default)");
        out.flush();
    }
}

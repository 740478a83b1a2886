package hvlab.cli.compare;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.spi.Capability;
import hvlab.spi.GuestImage;

import java.util.Set;
import java.util.stream.Collectors;

/** Which kernel image of a lab workload a strategy runs, or why it runs none. */
public sealed interface GuestChoice {
    /** @param spec the guest as {@code hvlab run --guest} names it, e.g. {@code lab-pv:syscall} */
    record Image(String spec, GuestImage image) implements GuestChoice { }

    record NotApplicable(String reason) implements GuestChoice { }

    /**
     * The one place that maps capabilities to guest kernels: the unmodified lab kernel where the strategy runs
     * unmodified guests, else its paravirtualized port where the strategy runs those and a port exists.
     *
     * @param workload the lab workload, with any options (iterations=N) already on its command line
     */
    static GuestChoice of(Set<Capability> capabilities, LabGuest workload) {
        if (capabilities.contains(Capability.UNMODIFIED_GUESTS)) {
            return new Image("lab:" + workload.name(),
                    new GuestImage.Multiboot(workload.name(), workload.kernelImage(), workload.commandLine()));
        }
        if (!capabilities.contains(Capability.PARAVIRTUALIZED_GUESTS)) {
            return new NotApplicable("runs neither unmodified guests nor paravirtualized ones");
        }
        if (!LabGuests.hasParavirtualPort(workload)) {
            return new NotApplicable("no paravirtualized port of " + workload.name() + " (lab-pv has "
                    + LabGuests.paravirtualPorts().stream().map(LabGuest::name).collect(Collectors.joining(", "))
                    + ")");
        }
        String spec = "lab-pv:" + workload.name();
        return new Image(spec, new GuestImage.Multiboot(spec, LabGuest.paravirtualImage(),
                workload.paravirtualCommandLine()));
    }
}

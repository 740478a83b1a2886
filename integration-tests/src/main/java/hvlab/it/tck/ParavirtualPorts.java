package hvlab.it.tck;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.spi.GuestImage;
import hvlab.spi.VirtualizationLimit;

import java.util.Map;
import java.util.Optional;

/**
 * What the suite runs under a provider that takes paravirtualized guests: the PV lab kernel's port of each lab guest
 * (lab-pv:NAME for lab:NAME, compared with lab:NAME on native), and for each guest the PV kernel cannot run, the
 * limit of paravirtualization that keeps it out. A provider that declares that limit gets KNOWN_LIMIT for it.
 */
final class ParavirtualPorts {
    /** Why a lab guest has no PV port: the limit, and what the guest needs that a PV domain does not have. */
    record NoPort(VirtualizationLimit limit, String why) {
    }

    private static final Map<String, NoPort> NO_PORT = Map.of(
            "clispin", new NoPort(VirtualizationLimit.INTERRUPT_HARDWARE, "masks the PIC and reads the PIT; they"
                    + " are Xen's, and CLI cannot clear the real IF from ring 1"));

    private ParavirtualPorts() {
    }

    /** Whether the PV lab kernel runs this guest. */
    static boolean ported(LabGuest guest) {
        return LabGuests.hasParavirtualPort(guest);
    }

    /** The PV port's image, with the guest's options. */
    static GuestImage image(LabGuest guest) {
        return new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(), guest.paravirtualCommandLine());
    }

    /** Why the guest has no PV port, when it has none for a reason of paravirtualization itself. */
    static Optional<NoPort> whyNot(LabGuest guest) {
        return ported(guest) ? Optional.empty() : Optional.ofNullable(NO_PORT.get(guest.name()));
    }
}

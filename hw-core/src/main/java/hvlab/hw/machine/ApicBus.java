package hvlab.hw.machine;

import hvlab.hw.device.apic.LocalApic;

import java.util.ArrayList;
import java.util.List;

/**
 * The bus that carries interrupt messages from the I/O APIC to the local APICs (the system bus on xAPIC parts).
 * Every local APIC sees every message and takes those addressed to it; one processor today, several with SMP.
 */
final class ApicBus {
    private final List<LocalApic> localApics = new ArrayList<>();
    private final Runnable interruptRaised;

    /** @param interruptRaised told after each message, so the processors look at their APICs again */
    ApicBus(Runnable interruptRaised) {
        this.interruptRaised = interruptRaised;
    }

    void attach(LocalApic localApic) {
        localApics.add(localApic);
    }

    void deliver(int destination, boolean logicalDestination, int deliveryMode, int vector, boolean levelTriggered) {
        for (LocalApic apic : localApics) {
            apic.receiveMessage(destination, logicalDestination, deliveryMode, vector, levelTriggered);
        }
        interruptRaised.run();
    }
}

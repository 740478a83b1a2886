package hvlab.hw.device.ioapic;

/**
 * Where the I/O APIC sends its interrupt messages (the APIC bus, or the system bus on xAPIC systems). A local APIC's
 * {@code receiveMessage} has this shape, so a uniprocessor machine wires {@code new IoApic(lapic::receiveMessage)}.
 */
@FunctionalInterface
public interface InterruptDelivery {
    /**
     * @param destination        the destination field (an APIC ID, 0xFF for all, or a logical destination set)
     * @param logicalDestination destination mode: false = physical, true = logical
     * @param deliveryMode       one of {@code hvlab.hw.device.apic.ApicDeliveryMode}
     * @param vector             the interrupt vector
     * @param levelTriggered     trigger mode: the receiver sets its TMR bit and broadcasts the EOI back
     */
    void deliver(int destination, boolean logicalDestination, int deliveryMode, int vector, boolean levelTriggered);
}

package hvlab.hw.device.ioapic;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.StubInterruptController;
import hvlab.hw.device.apic.ApicDeliveryMode;
import hvlab.hw.device.apic.LocalApic;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Intel 82093AA I/O APIC datasheet (order no. 290566). */
class IoApicTest {
    record Message(int destination, boolean logical, int mode, int vector, boolean level) {
    }

    private List<Message> messages;
    private IoApic ioApic;

    @BeforeEach
    void powerUp() {
        messages = new ArrayList<>();
        ioApic = new IoApic((destination, logical, mode, vector, level) ->
                messages.add(new Message(destination, logical, mode, vector, level)));
    }

    private int read(int register) {
        ioApic.write(IoApic.IOREGSEL, 1, register);
        return ioApic.read(IoApic.IOWIN, 4);
    }

    private void write(int register, int value) {
        ioApic.write(IoApic.IOREGSEL, 4, register);
        ioApic.write(IoApic.IOWIN, 4, value);
    }

    private void program(int pin, int low, int high) {
        write(0x10 + 2 * pin + 1, high);
        write(0x10 + 2 * pin, low);
    }

    @Test
    void identificationVersionAndArbitrationRegisters() {
        // "IOAPICID", "IOAPICVER" (0x11, 24 entries), "IOAPICARB"
        assertThat(read(IoApic.REGISTER_VERSION)).isEqualTo(0x0017_0011);
        write(IoApic.REGISTER_ID, 0x0200_0000);
        assertThat(read(IoApic.REGISTER_ID)).isEqualTo(0x0200_0000);
        assertThat(read(IoApic.REGISTER_ARBITRATION)).isEqualTo(0x0200_0000);
        assertThat(ioApic.read(IoApic.IOREGSEL, 4)).isEqualTo(IoApic.REGISTER_ARBITRATION);
    }

    @Test
    void redirectionEntriesResetMaskedAndAMaskedEdgeIsLost() {
        // "I/O Redirection Table Registers": mask bit 16 set after reset
        assertThat(read(0x10)).isEqualTo(0x0001_0000);
        ioApic.pin(1).raise();
        ioApic.pin(1).lower();
        program(1, 0x31, 0);
        assertThat(messages).isEmpty();
    }

    @Test
    void anEdgePinSendsOneMessagePerRisingEdgeWithTheEntrysFields() {
        // "I/O Redirection Table Registers": vector, delivery mode, destination mode, destination field
        program(4, 0x0000_0934, 0x0300_0000); // vector 0x34, lowest priority, logical, destination 3
        ioApic.pin(4).raise();
        ioApic.pin(4).raise();
        ioApic.pin(4).lower();
        ioApic.pin(4).raise();
        assertThat(messages).containsExactly(
                new Message(3, true, ApicDeliveryMode.LOWEST_PRIORITY, 0x34, false),
                new Message(3, true, ApicDeliveryMode.LOWEST_PRIORITY, 0x34, false));
        assertThat(read(0x10 + 9)).isEqualTo(0x0300_0000);
    }

    @Test
    void aLevelPinSetsRemoteIrrAndWaitsForTheEoiBeforeSendingAgain() {
        // "I/O Redirection Table Registers", bit 14 Remote IRR: set when the local APIC accepts, cleared by its EOI
        program(10, 0x0000_8045, 0);
        ioApic.pin(10).raise();
        assertThat(messages).hasSize(1);
        assertThat(messages.getFirst().level()).isTrue();
        assertThat(read(0x10 + 20) & 0x4000).isEqualTo(0x4000);
        ioApic.pin(10).raise();
        assertThat(messages).hasSize(1);
        ioApic.eoi(0x45);
        assertThat(messages).hasSize(2);
        ioApic.pin(10).lower();
        ioApic.eoi(0x45);
        assertThat(messages).hasSize(2);
        assertThat(read(0x10 + 20) & 0x4000).isZero();
    }

    @Test
    void unmaskingAnAssertedLevelPinSendsItsMessage() {
        // Level-triggered inputs are sampled while asserted: unmasking one that is high delivers it
        program(11, 0x0001_8046, 0);
        ioApic.pin(11).raise();
        assertThat(messages).isEmpty();
        write(0x10 + 22, 0x0000_8046);
        assertThat(messages).hasSize(1);
    }

    @Test
    void remoteIrrAndDeliveryStatusAreReadOnly() {
        program(2, 0x0000_5030, 0);
        assertThat(read(0x10 + 4)).isEqualTo(0x0000_0030);
        ioApic.pin(2).raise();
        assertThat(read(0x10 + 4) & 0x1000).isZero();
    }

    @Test
    void wiredToALocalApicALevelInterruptCompletesThroughTheEoiBroadcast() {
        // 82093AA + SDM "End of Interrupt (EOI)": EOI for a TMR-set vector reaches the I/O APIC
        VirtualClock clock = new VirtualClock();
        IoApic[] ioApicRef = new IoApic[1];
        LocalApic lapic = new LocalApic(clock, new StubInterruptController(), vector -> ioApicRef[0].eoi(vector));
        IoApic wired = new IoApic(lapic::receiveMessage);
        ioApicRef[0] = wired;
        lapic.write(LocalApic.SVR, 4, 0x1FF);
        wired.write(IoApic.IOREGSEL, 4, 0x10 + 2 * 9);
        wired.write(IoApic.IOWIN, 4, 0x0000_8061);
        wired.pin(9).raise();
        assertThat(lapic.hasPendingInterrupt()).isTrue();
        assertThat(lapic.acknowledge()).isEqualTo(0x61);
        lapic.write(LocalApic.EOI, 4, 0);
        assertThat(lapic.hasPendingInterrupt()).isTrue(); // still asserted: delivered again after the EOI
        assertThat(lapic.acknowledge()).isEqualTo(0x61);
        wired.pin(9).lower();
        lapic.write(LocalApic.EOI, 4, 0);
        assertThat(lapic.hasPendingInterrupt()).isFalse();
    }

    @Test
    void stateRoundTrip() {
        program(3, 0x0000_8050, 0x0100_0000);
        ioApic.pin(3).raise();
        IoApic.State saved = ioApic.state();
        IoApic copy = new IoApic((d, l, m, v, t) -> messages.add(new Message(d, l, m, v, t)));
        copy.restore(saved);
        copy.eoi(0x50);
        assertThat(messages).hasSize(2);
        assertThat(messages.get(1).destination()).isEqualTo(1);
    }
}

package hvlab.hv.xenpv.events;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static hvlab.hv.xenpv.mm.XenErrno.EEXIST;
import static hvlab.hv.xenpv.mm.XenErrno.EINVAL;
import static hvlab.hv.xenpv.mm.XenErrno.ENOENT;
import static org.assertj.core.api.Assertions.assertThat;

/** The two-level pending scheme and VIRQ binding ([X32] xen/common/event_channel.c; xen-pv-abi.md section 11). */
class EventChannelsTest {
    private static final int SHARED = 0x10000;
    private PhysicalMemory memory;
    private EventChannels events;

    @BeforeEach
    void sharedInfo() {
        memory = new PhysicalMemory(1 << 20, new MmioBus());
        events = new EventChannels(memory, SHARED);
    }

    private boolean pendingBit(int port) {
        return (memory.readU8(SHARED + EventChannels.PENDING + port / 8) & 1 << (port % 8)) != 0;
    }

    @Test
    void aVirqOnItsPortSetsPendingSelectorAndUpcall() {
        int port = events.bindVirq(EventChannels.VIRQ_TIMER, 0);
        assertThat(port).isPositive(); // port 0 is reserved
        events.raiseVirq(EventChannels.VIRQ_TIMER);
        assertThat(pendingBit(port)).isTrue();
        assertThat(memory.readU32(SHARED + EventChannels.PENDING_SELECTOR)).isEqualTo(1 << (port / 32));
        assertThat(events.upcallDue()).isTrue();
    }

    @Test
    void theGuestsUpcallMaskDefersTheUpcall() {
        events.bindVirq(EventChannels.VIRQ_TIMER, 0);
        memory.writeU8(SHARED + EventChannels.UPCALL_MASK, 1);
        events.raiseVirq(EventChannels.VIRQ_TIMER);
        assertThat(events.upcallPending()).isTrue();
        assertThat(events.upcallDue()).isFalse();
    }

    @Test
    void aMaskedPortStaysPendingAndUnmaskReRaisesIt() {
        int port = events.bindVirq(EventChannels.VIRQ_TIMER, 0);
        memory.writeU8(SHARED + EventChannels.MASK + port / 8, 1 << (port % 8));
        events.raiseVirq(EventChannels.VIRQ_TIMER);
        assertThat(pendingBit(port)).isTrue();
        assertThat(events.upcallPending()).isFalse();
        assertThat(events.unmask(port)).isZero();
        assertThat(events.upcallPending()).isTrue();
    }

    @Test
    void bindingErrorsAreXens() {
        assertThat(events.bindVirq(99, 0)).isEqualTo(EINVAL);
        assertThat(events.bindVirq(EventChannels.VIRQ_TIMER, 1)).isEqualTo(ENOENT);
        assertThat(events.bindVirq(EventChannels.VIRQ_TIMER, 0)).isPositive();
        assertThat(events.bindVirq(EventChannels.VIRQ_TIMER, 0)).isEqualTo(EEXIST);
        assertThat(events.close(500)).isEqualTo(EINVAL);
    }

    @Test
    void closingTheVirqsPortUnbindsIt() {
        int port = events.bindVirq(EventChannels.VIRQ_TIMER, 0);
        assertThat(events.close(port)).isZero();
        events.raiseVirq(EventChannels.VIRQ_TIMER);
        assertThat(pendingBit(port)).isFalse();
        assertThat(events.isBound(EventChannels.VIRQ_TIMER)).isFalse();
    }
}

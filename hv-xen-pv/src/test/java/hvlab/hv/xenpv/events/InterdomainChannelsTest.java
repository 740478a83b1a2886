package hvlab.hv.xenpv.events;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static hvlab.hv.xenpv.mm.XenErrno.EINVAL;
import static hvlab.hv.xenpv.mm.XenErrno.EPERM;
import static hvlab.hv.xenpv.mm.XenErrno.ESRCH;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Interdomain event channels after Xen's public/event_channel.h and common/event_channel.c (evtchn_alloc_unbound,
 * evtchn_bind_interdomain, evtchn_send, __evtchn_close): two domains' channels over their own shared_info pages.
 */
class InterdomainChannelsTest {
    private static final int SHARED_D1 = 0x10000, SHARED_D2 = 0x11000, DOMID_SELF = EventChannels.DOMID_SELF;
    private PhysicalMemory memory;
    private EventChannels d1, d2;
    private final List<Integer> kicked = new ArrayList<>();

    @BeforeEach
    void twoDomains() {
        memory = new PhysicalMemory(1 << 20, new MmioBus());
        EventChannels.Directory xen = new EventChannels.Directory() {
            @Override
            public EventChannels channelsOf(int domainId) {
                return domainId == 1 ? d1 : domainId == 2 ? d2 : null;
            }

            @Override
            public void kick(int domainId) {
                kicked.add(domainId);
            }
        };
        d1 = new EventChannels(memory, SHARED_D1, 1, xen);
        d2 = new EventChannels(memory, SHARED_D2, 2, xen);
    }

    private boolean pending(int sharedInfo, int port) {
        return (memory.readU8(sharedInfo + EventChannels.PENDING + port / 8) & 1 << (port % 8)) != 0;
    }

    private void clearPending(int sharedInfo, int port) {
        int at = sharedInfo + EventChannels.PENDING + port / 8;
        memory.writeU8(at, memory.readU8(at) & ~(1 << (port % 8)));
    }

    @Test
    void anOfferedPortConnectsAndSendMakesThePeersPortPending() {
        int offered = d2.allocUnbound(DOMID_SELF, 1);
        int local = d1.bindInterdomain(2, offered);
        assertThat(local).isPositive();
        assertThat(pending(SHARED_D1, local)).isTrue(); // Xen sets the new local port pending: no lost notification
        kicked.clear();
        assertThat(d1.send(local)).isZero();
        assertThat(pending(SHARED_D2, offered)).isTrue();
        assertThat(kicked).containsExactly(2); // the peer's vCPU is kicked (woken if blocked)
        assertThat(d2.send(offered)).isZero();
        assertThat(kicked).containsExactly(2); // d1's port was still pending from the bind: no new upcall
        clearPending(SHARED_D1, local);
        assertThat(d2.send(offered)).isZero();
        assertThat(kicked).containsExactly(2, 1);
    }

    @Test
    void aPortOfferedToAnotherDomainCannotBeBound() {
        int offered = d2.allocUnbound(DOMID_SELF, 3);
        assertThat(d1.bindInterdomain(2, offered)).isEqualTo(EINVAL);
        assertThat(d1.bindInterdomain(2, 999)).isEqualTo(EINVAL); // a free port of the peer
        assertThat(d1.bindInterdomain(2, -1)).isEqualTo(EINVAL);
    }

    @Test
    void aConnectedPortCannotBeBoundAgain() {
        int offered = d2.allocUnbound(DOMID_SELF, 1);
        d1.bindInterdomain(2, offered);
        assertThat(d1.bindInterdomain(2, offered)).isEqualTo(EINVAL);
    }

    @Test
    void aVirqPortOfThePeerIsNotOffered() {
        int virq = d2.bindVirq(EventChannels.VIRQ_TIMER, 0);
        assertThat(d1.bindInterdomain(2, virq)).isEqualTo(EINVAL);
    }

    @Test
    void noSuchDomainIsEsrch() {
        assertThat(d1.bindInterdomain(7, 1)).isEqualTo(ESRCH);
    }

    /** Xen 3.x evtchn_alloc_unbound: DOMID_SELF, or privilege; an unprivileged domain's own domid is -EPERM too. */
    @Test
    void onlyAPrivilegedDomainAllocatesByDomid() {
        assertThat(d1.allocUnbound(2, 1)).isEqualTo(EPERM);
        assertThat(d1.allocUnbound(1, 2)).isEqualTo(EPERM);
        assertThat(d1.allocUnbound(DOMID_SELF, 2)).isPositive();
    }

    @Test
    void sendOnAnUnboundPortIsDroppedAndOnAFreeOneRefused() {
        int unbound = d1.allocUnbound(DOMID_SELF, 2);
        assertThat(d1.send(unbound)).isZero();
        assertThat(pending(SHARED_D1, unbound)).isFalse();
        assertThat(d1.send(unbound + 1)).isEqualTo(EINVAL);
        assertThat(d1.send(5000)).isEqualTo(EINVAL);
    }

    @Test
    void closingOneEndLeavesThePeersEndUnboundAndOfferedBack() {
        int offered = d2.allocUnbound(DOMID_SELF, 1);
        int local = d1.bindInterdomain(2, offered);
        assertThat(d1.close(local)).isZero();
        assertThat(d2.send(offered)).isZero(); // unbound again: dropped
        clearPending(SHARED_D1, local);
        assertThat(pending(SHARED_D1, local)).isFalse();
        assertThat(d1.bindInterdomain(2, offered)).isPositive(); // offered to d1 again
    }

    @Test
    void aDyingDomainsPeersSeeTheirPortsUnbound() {
        int offered = d2.allocUnbound(DOMID_SELF, 1);
        int local = d1.bindInterdomain(2, offered);
        d2.closeAll();
        assertThat(d1.send(local)).isZero(); // unbound now: the notification is dropped, nobody is woken
        assertThat(d2.send(offered)).isEqualTo(EINVAL);
    }
}

package hvlab.hv.xenpv.events;

import hvlab.hw.memory.PhysicalMemory;

import java.util.Arrays;

import static hvlab.hv.xenpv.mm.XenErrno.EEXIST;
import static hvlab.hv.xenpv.mm.XenErrno.EINVAL;
import static hvlab.hv.xenpv.mm.XenErrno.ENOENT;
import static hvlab.hv.xenpv.mm.XenErrno.ENOSPC;
import static hvlab.hv.xenpv.mm.XenErrno.EPERM;
import static hvlab.hv.xenpv.mm.XenErrno.ESRCH;

/**
 * One domain's event channels ([X32] xen/common/event_channel.c; ../shared/reference/xen-pv-abi.md section 11):
 * ports bound to virtual IRQs or connected to another domain's port, the two-level pending scheme in shared_info (a pending bit per port, a selector bit
 * per word, evtchn_upcall_pending) and the guest's masks (a mask bit per port, evtchn_upcall_mask as its virtual IF).
 */
public final class EventChannels {
    public static final int PORTS = 1024, VIRQS = 24, VIRQ_TIMER = 0;
    public static final int DOMID_SELF = 0x7FF0;
    /** Port states: ECS_FREE, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ ([X32] xen/include/xen/sched.h). */
    private static final int FREE = 0, UNBOUND = 1, INTERDOMAIN = 2, VIRQ = 4;

    /** How one domain's channels reach the others': Xen's domain list, and the vCPU kick of evtchn_set_pending. */
    public interface Directory {
        /** The channels of a live domain, or null when there is no such domain (or it is dying). */
        EventChannels channelsOf(int domainId);

        /** An upcall became pending for the domain: wake its vCPU if it is blocked. */
        void kick(int domainId);
    }

    private static final Directory ALONE = new Directory() {
        @Override
        public EventChannels channelsOf(int domainId) {
            return null;
        }

        @Override
        public void kick(int domainId) {
        }
    };
    // shared_info offsets (x86_32)
    static final int UPCALL_PENDING = 0, UPCALL_MASK = 1, PENDING_SELECTOR = 4, PENDING = 0x800, MASK = 0x880;

    private final PhysicalMemory memory;
    private final int sharedInfo;
    private final int[] state = new int[PORTS];
    private final int[] virqOfPort = new int[PORTS];
    private final int[] portOfVirq = new int[VIRQS];
    /** UNBOUND: the domain allowed to connect; INTERDOMAIN: the peer domain and its port. */
    private final int[] remoteDomain = new int[PORTS], remotePort = new int[PORTS];
    private final int domainId;
    private final Directory directory;

    /** A domain alone: no other domain to connect to. */
    public EventChannels(PhysicalMemory memory, int sharedInfoAddress) {
        this(memory, sharedInfoAddress, 1, ALONE);
    }

    public EventChannels(PhysicalMemory memory, int sharedInfoAddress, int domainId, Directory directory) {
        this.memory = memory;
        this.sharedInfo = sharedInfoAddress;
        this.domainId = domainId;
        this.directory = directory;
        Arrays.fill(portOfVirq, 0);
    }

    /**
     * EVTCHNOP_alloc_unbound: a new port that {@code remoteDom} may connect to. An unprivileged domain names itself
     * only as DOMID_SELF; any other domid, its own included, is -EPERM ([X32] evtchn_alloc_unbound: "else if
     * (!IS_PRIV(current->domain))"). The port, or -errno.
     */
    public int allocUnbound(int dom, int remoteDom) {
        if (dom != DOMID_SELF) {
            return EPERM;
        }
        int port = freePort();
        if (port < 0) {
            return ENOSPC;
        }
        state[port] = UNBOUND;
        remoteDomain[port] = remoteDom == DOMID_SELF ? domainId : remoteDom;
        return port;
    }

    /**
     * EVTCHNOP_bind_interdomain ([X32] evtchn_bind_interdomain): connects a new local port to the remote domain's
     * port, which must be unbound and offered to this domain (else -EINVAL); no such domain: -ESRCH. The local port
     * starts pending, as Xen sets it: notifications sent while the remote port was unbound are lost otherwise.
     */
    public int bindInterdomain(int remoteDom, int port) {
        int peerId = remoteDom == DOMID_SELF ? domainId : remoteDom;
        EventChannels peer = peerId == domainId ? this : directory.channelsOf(peerId);
        if (peer == null) {
            return ESRCH;
        }
        int local = freePort();
        if (local < 0) {
            return ENOSPC;
        }
        if (port <= 0 || port >= PORTS || peer.state[port] != UNBOUND || peer.remoteDomain[port] != domainId) {
            return EINVAL;
        }
        state[local] = INTERDOMAIN;
        remoteDomain[local] = peerId;
        remotePort[local] = port;
        peer.state[port] = INTERDOMAIN;
        peer.remoteDomain[port] = domainId;
        peer.remotePort[port] = local;
        setPending(local);
        return local;
    }

    /** EVTCHNOP_bind_virq: a new port for the virtual IRQ on vCPU 0; the port, or -errno. */
    public int bindVirq(int virq, int vcpu) {
        if (virq < 0 || virq >= VIRQS) {
            return EINVAL;
        }
        if (vcpu != 0) {
            return ENOENT;
        }
        if (portOfVirq[virq] != 0) {
            return EEXIST;
        }
        int port = freePort();
        if (port < 0) {
            return ENOSPC;
        }
        state[port] = VIRQ;
        virqOfPort[port] = virq;
        portOfVirq[virq] = port;
        return port;
    }

    /** EVTCHNOP_close. */
    public int close(int port) {
        if (!bound(port)) {
            return EINVAL;
        }
        if (state[port] == VIRQ) {
            portOfVirq[virqOfPort[port]] = 0;
        }
        if (state[port] == INTERDOMAIN) {
            EventChannels peer = remoteDomain[port] == domainId ? this : directory.channelsOf(remoteDomain[port]);
            if (peer != null) { // the peer's end is unbound again, offered back to this domain ([X32] __evtchn_close)
                peer.state[remotePort[port]] = UNBOUND;
                peer.remoteDomain[remotePort[port]] = domainId;
            }
        }
        state[port] = FREE;
        return 0;
    }

    /** Every port closed, as Xen's evtchn_destroy does for a dying domain: its peers' ends become unbound. */
    public void closeAll() {
        for (int port = 1; port < PORTS; port++) {
            if (state[port] != FREE) {
                close(port);
            }
        }
    }

    /**
     * EVTCHNOP_send ([X32] evtchn_send): an interdomain port makes the peer's port pending; an unbound one drops the
     * notification silently; any other (free, VIRQ, out of range): -EINVAL.
     */
    public int send(int port) {
        if (port < 0 || port >= PORTS) {
            return EINVAL;
        }
        return switch (state[port]) {
            case INTERDOMAIN -> {
                EventChannels peer = remoteDomain[port] == domainId ? this : directory.channelsOf(remoteDomain[port]);
                if (peer != null) {
                    peer.setPending(remotePort[port]);
                }
                yield 0;
            }
            case UNBOUND -> 0;
            default -> EINVAL;
        };
    }

    /** EVTCHNOP_unmask: clears the mask and re-raises the selector and upcall if the port is pending. */
    public int unmask(int port) {
        if (port <= 0 || port >= PORTS) {
            return EINVAL;
        }
        if (bit(MASK, port)) {
            setBit(MASK, port, false);
            if (bit(PENDING, port)) {
                raiseUpcall(port);
            }
        }
        return 0;
    }

    /** The virtual IRQ fires: its port goes pending (if bound). */
    public void raiseVirq(int virq) {
        int port = portOfVirq[virq];
        if (port != 0) {
            setPending(port);
        }
    }

    public boolean isBound(int virq) {
        return portOfVirq[virq] != 0;
    }

    /** Step 1-2 of the scheme: the pending bit; if it was clear and the port unmasked, the selector and upcall. */
    void setPending(int port) {
        if (bit(PENDING, port)) {
            return;
        }
        setBit(PENDING, port, true);
        if (!bit(MASK, port)) {
            raiseUpcall(port);
        } else if (polled != null && polled.get(port)) {
            directory.kick(domainId); // SCHEDOP_poll wakes on its ports even when they are masked
        }
    }

    /** SCHEDOP_poll: whether one of the ports is pending already; if none is, they wake the vCPU until stopPolling. */
    public boolean pollPending(int[] ports) {
        java.util.BitSet set = new java.util.BitSet(PORTS);
        for (int port : ports) {
            if (port > 0 && port < PORTS) {
                if (bit(PENDING, port)) {
                    return true;
                }
                set.set(port);
            }
        }
        polled = set;
        return false;
    }

    public void stopPolling() {
        polled = null;
    }

    private void raiseUpcall(int port) {
        int selector = memory.readU32(sharedInfo + PENDING_SELECTOR);
        int word = 1 << (port >>> 5);
        if ((selector & word) == 0) {
            memory.writeU32(sharedInfo + PENDING_SELECTOR, selector | word);
        }
        memory.writeU8(sharedInfo + UPCALL_PENDING, 1);
        directory.kick(domainId);
    }

    /** The ports a SCHEDOP_poll waits on (cold: set per poll), or null. */
    private java.util.BitSet polled;

    /** Whether an upcall is due: pending and not masked by the guest's virtual IF. */
    public boolean upcallDue() {
        return memory.readU8(sharedInfo + UPCALL_PENDING) != 0 && memory.readU8(sharedInfo + UPCALL_MASK) == 0;
    }

    public boolean upcallPending() {
        return memory.readU8(sharedInfo + UPCALL_PENDING) != 0;
    }

    private boolean bound(int port) {
        return port > 0 && port < PORTS && state[port] != FREE;
    }

    private int freePort() {
        for (int port = 1; port < PORTS; port++) { // port 0 is reserved
            if (state[port] == FREE) {
                return port;
            }
        }
        return -1;
    }

    private boolean bit(int array, int port) {
        return (memory.readU8(sharedInfo + array + (port >>> 3)) & 1 << (port & 7)) != 0;
    }

    private void setBit(int array, int port, boolean value) {
        int at = sharedInfo + array + (port >>> 3);
        int b = memory.readU8(at);
        memory.writeU8(at, value ? b | 1 << (port & 7) : b & ~(1 << (port & 7)));
    }
}

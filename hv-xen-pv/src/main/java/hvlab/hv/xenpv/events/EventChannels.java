package hvlab.hv.xenpv.events;

import hvlab.hw.memory.PhysicalMemory;

import java.util.Arrays;

import static hvlab.hv.xenpv.mm.XenErrno.EEXIST;
import static hvlab.hv.xenpv.mm.XenErrno.EINVAL;
import static hvlab.hv.xenpv.mm.XenErrno.ENOENT;
import static hvlab.hv.xenpv.mm.XenErrno.ENOSPC;

/**
 * One domain's event channels ([X32] xen/common/event_channel.c; ../shared/reference/xen-pv-abi.md section 11):
 * ports bound to virtual IRQs, the two-level pending scheme in shared_info (a pending bit per port, a selector bit
 * per word, evtchn_upcall_pending) and the guest's masks (a mask bit per port, evtchn_upcall_mask as its virtual IF).
 */
public final class EventChannels {
    public static final int PORTS = 1024, VIRQS = 24, VIRQ_TIMER = 0;
    private static final int FREE = 0, VIRQ = 4;
    // shared_info offsets (x86_32)
    static final int UPCALL_PENDING = 0, UPCALL_MASK = 1, PENDING_SELECTOR = 4, PENDING = 0x800, MASK = 0x880;

    private final PhysicalMemory memory;
    private final int sharedInfo;
    private final int[] state = new int[PORTS];
    private final int[] virqOfPort = new int[PORTS];
    private final int[] portOfVirq = new int[VIRQS];

    public EventChannels(PhysicalMemory memory, int sharedInfoAddress) {
        this.memory = memory;
        this.sharedInfo = sharedInfoAddress;
        Arrays.fill(portOfVirq, 0);
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
        state[port] = FREE;
        return 0;
    }

    /** EVTCHNOP_send: only IPI and interdomain ports can be sent to, and neither kind exists yet: -EINVAL. */
    public int send(int port) {
        return EINVAL;
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
        }
    }

    private void raiseUpcall(int port) {
        int selector = memory.readU32(sharedInfo + PENDING_SELECTOR);
        int word = 1 << (port >>> 5);
        if ((selector & word) == 0) {
            memory.writeU32(sharedInfo + PENDING_SELECTOR, selector | word);
        }
        memory.writeU8(sharedInfo + UPCALL_PENDING, 1);
    }

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

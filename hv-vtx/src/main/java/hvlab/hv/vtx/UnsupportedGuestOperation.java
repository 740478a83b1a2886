package hvlab.hv.vtx;

import hvlab.spi.VirtualizationLimit;

/** The guest needs what this hypervisor does not virtualize (yet): the machine stops with a message naming it. */
final class UnsupportedGuestOperation extends RuntimeException {
    final VirtualizationLimit limit;

    UnsupportedGuestOperation(VirtualizationLimit limit, String what) {
        super(what, null, false, false);
        this.limit = limit;
    }

    UnsupportedGuestOperation(String what) {
        this(null, what);
    }
}

package hvlab.hv.vtx;

/** An exception the guest must take, raised by work the hypervisor does for it (emulation): injected on entry. */
final class GuestFault extends RuntimeException {
    final int vector, errorCode;

    GuestFault(int vector, int errorCode) {
        super("guest exception " + vector, null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
    }
}

package hvlab.example.trapemulate;

/** An exception the guest must see, found while the monitor works on its behalf: reflected to the guest's IDT. */
final class GuestFault extends Exception {
    static final int NO_ERROR_CODE = -1;

    final int vector;
    final int errorCode;
    /** For a page fault, the linear address for the guest's CR2. */
    final int address;

    GuestFault(int vector, int errorCode, int address) {
        super(null, null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
        this.address = address;
    }

    static GuestFault gp(int errorCode) {
        return new GuestFault(13, errorCode, 0);
    }
}

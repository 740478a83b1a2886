package hvlab.hw.cpu.vmx;

/**
 * The interruption-information format shared by the VM-entry (4016H), VM-exit (4404H) and IDT-vectoring (4408H)
 * fields (SDM Vol. 3C, 24.8.3 Table 24-13, 24.9.2 Tables 24-15 and 24-16): bits 7:0 vector, 10:8 type, 11 error
 * code valid, 12 NMI unblocking due to IRET (exit fields only), 31 valid.
 */
public final class InterruptionInfo {
    public static final int EXTERNAL_INTERRUPT = 0, NMI = 2, HARDWARE_EXCEPTION = 3, SOFTWARE_INTERRUPT = 4,
            PRIVILEGED_SOFTWARE_EXCEPTION = 5, SOFTWARE_EXCEPTION = 6, OTHER_EVENT = 7;
    public static final int ERROR_CODE_VALID = 1 << 11, NMI_UNBLOCKING = 1 << 12, VALID = 0x80000000;

    private InterruptionInfo() {
    }

    /** A valid interruption-information value. */
    public static int of(int vector, int type, boolean errorCode) {
        return VALID | type << 8 | (errorCode ? ERROR_CODE_VALID : 0) | vector & 0xFF;
    }

    public static boolean isValid(int info) {
        return info < 0;
    }

    public static int vector(int info) {
        return info & 0xFF;
    }

    public static int type(int info) {
        return info >>> 8 & 7;
    }

    public static boolean hasErrorCode(int info) {
        return (info & ERROR_CODE_VALID) != 0;
    }

    /** Types 4, 5 and 6 come from instructions: their delivery pushes the address after the instruction (26.5.1). */
    public static boolean isSoftware(int type) {
        return type >= SOFTWARE_INTERRUPT && type <= SOFTWARE_EXCEPTION;
    }
}

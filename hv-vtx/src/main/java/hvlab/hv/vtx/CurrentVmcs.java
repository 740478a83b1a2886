package hvlab.hv.vtx;

import hvlab.hw.cpu.Vmx;

/**
 * VMREAD and VMWRITE of the current VMCS, and INVVPID for its VPID, as the hypervisor's own instructions. A failure is a hypervisor bug (an
 * unknown or read-only field, no current VMCS), never something a guest can cause: it throws.
 */
final class CurrentVmcs {
    private final Vmx vmx;

    CurrentVmcs(Vmx vmx) {
        this.vmx = vmx;
    }

    int read(int field) {
        long value = vmx.vmread(field);
        check(vmx.status(), "VMREAD", field);
        return (int) value;
    }

    void write(int field, long value) {
        check(vmx.vmwrite(field, value), "VMWRITE", field);
    }

    /** INVVPID (SDM Vol. 3C 30.3) of type {@code type} for {@code vpid}'s mappings. */
    void invalidateVpid(int type, int vpid) {
        check(vmx.invvpid(type, vpid, 0), "INVVPID", type);
    }

    private static void check(int status, String instruction, int field) {
        if (status != Vmx.SUCCEED) {
            throw new IllegalStateException(instruction + " of 0x" + Integer.toHexString(field) + " failed: "
                    + (status == Vmx.FAIL_INVALID ? "VMfailInvalid" : "VM-instruction error " + status));
        }
    }
}

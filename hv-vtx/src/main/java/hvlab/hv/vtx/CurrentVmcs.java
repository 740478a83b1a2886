package hvlab.hv.vtx;

import hvlab.hw.cpu.Vmx;

import static hvlab.hw.cpu.vmx.VmcsField.GUEST_INTERRUPTIBILITY_STATE;
import static hvlab.hw.cpu.vmx.VmcsField.GUEST_RIP;

/**
 * VMREAD and VMWRITE of the current VMCS, and INVVPID for its VPID, as the hypervisor's own instructions. A failure is a hypervisor bug (an
 * unknown or read-only field, no current VMCS), never something a guest can cause: it throws.
 */
final class CurrentVmcs {
    static final int BLOCKING_BY_STI_OR_MOV_SS = 3;
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

    /** The instruction that exited has been emulated: RIP past it, and the STI / MOV SS shadow over (26.3.1.5). */
    void advanceGuestRip(int length) {
        write(GUEST_RIP, (read(GUEST_RIP) + length) & 0xFFFFFFFFL);
        int interruptibility = read(GUEST_INTERRUPTIBILITY_STATE);
        if ((interruptibility & BLOCKING_BY_STI_OR_MOV_SS) != 0) {
            write(GUEST_INTERRUPTIBILITY_STATE, interruptibility & ~BLOCKING_BY_STI_OR_MOV_SS);
        }
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

package hvlab.hv.vtx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.vmx.VmxCapabilities;

import static hvlab.hw.cpu.vmx.VmcsField.*;

/**
 * The guest's CR0 and CR4 behind the guest/host masks and read shadows (SDM Vol. 3C 24.6.6, 25.3): the values the
 * guest believes it loaded, and the real ones the processor runs it with, which the memory mode derives from them.
 * The guest reads its own value of every masked bit; a MOV that would change one exits.
 */
final class ControlRegisterShadows {
    /** CR4 bits the guest's processor has: this one's, without VMX (which the guest is not offered). */
    private static final int GUEST_CR4_BITS = VmxCapabilities.CR4_FIXED1 & ~VmxCapabilities.CR4_FIXED0;

    private final CurrentVmcs vmcs;
    private final int cr0Mask, cr4Mask;
    /** As the guest believes them. */
    private int cr0, cr4;

    ControlRegisterShadows(CurrentVmcs vmcs, int cr0Mask, int cr4Mask) {
        this.vmcs = vmcs;
        this.cr0Mask = cr0Mask;
        this.cr4Mask = cr4Mask;
    }

    /** The masks, and no CR3-target values (every CR3 load exits when CR3-load exiting is on, 25.1.3). */
    void writeMasks() {
        vmcs.write(CR0_GUEST_HOST_MASK, cr0Mask & 0xFFFFFFFFL);
        vmcs.write(CR4_GUEST_HOST_MASK, cr4Mask & 0xFFFFFFFFL);
        vmcs.write(CR3_TARGET_COUNT, 0);
    }

    /**
     * Whether the guest's processor would load {@code value} (CR0 with ET already set) into CR{@code cr} rather than
     * raise #GP(0): no PG without PE, no NW without CD, no CR4 bit it lacks (SDM Vol. 2B "MOV to CR").
     */
    static boolean isValid(int cr, int value) {
        return switch (cr) {
            case 0 -> !((value & Cpu.CR0_PG) != 0 && (value & Cpu.CR0_PE) == 0
                    || (value & Cpu.CR0_NW) != 0 && (value & Cpu.CR0_CD) == 0);
            case 4 -> (value & ~GUEST_CR4_BITS) == 0;
            default -> true;
        };
    }

    int cr0() {
        return cr0;
    }

    int cr4() {
        return cr4;
    }

    /** The guest's CR0 is {@code value}; the processor runs it with {@code real}. */
    void loadCr0(int value, int real) {
        cr0 = value;
        vmcs.write(CR0_READ_SHADOW, value & 0xFFFFFFFFL);
        vmcs.write(GUEST_CR0, real & 0xFFFFFFFFL);
    }

    void loadCr4(int value, int real) {
        cr4 = value;
        vmcs.write(CR4_READ_SHADOW, value & 0xFFFFFFFFL);
        vmcs.write(GUEST_CR4, real & 0xFFFFFFFFL);
    }

    /** CR0 as the guest reads it, given the processor's value in non-root operation. */
    int guestCr0(int real) {
        return real & ~cr0Mask | cr0 & cr0Mask;
    }

    int guestCr4(int real) {
        return real & ~cr4Mask | cr4 & cr4Mask;
    }
}

package hvlab.hv.vtx;

/**
 * One VM's RAM: guest-physical 0 to {@code size} is machine RAM from {@code base} on. The rest of the machine's RAM
 * (the other VMs', the hypervisor's) the VM does not have: a guest access there goes to {@link #NOTHING_THERE},
 * physical space nothing decodes, so it reads all ones and its writes go nowhere, as on a machine without that RAM.
 * The device space above the machine's RAM is the same address for the guest and the machine.
 */
record GuestRam(int base, int size, int machineRam) {
    /** Where a guest's access to RAM it does not have goes instead. */
    static final int NOTHING_THERE = 0xFD000000;

    GuestRam {
        if ((base & 0xFFF) != 0 || (size & 0xFFF) != 0 || Integer.compareUnsigned(base + size, machineRam) > 0) {
            throw new IllegalArgumentException("guest RAM 0x" + Integer.toHexString(base) + "+0x"
                    + Integer.toHexString(size) + " is not page-aligned machine RAM");
        }
    }

    /** Whether a guest-physical address is this VM's RAM. */
    boolean isGuestRam(int guestPhysical) {
        return Integer.compareUnsigned(guestPhysical, size) < 0;
    }

    /** Whether a guest-physical address is machine RAM this VM does not have (another VM's, the hypervisor's). */
    boolean isHidden(int guestPhysical) {
        return !isGuestRam(guestPhysical) && Integer.compareUnsigned(guestPhysical, machineRam) < 0;
    }

    /** Guest-physical to machine: into the VM's range, to {@link #NOTHING_THERE}, or the same (device space). */
    int machineAddress(int guestPhysical) {
        if (isGuestRam(guestPhysical)) {
            return base + guestPhysical;
        }
        return isHidden(guestPhysical) ? NOTHING_THERE | guestPhysical & 0xFFF : guestPhysical;
    }
}

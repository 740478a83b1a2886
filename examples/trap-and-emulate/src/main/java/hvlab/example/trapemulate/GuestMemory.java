package hvlab.example.trapemulate;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.memory.PhysicalMemory;

/**
 * The guest's memory as the monitor reaches it: linear addresses through the guest's own page tables (walked in
 * software with the guest's CR0, CR3 and CR4, setting accessed and dirty bits as the CPU would), and guest-physical
 * addresses, which equal machine-physical ones below the monitor.
 */
final class GuestMemory {
    static final int P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80;
    static final int PF_PRESENT = 1, PF_WRITE = 2, PF_USER = 4;

    private final PhysicalMemory memory;
    private final Cpu cpu;
    private final VirtualCpu vcpu;
    private final int guestRam;

    GuestMemory(PhysicalMemory memory, Cpu cpu, VirtualCpu vcpu, int guestRam) {
        this.memory = memory;
        this.cpu = cpu;
        this.vcpu = vcpu;
        this.guestRam = guestRam;
    }

    /** One translation: the guest-physical page and the rights the guest's tables give it. */
    record Translation(int physicalPage, boolean user, boolean writable, boolean dirty) { }

    /**
     * Walks the guest's tables for an access, updating A and D as the CPU does (SDM Vol. 3A 4.8), or raises the
     * #PF the guest would see, with its error code (4.7).
     */
    Translation translate(int linear, boolean write, boolean user) throws GuestFault {
        if (!vcpu.paging()) {
            return new Translation(linear & ~0xFFF, true, true, true);
        }
        int pdeAddress = (vcpu.cr3 & ~0xFFF) | (linear >>> 22) << 2;
        int pde = readEntry(pdeAddress);
        if ((pde & P) == 0) {
            throw pageFault(linear, 0, write, user);
        }
        if ((pde & PS) != 0 && vcpu.largePages()) {
            checkRights(linear, pde, write, user);
            writeEntry(pdeAddress, pde, pde | A | (write ? D : 0));
            return new Translation((pde & 0xFFC00000) | (linear & 0x003FF000), (pde & US) != 0, (pde & RW) != 0,
                    write || (pde & D) != 0);
        }
        writeEntry(pdeAddress, pde, pde | A);
        int pteAddress = (pde & ~0xFFF) | ((linear >>> 12) & 0x3FF) << 2;
        int pte = readEntry(pteAddress);
        if ((pte & P) == 0) {
            throw pageFault(linear, 0, write, user);
        }
        int rights = pde & pte;
        checkRights(linear, rights, write, user);
        writeEntry(pteAddress, pte, pte | A | (write ? D : 0));
        return new Translation(pte & ~0xFFF, (rights & US) != 0, (rights & RW) != 0, write || (pte & D) != 0);
    }

    private void checkRights(int linear, int rights, boolean write, boolean user) throws GuestFault {
        if (user && (rights & US) == 0 || write && (rights & RW) == 0 && (user || vcpu.writeProtect())) {
            throw pageFault(linear, PF_PRESENT, write, user);
        }
    }

    private static GuestFault pageFault(int linear, int present, boolean write, boolean user) {
        return new GuestFault(14, present | (write ? PF_WRITE : 0) | (user ? PF_USER : 0), linear);
    }

    private int readEntry(int address) {
        return isGuestRam(address) ? memory.readU32(address) : 0; // tables outside the guest's RAM map nothing
    }

    private void writeEntry(int address, int old, int updated) {
        if (updated != old) {
            cpu.writePhysical32(address, updated);
        }
    }

    boolean isGuestRam(int physical) {
        return Integer.compareUnsigned(physical, guestRam) < 0;
    }

    /** A supervisor read of the guest's linear memory, as its kernel would make it. */
    int read32(int linear) throws GuestFault {
        if ((linear & 3) == 0) {
            return readPhysical32(physical(linear, false, false));
        }
        return read8(linear) | read8(linear + 1) << 8 | read8(linear + 2) << 16 | read8(linear + 3) << 24;
    }

    int read16(int linear) throws GuestFault {
        return read8(linear) | read8(linear + 1) << 8;
    }

    int read8(int linear) throws GuestFault {
        return readPhysical8(physical(linear, false, false));
    }

    /** A supervisor write to the guest's linear memory; both pages are checked before a split write. */
    void write32(int linear, int value, boolean user) throws GuestFault {
        if ((linear & 3) == 0) {
            writePhysical32(physical(linear, true, user), value);
            return;
        }
        physical(linear, true, user);
        physical(linear + 3, true, user);
        for (int k = 0; k < 4; k++) {
            write8(linear + k, value >>> (8 * k), user);
        }
    }

    void write8(int linear, int value, boolean user) throws GuestFault {
        int physical = physical(linear, true, user);
        int word = physical & ~3, shift = (physical & 3) * 8;
        writePhysical32(word, readPhysical32(word) & ~(0xFF << shift) | (value & 0xFF) << shift);
    }

    int physical(int linear, boolean write, boolean user) throws GuestFault {
        return translate(linear, write, user).physicalPage() | (linear & 0xFFF);
    }

    int readPhysical32(int physical) {
        return isGuestRam(physical) ? memory.readU32(physical) : isMonitor(physical) ? -1 : memory.readU32(physical);
    }

    int readPhysical8(int physical) {
        return readPhysical32(physical & ~3) >>> ((physical & 3) * 8) & 0xFF;
    }

    void writePhysical32(int physical, int value) {
        if (!isMonitor(physical)) {
            cpu.writePhysical32(physical, value);
        }
    }

    /** The monitor's RAM: no guest access, however addressed, reaches it. */
    boolean isMonitor(int physical) {
        return !isGuestRam(physical) && Integer.compareUnsigned(physical, memory.ramSize()) < 0;
    }
}

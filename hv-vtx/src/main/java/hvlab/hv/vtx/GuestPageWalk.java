package hvlab.hv.vtx;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.memory.PhysicalMemory;

/**
 * The guest's own 32-bit page tables walked in software, as the processor would walk them for one access (SDM Vol.
 * 3A 4.3, rights 4.6, accessed and dirty flags 4.8), with the guest's CR0, CR3 and CR4. Entries are read from
 * the VM's RAM only (guest-physical addresses in its range of machine RAM); a table outside it maps nothing.
 */
final class GuestPageWalk {
    static final int P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80;
    static final int PF_PRESENT = 1, PF_WRITE = 2, PF_USER = 4;

    private final PhysicalMemory memory;
    private final Cpu cpu;
    private final GuestRam guestRam;

    GuestPageWalk(PhysicalMemory memory, Cpu cpu, GuestRam guestRam) {
        this.memory = memory;
        this.cpu = cpu;
        this.guestRam = guestRam;
    }

    /**
     * The translation for an access: the guest-physical page in bits 31:12 with the effective RW, US and D bits, as a
     * non-negative long; or, when the guest's tables forbid the access, {@code -1 - errorCode} of its #PF.
     */
    long translate(int linear, boolean write, boolean user, int cr0, int cr3, int cr4) {
        if ((cr0 & Cpu.CR0_PG) == 0) {
            return (linear & ~0xFFF | RW | US | D) & 0xFFFFFFFFL;
        }
        boolean wp = (cr0 & Cpu.CR0_WP) != 0;
        int pdeAddress = (cr3 & ~0xFFF) | (linear >>> 22) << 2;
        int pde = readEntry(pdeAddress);
        if ((pde & P) == 0) {
            return fault(0, write, user);
        }
        if ((pde & PS) != 0 && (cr4 & Cpu.CR4_PSE) != 0) {
            if (!allowed(pde, write, user, wp)) {
                return fault(PF_PRESENT, write, user);
            }
            int updated = setFlags(pdeAddress, pde, A | (write ? D : 0));
            return result((pde & 0xFFC00000) | (linear & 0x003FF000), pde, updated);
        }
        pde = setFlags(pdeAddress, pde, A); // used to find the table, even if the PTE then faults (4.8)
        int pteAddress = (pde & ~0xFFF) | ((linear >>> 12) & 0x3FF) << 2;
        int pte = readEntry(pteAddress);
        if ((pte & P) == 0) {
            return fault(0, write, user);
        }
        int rights = pde & pte;
        if (!allowed(rights, write, user, wp)) {
            return fault(PF_PRESENT, write, user);
        }
        int updated = setFlags(pteAddress, pte, A | (write ? D : 0));
        return result(pte & ~0xFFF, rights, updated);
    }

    /** The guest's directory entry for a linear address (0 when paging is off or the table is not guest RAM). */
    int directoryEntry(int linear, int cr3) {
        return readEntry((cr3 & ~0xFFF) | (linear >>> 22) << 2);
    }

    private static long result(int page, int rights, int leaf) {
        return (page | rights & (RW | US) | leaf & D) & 0xFFFFFFFFL;
    }

    private static boolean allowed(int rights, boolean write, boolean user, boolean wp) {
        return !(user && (rights & US) == 0 || write && (rights & RW) == 0 && (user || wp));
    }

    private static long fault(int present, boolean write, boolean user) {
        return -1L - (present | (write ? PF_WRITE : 0) | (user ? PF_USER : 0));
    }

    private int readEntry(int address) {
        return isGuestRam(address) ? memory.readU32(guestRam.base() + address) : 0;
    }

    private int setFlags(int address, int entry, int flags) {
        int updated = entry | flags;
        if (updated != entry && isGuestRam(address)) {
            cpu.writePhysical32(guestRam.base() + address, updated);
        }
        return updated;
    }

    /** The machine address of a guest-physical address in the VM's RAM. */
    int machineAddress(int guestPhysical) {
        return guestRam.base() + guestPhysical;
    }

    boolean isGuestRam(int physical) {
        return guestRam.isGuestRam(physical);
    }
}

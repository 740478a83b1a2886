package hvlab.hw.cpu;

import hvlab.hw.memory.PhysicalMemory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Linear-to-physical translation: 32-bit two-level paging with 4 MiB pages, global pages, CR0.WP, U/S and R/W
 * checks and A/D bits (SDM Vol. 3A, 4.3, 4.6, 4.8), behind a software TLB.
 *
 * <p>The TLB is direct-mapped and holds, per entry, one tag array per kind of access (supervisor read, supervisor
 * write, user read, user write) and the offset from linear to RAM index. A hit costs one compare and one array
 * read. A write tag is filled only when the page is already dirty, so the first write to a clean page walks once to
 * set D, as the processor does. Only plain RAM pages enter the TLB; ROM and MMIO take the slow path every time.
 *
 * <p>In VMX non-root operation with "enable EPT" the TLB holds combined mappings, linear to physical (SDM Vol. 3C,
 * 28.3.1), filled by {@link #translateNested}: the guest's paging structures and the final guest-physical address go
 * through the {@link Ept} walk. The fast paths are the same code either way; only the slow path branches.
 *
 * <p>Cached translations are tagged (28.1, 28.3.1): linear mappings by VPID (0 in VMX root operation and for a guest
 * without "enable VPID"), combined mappings by VPID and EPT root. Each tag has a bank of TLB arrays of its own, a few
 * banks in all; a VM entry or exit switches the current bank ({@link #useContext}) rather than flushing, so the hot
 * path stays one compare and one array read. Without VPID, entries and exits flush VPID 0's mappings (28.3.3.3), as
 * INVVPID and INVEPT flush the banks they name (30.3); MOV to CR3, INVLPG and paging-mode changes act on the current
 * bank only, the current VPID's (28.3.3.1).
 */
final class Mmu {
    private static final VarHandle LE_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE_SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private static final int TLB_BITS = 10;
    private static final int TLB_SIZE = 1 << TLB_BITS;
    private static final int TLB_MASK = TLB_SIZE - 1;
    private static final int INVALID = 1; // never equals a page-aligned tag
    private static final int PAGE_MASK = ~0xFFF;

    // Page-table entry bits (SDM Vol. 3A, 4.3, Tables 4-4 to 4-6).
    static final int PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80, PTE_G = 0x100;
    // #PF error code bits (SDM Vol. 3A, 4.7).
    static final int PF_PRESENT = 1, PF_WRITE = 2, PF_USER = 4;

    private final Cpu cpu;
    private final PhysicalMemory memory;
    private final byte[] ram;

    /** The tag of mappings that are not combined: no EPT root. */
    static final long NO_EPT = -1;
    private static final int BANKS = 4;
    /** The VPID of a bank no tag has used yet: no VPID is negative. */
    private static final int UNUSED = -1;

    /** The TLB arrays of one tag: a VPID, and for combined mappings the EPT root they came through (28.3.1). */
    private static final class Bank {
        final int[] supervisorRead = new int[TLB_SIZE];
        final int[] supervisorWrite = new int[TLB_SIZE];
        final int[] userRead = new int[TLB_SIZE];
        final int[] userWrite = new int[TLB_SIZE];
        final int[] ramOffset = new int[TLB_SIZE];
        final boolean[] global = new boolean[TLB_SIZE];
        int vpid;
        long eptRoot = NO_EPT;
        /** When this bank was last made current: the least recently used one is reused for a new tag. */
        long lastUse;

        void flush() {
            Arrays.fill(supervisorRead, INVALID);
            Arrays.fill(supervisorWrite, INVALID);
            Arrays.fill(userRead, INVALID);
            Arrays.fill(userWrite, INVALID);
            Arrays.fill(global, false);
        }

        void flushNonGlobal() {
            for (int i = 0; i < TLB_SIZE; i++) {
                if (!global[i]) {
                    supervisorRead[i] = supervisorWrite[i] = userRead[i] = userWrite[i] = INVALID;
                }
            }
        }

        void invalidate(int i) {
            supervisorRead[i] = supervisorWrite[i] = userRead[i] = userWrite[i] = INVALID;
            global[i] = false;
        }
    }

    private final Bank[] banks = new Bank[BANKS];
    private Bank current;
    private long bankSwitches;

    // The current bank's arrays.
    private int[] supervisorRead, supervisorWrite, userRead, userWrite, ramOffset;
    private boolean[] global;

    /** The tag arrays for the current privilege level. */
    private int[] readTags;
    private int[] writeTags;

    /** The instruction fetch window: one linear page inside the CS limit, and its RAM offset. */
    private int fetchPage = INVALID;
    private int fetchOffset;

    /**
     * VMX non-root operation with "virtualize APIC accesses": the APIC-access page (physical), which is never in the
     * TLB, so that each access to it reaches {@link ApicVirtualization}; INVALID otherwise.
     */
    private int apicAccessPage = INVALID;
    /** The page whose translations were last purged from every bank for that; INVALID once one may be cached again. */
    private int apicAccessPagePurged = INVALID;

    /** VMX non-root operation with "enable EPT": guest-physical addresses go through {@link #ept}. */
    private boolean nested;
    private final Ept ept;

    Mmu(Cpu cpu) {
        this.cpu = cpu;
        this.memory = cpu.memory;
        this.ram = memory.ram();
        this.ept = new Ept(cpu, this);
        for (int b = 0; b < BANKS; b++) {
            banks[b] = new Bank();
            banks[b].flush();
            banks[b].vpid = b == 0 ? 0 : UNUSED; // one bank for VMX root operation, the others free
        }
        select(banks[0]);
    }

    /**
     * VM entry with "enable EPT", or VMFUNC EPTP switching: translations go through this EPTP (28.2.1). The caller
     * picks the bank of its tag ({@link #useContext}).
     */
    void useEpt(long eptp) {
        ept.load(eptp);
        nested = true;
    }

    /** Whether guest-physical addresses go through EPT (VMX non-root operation with "enable EPT"). */
    boolean translatesThroughEpt() {
        return nested;
    }

    /** VM exit (or an entry without EPT): guest-physical addresses are physical again. */
    void leaveEpt() {
        nested = false;
    }

    // ---- tags (SDM Vol. 3C, 28.1, 28.3.1) ----

    /**
     * Makes the bank of ({@code vpid}, {@code eptRoot}) current, taking the least recently used bank for a tag none
     * has (its mappings go: a TLB may drop entries at any time). VM entry and exit, VMFUNC EPTP switching.
     */
    void useContext(int vpid, long eptRoot) {
        Bank bank = current;
        if (bank.vpid != vpid || bank.eptRoot != eptRoot) {
            bank = null;
            Bank victim = banks[0];
            for (Bank b : banks) {
                if (b.vpid == vpid && b.eptRoot == eptRoot) {
                    bank = b;
                    break;
                }
                if (b.lastUse < victim.lastUse) {
                    victim = b;
                }
            }
            if (bank == null) {
                bank = victim;
                bank.flush();
                bank.vpid = vpid;
                bank.eptRoot = eptRoot;
            }
        }
        select(bank);
    }

    private void select(Bank bank) {
        current = bank;
        bank.lastUse = ++bankSwitches;
        supervisorRead = bank.supervisorRead;
        supervisorWrite = bank.supervisorWrite;
        userRead = bank.userRead;
        userWrite = bank.userWrite;
        ramOffset = bank.ramOffset;
        global = bank.global;
        fetchPage = INVALID;
        privilegeChanged();
    }

    // ---- flush rules (SDM Vol. 3A, 4.10.4; Vol. 3C 28.3.3) ----

    /** Every translation of the current tag: a paging-mode change, or one made for the current VPID. */
    void flushAll() {
        current.flush();
        fetchPage = INVALID;
        cpu.counters.tlbFlushes++;
    }

    /** Every translation of every tag: RESET, a restored state, the platform changing what addresses mean. */
    void flushEverything() {
        for (Bank bank : banks) {
            bank.flush();
        }
        fetchPage = INVALID;
        cpu.counters.tlbFlushes++;
    }

    /** MOV to CR3: global translations survive when CR4.PGE is set. */
    void flushNonGlobal() {
        if ((cpu.cr4 & Cpu.CR4_PGE) == 0) {
            flushAll();
            return;
        }
        current.flushNonGlobal();
        fetchPage = INVALID;
        cpu.counters.tlbFlushes++;
    }

    /** INVLPG: drops the translation of one page, global or not. */
    void invalidatePage(int linear) {
        current.invalidate((linear >>> 12) & TLB_MASK);
        fetchPage = INVALID;
        cpu.counters.tlbPageInvalidations++;
    }

    /**
     * INVVPID (SDM Vol. 3C 30.3, 28.3.3.3): type 0 one page of {@code vpid}, 1 all of {@code vpid}'s mappings, 2 all
     * mappings of every VPID but 0, 3 {@code vpid}'s mappings but the global ones. Combined mappings go with the
     * linear ones of their VPID, whatever their EPT root.
     */
    void invalidateVpid(int type, int vpid, int linear) {
        for (Bank bank : banks) {
            boolean named = type == 2 ? bank.vpid > 0 : bank.vpid == vpid;
            if (!named) {
                continue;
            }
            switch (type) {
                case 0 -> bank.invalidate((linear >>> 12) & TLB_MASK);
                case 3 -> bank.flushNonGlobal();
                default -> bank.flush();
            }
        }
        fetchPage = INVALID;
        if (type == 0) {
            cpu.counters.tlbPageInvalidations++;
        } else {
            cpu.counters.tlbFlushes++;
        }
    }

    /** INVEPT (30.3): the combined mappings that came through one EPT root (type 1) or through any (type 2). */
    void invalidateEpt(int type, long eptRoot) {
        for (Bank bank : banks) {
            if (bank.eptRoot != NO_EPT && (type == 2 || bank.eptRoot == eptRoot)) {
                bank.flush();
            }
        }
        fetchPage = INVALID;
        cpu.counters.tlbFlushes++;
    }

    /** VM entry or exit without VPIDs: the linear and combined mappings of VPID 0, whatever their EPT root. */
    void flushVpidZero() {
        invalidateVpid(1, 0, 0);
    }

    /**
     * VM entry with "virtualize APIC accesses" ({@code page} the APIC-access page), or -1 at VM exit. Translations to
     * the page cached before are dropped, so that every access to it is seen (29.4).
     */
    void virtualizeApicAccesses(int page) {
        if (page == -1) {
            apicAccessPage = INVALID;
            return;
        }
        apicAccessPage = page;
        if (apicAccessPagePurged != page) {
            apicAccessPagePurged = page;
            for (Bank bank : banks) {
                int[] offset = bank.ramOffset;
                for (int i = 0; i < TLB_SIZE; i++) {
                    if (mapsPage(bank.supervisorRead[i], offset[i], page) || mapsPage(bank.userRead[i], offset[i], page)
                            || mapsPage(bank.supervisorWrite[i], offset[i], page)
                            || mapsPage(bank.userWrite[i], offset[i], page)) {
                        bank.invalidate(i);
                    }
                }
            }
        }
        fetchPage = INVALID;
    }

    private static boolean mapsPage(int tag, int ramOffset, int page) {
        return tag != INVALID && tag + ramOffset == page;
    }

    void privilegeChanged() {
        boolean user = cpu.cpl == 3;
        readTags = user ? userRead : supervisorRead;
        writeTags = user ? userWrite : supervisorWrite;
        fetchPage = INVALID;
    }

    void invalidateFetch() {
        fetchPage = INVALID;
    }

    /** A page now holds compiled code: drop every write translation to it, so each write is seen. */
    void protectCodePage(int physicalPage) {
        for (Bank bank : banks) {
            int[] supervisor = bank.supervisorWrite, user = bank.userWrite, offset = bank.ramOffset;
            for (int i = 0; i < TLB_SIZE; i++) {
                if (supervisor[i] != INVALID && (supervisor[i] + offset[i]) >>> 12 == physicalPage
                        || user[i] != INVALID && (user[i] + offset[i]) >>> 12 == physicalPage) {
                    supervisor[i] = user[i] = INVALID;
                }
            }
        }
    }

    /**
     * The physical address of the instruction at {@code lin} when it lies in the fetch window (a RAM page wholly
     * inside the CS limit), filling the window if needed; -1 otherwise. May raise the fetch's #PF or #GP.
     */
    int codePhysical(int lin, int offset) {
        if ((lin & PAGE_MASK) != fetchPage) {
            fetchSlow(lin, offset);
            if ((lin & PAGE_MASK) != fetchPage) {
                return -1;
            }
        }
        return lin + fetchOffset;
    }

    // ---- data accesses at the current privilege level ----

    int read8(int lin) {
        int i = (lin >>> 12) & TLB_MASK;
        if (readTags[i] == (lin & PAGE_MASK)) {
            return ram[lin + ramOffset[i]] & 0xFF;
        }
        return readSlow(lin, 1, cpu.cpl == 3);
    }

    int read16(int lin) {
        int i = (lin >>> 12) & TLB_MASK;
        if (readTags[i] == (lin & PAGE_MASK) && (lin & 0xFFF) != 0xFFF) {
            return (short) LE_SHORT.get(ram, lin + ramOffset[i]) & 0xFFFF;
        }
        return readSlow(lin, 2, cpu.cpl == 3);
    }

    int read32(int lin) {
        int i = (lin >>> 12) & TLB_MASK;
        if (readTags[i] == (lin & PAGE_MASK) && (lin & 0xFFF) <= 0xFFC) {
            return (int) LE_INT.get(ram, lin + ramOffset[i]);
        }
        return readSlow(lin, 4, cpu.cpl == 3);
    }

    void write8(int lin, int value) {
        int i = (lin >>> 12) & TLB_MASK;
        if (writeTags[i] == (lin & PAGE_MASK)) {
            ram[lin + ramOffset[i]] = (byte) value;
            return;
        }
        writeSlow(lin, 1, value, cpu.cpl == 3);
    }

    void write16(int lin, int value) {
        int i = (lin >>> 12) & TLB_MASK;
        if (writeTags[i] == (lin & PAGE_MASK) && (lin & 0xFFF) != 0xFFF) {
            LE_SHORT.set(ram, lin + ramOffset[i], (short) value);
            return;
        }
        writeSlow(lin, 2, value, cpu.cpl == 3);
    }

    void write32(int lin, int value) {
        int i = (lin >>> 12) & TLB_MASK;
        if (writeTags[i] == (lin & PAGE_MASK) && (lin & 0xFFF) <= 0xFFC) {
            LE_INT.set(ram, lin + ramOffset[i], value);
            return;
        }
        writeSlow(lin, 4, value, cpu.cpl == 3);
    }

    // ---- supervisor-mode accesses to system structures (GDT, LDT, IDT, TSS): SDM 4.6 "implicit supervisor" ----

    int readSystem8(int lin) {
        return readSlow(lin, 1, false);
    }

    int readSystem16(int lin) {
        int i = (lin >>> 12) & TLB_MASK;
        if (supervisorRead[i] == (lin & PAGE_MASK) && (lin & 0xFFF) != 0xFFF) {
            return (short) LE_SHORT.get(ram, lin + ramOffset[i]) & 0xFFFF;
        }
        return readSlow(lin, 2, false);
    }

    int readSystem32(int lin) {
        int i = (lin >>> 12) & TLB_MASK;
        if (supervisorRead[i] == (lin & PAGE_MASK) && (lin & 0xFFF) <= 0xFFC) {
            return (int) LE_INT.get(ram, lin + ramOffset[i]);
        }
        return readSlow(lin, 4, false);
    }

    void writeSystem8(int lin, int value) {
        writeSlow(lin, 1, value, false);
    }

    void writeSystem16(int lin, int value) {
        int i = (lin >>> 12) & TLB_MASK;
        if (supervisorWrite[i] == (lin & PAGE_MASK) && (lin & 0xFFF) != 0xFFF) {
            LE_SHORT.set(ram, lin + ramOffset[i], (short) value);
            return;
        }
        writeSlow(lin, 2, value, false);
    }

    void writeSystem32(int lin, int value) {
        int i = (lin >>> 12) & TLB_MASK;
        if (supervisorWrite[i] == (lin & PAGE_MASK) && (lin & 0xFFF) <= 0xFFC) {
            LE_INT.set(ram, lin + ramOffset[i], value);
            return;
        }
        writeSlow(lin, 4, value, false);
    }

    // ---- instruction fetch ----

    int fetch8(int lin, int offset) {
        if ((lin & PAGE_MASK) == fetchPage) {
            return ram[lin + fetchOffset] & 0xFF;
        }
        return fetchSlow(lin, offset);
    }

    int fetch32(int lin, int offset) {
        if ((lin & PAGE_MASK) == fetchPage) {
            return (int) LE_INT.get(ram, lin + fetchOffset);
        }
        int b0 = fetch8(lin, offset);
        int b1 = fetch8(lin + 1, offset + 1);
        int b2 = fetch8(lin + 2, offset + 2);
        return b0 | b1 << 8 | b2 << 16 | fetch8(lin + 3, offset + 3) << 24;
    }

    private int fetchSlow(int lin, int offset) {
        long o = offset & 0xFFFFFFFFL;
        if (o < cpu.segLow[Cpu.CS] || o > cpu.segHigh[Cpu.CS]) {
            throw cpu.gp(0);
        }
        if (nested) {
            return fetchNested(lin);
        }
        int i = (lin >>> 12) & TLB_MASK;
        int page = lin & PAGE_MASK;
        int physical = readTags[i] == page ? lin + ramOffset[i] : translate(lin, false, cpu.cpl == 3);
        if ((physical & PAGE_MASK) == apicAccessPage) {
            throw cpu.vmx.exit.apicAccesses.fetch(physical);
        }
        long pageStartOffset = (page - cpu.segBase[Cpu.CS]) & 0xFFFFFFFFL;
        if (readTags[i] == page
                && pageStartOffset >= cpu.segLow[Cpu.CS] && pageStartOffset + 0xFFF <= cpu.segHigh[Cpu.CS]) {
            fetchPage = page;
            fetchOffset = ramOffset[i];
        }
        return readPhysical8(physical);
    }

    /**
     * A fetch under EPT: it needs the execute right (28.2.3.2), which a read translation in the TLB does not show,
     * so it walks; the fetch window then opens on an executable RAM page inside the CS limit, readable or not.
     */
    private int fetchNested(int lin) {
        int physical = translateNested(lin, Ept.FETCH, cpu.cpl == 3);
        if ((physical & PAGE_MASK) == apicAccessPage) {
            throw cpu.vmx.exit.apicAccesses.fetch(physical);
        }
        int page = lin & PAGE_MASK;
        long pageStartOffset = (page - cpu.segBase[Cpu.CS]) & 0xFFFFFFFFL;
        if (Integer.compareUnsigned(physical, ram.length) < 0 && memory.isRamPage(physical >>> 12)
                && pageStartOffset >= cpu.segLow[Cpu.CS] && pageStartOffset + 0xFFF <= cpu.segHigh[Cpu.CS]) {
            fetchPage = page;
            fetchOffset = (physical & PAGE_MASK) - page;
        }
        return readPhysical8(physical);
    }

    // ---- slow paths ----

    private int readSlow(int lin, int size, boolean user) {
        if (((lin & 0xFFF) + size) > 0x1000) {
            int value = 0;
            for (int k = 0; k < size; k++) {
                value |= readLinear(translate(lin + k, false, user), 1) << (8 * k);
            }
            return value;
        }
        return readLinear(translate(lin, false, user), size);
    }

    /** A linear read at its translation: the APIC-access page's are virtualized or exit (29.4.2). */
    private int readLinear(int physical, int size) {
        if ((physical & PAGE_MASK) == apicAccessPage) {
            return cpu.vmx.exit.apicAccesses.read(physical, size);
        }
        return switch (size) {
            case 1 -> readPhysical8(physical);
            case 2 -> readPhysical(physical, 2);
            default -> readPhysical(physical, 4);
        };
    }

    private void writeSlow(int lin, int size, int value, boolean user) {
        if (((lin & 0xFFF) + size) > 0x1000) {
            // Both pages are checked before any byte is written: a split store never half-happens.
            int firstPage = translate(lin, true, user);
            int second = lin + size - 1;
            int secondPage = translate(second & PAGE_MASK, true, user);
            if ((firstPage & PAGE_MASK) == apicAccessPage || secondPage == apicAccessPage) {
                // never the TPR's 32-bit write: exits before any byte is written
                cpu.vmx.exit.apicAccesses.write(secondPage == apicAccessPage ? secondPage : firstPage, size, value);
            }
            for (int k = 0; k < size; k++) {
                int a = lin + k;
                int physical = (a & PAGE_MASK) == (lin & PAGE_MASK) ? firstPage + k : secondPage + (a & 0xFFF);
                writeLinear(physical, 1, value >>> (8 * k));
            }
            return;
        }
        writeLinear(translate(lin, true, user), size, value);
    }

    /** A linear write at its translation: the APIC-access page's are virtualized or exit (29.4.3). */
    private void writeLinear(int physical, int size, int value) {
        if ((physical & PAGE_MASK) == apicAccessPage) {
            cpu.vmx.exit.apicAccesses.write(physical, size, value);
            return;
        }
        writePhysical(physical, size, value);
    }

    /** A store by host software to physical memory (not through paging), seen by compiled code like any store. */
    void writeHostPhysical(int physical, int size, int value) {
        writePhysical(physical, size, value);
    }

    private int readPhysical8(int physical) {
        if (Integer.compareUnsigned(physical, ram.length) < 0 && memory.isRamPage(physical >>> 12)) {
            return ram[physical] & 0xFF;
        }
        return deviceRead(physical, 1);
    }

    private int readPhysical(int physical, int size) {
        if (Integer.compareUnsigned(physical, ram.length) < 0 && memory.isRamPage(physical >>> 12)) {
            return size == 2 ? (short) LE_SHORT.get(ram, physical) & 0xFFFF : (int) LE_INT.get(ram, physical);
        }
        return deviceRead(physical, size);
    }

    private int deviceRead(int physical, int size) {
        cpu.syncClock();
        cpu.eventPending = true;
        return switch (size) {
            case 1 -> memory.readU8(physical);
            case 2 -> memory.readU16(physical);
            default -> memory.readU32(physical);
        };
    }

    private void writePhysical(int physical, int size, int value) {
        if (Integer.compareUnsigned(physical, ram.length) < 0 && memory.isRamPage(physical >>> 12)) {
            BlockCache blocks = cpu.blocks;
            if (blocks != null && blocks.isCodePage(physical >>> 12)) {
                blocks.pageWritten(physical >>> 12);
            }
            switch (size) {
                case 1 -> ram[physical] = (byte) value;
                case 2 -> LE_SHORT.set(ram, physical, (short) value);
                default -> LE_INT.set(ram, physical, value);
            }
            return;
        }
        cpu.syncClock();
        cpu.eventPending = true;
        switch (size) {
            case 1 -> memory.writeU8(physical, value);
            case 2 -> memory.writeU16(physical, value);
            default -> memory.writeU32(physical, value);
        }
    }

    /**
     * Translates a linear address for an access, walking the page tables when paging is on (SDM 4.3), raising #PF
     * with the SDM's error code and CR2 on a violation, and filling the TLB for RAM pages.
     */
    int translate(int lin, boolean write, boolean user) {
        if (nested) {
            return translateNested(lin, write ? Ept.WRITE : Ept.READ, user);
        }
        int a20 = memory.a20Mask();
        if ((cpu.cr0 & Cpu.CR0_PG) == 0) {
            int physical = lin & a20;
            fill(lin, physical & PAGE_MASK, true, true, true, true, false);
            return physical;
        }
        cpu.counters.pageWalks++;
        boolean wp = (cpu.cr0 & Cpu.CR0_WP) != 0;
        int pdeAddress = (cpu.cr3 & PAGE_MASK) | (lin >>> 22) << 2;
        int pde = memory.readU32(pdeAddress & a20);
        if ((pde & PTE_P) == 0) {
            throw pageFault(lin, 0, write, user);
        }
        int pageBase;
        int rights; // effective U/S and R/W
        boolean dirty;
        boolean isGlobal;
        if ((pde & PTE_PS) != 0 && (cpu.cr4 & Cpu.CR4_PSE) != 0) {
            rights = pde;
            checkRights(lin, rights, write, user, wp);
            int updated = pde | PTE_A | (write ? PTE_D : 0);
            if (updated != pde) {
                memory.writeU32(pdeAddress & a20, updated);
            }
            pageBase = (pde & 0xFFC00000) | (lin & 0x003FF000);
            dirty = (updated & PTE_D) != 0;
            isGlobal = (pde & PTE_G) != 0;
        } else {
            if ((pde & PTE_A) == 0) {
                pde |= PTE_A; // the directory entry was used to find the table (SDM 4.8), even if the PTE faults
                memory.writeU32(pdeAddress & a20, pde);
            }
            int pteAddress = (pde & PAGE_MASK) | ((lin >>> 12) & 0x3FF) << 2;
            int pte = memory.readU32(pteAddress & a20);
            if ((pte & PTE_P) == 0) {
                throw pageFault(lin, 0, write, user);
            }
            rights = pde & pte;
            checkRights(lin, rights, write, user, wp);
            int updated = pte | PTE_A | (write ? PTE_D : 0);
            if (updated != pte) {
                memory.writeU32(pteAddress & a20, updated);
            }
            pageBase = pte & PAGE_MASK;
            dirty = (updated & PTE_D) != 0;
            isGlobal = (pte & PTE_G) != 0;
        }
        pageBase &= a20;
        boolean userOk = (rights & PTE_US) != 0;
        boolean writable = (rights & PTE_RW) != 0;
        fill(lin, pageBase, true, userOk, dirty && (writable || !wp), dirty && writable && userOk,
                isGlobal && (cpu.cr4 & Cpu.CR4_PGE) != 0);
        return pageBase | (lin & 0xFFF);
    }

    /**
     * Translation in non-root operation with EPT (28.2.3.3): each guest paging-structure entry is read at a
     * guest-physical address that EPT translates, and the A/D updates are writes through EPT (28.2.3.2); the guest's
     * own #PF checks come first, then the final guest-physical address goes through EPT, then the guest's A/D flags
     * are written. With CR0.PG = 0 (an unrestricted guest) the linear address is the guest-physical address. The TLB
     * entry grants only what both the guest's paging and the EPT rights allow.
     */
    private int translateNested(int lin, int access, boolean user) {
        boolean write = access == Ept.WRITE;
        if ((cpu.cr0 & Cpu.CR0_PG) == 0) {
            int physical = ept.translate(lin, access, lin, true);
            fillNested(lin, physical, ept.tlbRights, true, true, true, false);
            return physical;
        }
        cpu.counters.pageWalks++;
        boolean wp = (cpu.cr0 & Cpu.CR0_WP) != 0;
        int tableAccess = ept.pagingStructureAccess();
        int pdeAddress = (cpu.cr3 & PAGE_MASK) | (lin >>> 22) << 2;
        int pde = memory.readU32(ept.translate(pdeAddress, tableAccess, lin, false));
        if ((pde & PTE_P) == 0) {
            throw pageFault(lin, 0, write, user);
        }
        boolean large = (pde & PTE_PS) != 0 && (cpu.cr4 & Cpu.CR4_PSE) != 0;
        int entryAddress = pdeAddress; // the guest entry that maps the page, and its value
        int entry = pde;
        if (!large) {
            if ((pde & PTE_A) == 0) {
                pde |= PTE_A; // as in translate: the directory entry was used even if the PTE faults (SDM 4.8)
                writePhysical(ept.translate(pdeAddress, Ept.WRITE, lin, false), 4, pde);
            }
            entryAddress = (pde & PAGE_MASK) | ((lin >>> 12) & 0x3FF) << 2;
            entry = memory.readU32(ept.translate(entryAddress, tableAccess, lin, false));
            if ((entry & PTE_P) == 0) {
                throw pageFault(lin, 0, write, user);
            }
        }
        int rights = large ? pde : pde & entry;
        checkRights(lin, rights, write, user, wp);
        int guestPage = large ? (pde & 0xFFC00000) | (lin & 0x003FF000) : entry & PAGE_MASK;
        int physical = ept.translate(guestPage | (lin & 0xFFF), access, lin, true);
        int eptRights = ept.tlbRights;
        int updated = entry | PTE_A | (write ? PTE_D : 0);
        if (updated != entry) {
            writePhysical(ept.translate(entryAddress, Ept.WRITE, lin, false), 4, updated);
        }
        boolean userOk = (rights & PTE_US) != 0;
        boolean writable = (rights & PTE_RW) != 0;
        boolean dirty = (updated & PTE_D) != 0;
        fillNested(lin, physical, eptRights, userOk, dirty && (writable || !wp), dirty && writable && userOk,
                (entry & PTE_G) != 0 && (cpu.cr4 & Cpu.CR4_PGE) != 0);
        return physical;
    }

    /**
     * Fills the TLB with what both the guest's paging and the EPT rights of the final translation allow: no read tag
     * without EPT read, no write tag without EPT write (see {@link Ept#tlbRights}).
     */
    private void fillNested(int lin, int physical, int eptRights, boolean userOk, boolean supervisorWritable,
                            boolean userWritable, boolean isGlobal) {
        boolean readable = (eptRights & Ept.R) != 0;
        boolean eptWritable = (eptRights & Ept.W) != 0;
        fill(lin, physical & PAGE_MASK, readable, readable && userOk, supervisorWritable && eptWritable,
                userWritable && eptWritable, isGlobal);
    }

    private void checkRights(int lin, int rights, boolean write, boolean user, boolean wp) {
        if (user && (rights & PTE_US) == 0 || write && (rights & PTE_RW) == 0 && (user || wp)) {
            throw pageFault(lin, PF_PRESENT, write, user);
        }
    }

    private CpuFault pageFault(int lin, int present, boolean write, boolean user) {
        cpu.cr2BeforeFault = cpu.cr2; // a #PF that exits from VMX non-root leaves CR2 alone (SDM 27.1)
        cpu.cr2 = lin;
        return cpu.fault(Exceptions.PF, present | (write ? PF_WRITE : 0) | (user ? PF_USER : 0));
    }

    private void fill(int lin, int pageBase, boolean readable, boolean userOk, boolean supervisorWritable,
                      boolean userWritable, boolean isGlobal) {
        int i = (lin >>> 12) & TLB_MASK;
        int tag = lin & PAGE_MASK;
        if (!memory.isRamPage(pageBase >>> 12) || pageBase == apicAccessPage) {
            current.invalidate(i);
            return;
        }
        if (pageBase == apicAccessPagePurged) {
            apicAccessPagePurged = INVALID; // cached again: the next entry that virtualizes it purges it again
        }
        if (cpu.blocks != null && cpu.blocks.isCodePage(pageBase >>> 12)) {
            supervisorWritable = userWritable = false; // writes to compiled code take the slow path
        }
        ramOffset[i] = pageBase - tag;
        supervisorRead[i] = readable ? tag : INVALID;
        supervisorWrite[i] = supervisorWritable ? tag : INVALID;
        userRead[i] = userOk ? tag : INVALID;
        userWrite[i] = userWritable ? tag : INVALID;
        global[i] = isGlobal;
        if ((fetchPage & TLB_MASK << 12) == (tag & TLB_MASK << 12)) {
            fetchPage = INVALID; // the fetch window may have shared this slot
        }
    }
}

package hvlab.hv.vtx;

import hvlab.hv.vtx.devices.VirtualDevices;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.vmx.VmxCapabilities;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;

import java.util.Arrays;

import static hvlab.hw.cpu.vmx.VmcsField.*;
import static hvlab.hw.cpu.vmx.VmxControls.*;

/**
 * Shadow page tables without EPT (first-generation VT-x; ../shared/reference/vtx-ept.md section 10): the processor
 * walks tables the hypervisor keeps, mapping guest-linear addresses straight to machine frames, while the guest
 * believes its own CR3 is loaded. They are a virtual TLB: they start empty, a #PF exit fills one entry from the
 * guest's tables (setting its accessed and dirty flags as the processor would), and the guest's CR3 loads and
 * INVLPGs drop entries as they would drop a TLB's. Stale entries are possible exactly where a TLB's would be.
 *
 * <p>The guest runs with paging on whatever its CR0 says (VMX needs PG without unrestricted guest): with its paging
 * off the shadow maps guest-physical addresses one to one into the VM's RAM ({@link GuestRam}). The CR0 and CR4
 * masks give the hypervisor PE, NE, WP, PG, PSE, PGE, PAE and VMXE; the read shadows show the guest its own values. The real CR0.WP is always 1: a guest
 * with WP clear gets supervisor-only writable entries for its read-only pages instead.
 */
final class ShadowPaging implements MemoryVirtualization {
    private static final int P = GuestPageWalk.P, RW = GuestPageWalk.RW, US = GuestPageWalk.US,
            PS = GuestPageWalk.PS;
    static final int CR0_MASK = Cpu.CR0_PE | Cpu.CR0_NE | Cpu.CR0_WP | Cpu.CR0_PG;
    static final int CR4_MASK = Cpu.CR4_PSE | Cpu.CR4_PGE | Cpu.CR4_PAE | VmxCapabilities.CR4_FIXED0;

    private final PhysicalMemory memory;
    private final CurrentVmcs vmcs;
    private final VmmLayout layout;
    private final GuestRam ram;
    private final GuestPageWalk walk;
    private final int directory;
    /** Per directory slot, the pool page holding its shadow table, or -1. */
    private final int[] tableOf = new int[1024];
    private int poolUsed;
    private final ControlRegisterShadows shadows;
    private int cr3;
    private int deviceAddress;
    private final Counter fills, reflected, flushes, invalidations;

    ShadowPaging(PhysicalMemory memory, Cpu cpu, CurrentVmcs vmcs, VmmLayout layout, GuestRam ram,
            Counters counters) {
        this.memory = memory;
        this.vmcs = vmcs;
        this.layout = layout;
        this.ram = ram;
        this.walk = new GuestPageWalk(memory, cpu, ram);
        this.directory = layout.at(VmmLayout.SHADOW_DIRECTORY);
        String family = "shadow paging";
        this.fills = counters.counter(family, "#PF: shadow entry filled");
        this.reflected = counters.counter(family, "#PF: the guest's own, injected");
        this.flushes = counters.counter(family, "shadow flushes (CR3 load, paging mode)");
        this.invalidations = counters.counter(family, "INVLPG: shadow entries dropped");
        this.shadows = new ControlRegisterShadows(vmcs, CR0_MASK, CR4_MASK);
        Arrays.fill(tableOf, -1);
    }

    @Override
    public int processorControls() {
        return PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_INVLPG_EXITING;
    }

    @Override
    public int exceptionBitmap() {
        return 1 << 14; // every #PF (mask = match = 0, 25.2)
    }

    @Override
    public void start(int cr0, int cr3, int cr4) {
        for (int slot = 0; slot < 1024; slot++) {
            memory.writeU32(directory + slot * 4, 0);
        }
        shadows.writeMasks();
        vmcs.write(GUEST_CR3, directory);
        this.cr3 = cr3;
        loadCr0(cr0);
        loadCr4(cr4);
    }

    @Override
    public ControlRegisterShadows controlRegisters() {
        return shadows;
    }

    @Override
    public int guestCr3(int real) {
        return cr3;
    }

    @Override
    public void writeControlRegister(int cr, int value) {
        switch (cr) {
            case 0 -> {
                if ((value & Cpu.CR0_PE) == 0) {
                    throw new UnsupportedGuestOperation("the guest leaves protected mode (real mode needs"
                            + " unrestricted guest, hence EPT)");
                }
                int changed = shadows.cr0() ^ value;
                loadCr0(value);
                if ((changed & (Cpu.CR0_PG | Cpu.CR0_WP)) != 0) {
                    flush();
                }
            }
            case 3 -> {
                cr3 = value;
                flush();
            }
            case 4 -> {
                int changed = shadows.cr4() ^ value;
                loadCr4(value);
                if ((changed & (Cpu.CR4_PSE | Cpu.CR4_PGE)) != 0) {
                    flush();
                }
            }
            default -> throw new IllegalArgumentException("CR" + cr);
        }
    }

    private void loadCr0(int value) {
        shadows.loadCr0(value, value | VmxCapabilities.CR0_FIXED0 | Cpu.CR0_WP);
    }

    private void loadCr4(int value) {
        shadows.loadCr4(value, value & ~CR4_MASK | VmxCapabilities.CR4_FIXED0); // the shadow maps 4 KiB pages
    }

    @Override
    public int pageFault(int linear, int errorCode) {
        boolean write = (errorCode & GuestPageWalk.PF_WRITE) != 0, user = (errorCode & GuestPageWalk.PF_USER) != 0;
        long t = walk.translate(linear, write, user, shadows.cr0(), cr3, shadows.cr4());
        if (t < 0) {
            reflected.increment();
            return (int) (-1 - t);
        }
        int frame = (int) t & ~0xFFF, rights = (int) t;
        if (VirtualDevices.isDevicePage(frame)) {
            deviceAddress = frame | linear & 0xFFF; // never in the shadow: each access is emulated
            return DEVICE_ACCESS;
        }
        boolean guestWritable = (rights & RW) != 0, dirty = (rights & GuestPageWalk.D) != 0;
        boolean writable, userOk;
        if (user) {
            writable = dirty && guestWritable;
            userOk = true;
        } else {
            boolean wp = (shadows.cr0() & Cpu.CR0_WP) != 0;
            writable = dirty && (guestWritable || !wp);
            userOk = (rights & US) != 0 && (guestWritable || !writable); // WP=0 writes keep ring 3 out
        }
        setEntry(linear, ram.machineAddress(frame) | P | (writable ? RW : 0) | (userOk ? US : 0));
        fills.increment();
        return RESOLVED;
    }

    @Override
    public int deviceAddress() {
        return deviceAddress;
    }

    private void setEntry(int linear, int entry) {
        int slot = linear >>> 22;
        if (tableOf[slot] < 0) {
            if (poolUsed == layout.shadowPoolPages()) {
                flush();
            }
            tableOf[slot] = poolUsed++;
            int table = table(slot);
            for (int k = 0; k < 1024; k++) {
                memory.writeU32(table + k * 4, 0);
            }
            memory.writeU32(directory + slot * 4, table | P | RW | US);
        }
        memory.writeU32(table(slot) + ((linear >>> 12) & 0x3FF) * 4, entry);
    }

    private int table(int slot) {
        return layout.at(VmmLayout.SHADOW_POOL) + (tableOf[slot] << 12);
    }

    /** INVLPG: the entry goes; all of a guest large page's entries go, as its one TLB entry would (SDM 4.10.4.1). */
    @Override
    public void invalidatePage(int linear) {
        int slot = linear >>> 22;
        if (tableOf[slot] < 0) {
            return;
        }
        invalidations.increment();
        int table = table(slot);
        boolean paging = (shadows.cr0() & Cpu.CR0_PG) != 0;
        int pde = paging ? walk.directoryEntry(linear, cr3) : 0;
        if (paging && (pde & (P | PS)) == (P | PS) && (shadows.cr4() & Cpu.CR4_PSE) != 0) {
            for (int k = 0; k < 1024; k++) {
                memory.writeU32(table + k * 4, 0);
            }
        } else {
            memory.writeU32(table + ((linear >>> 12) & 0x3FF) * 4, 0);
        }
    }

    /** Every entry goes: a CR3 load or a change of paging mode. */
    void flush() {
        for (int slot = 0; slot < tableOf.length; slot++) {
            if (tableOf[slot] >= 0) {
                memory.writeU32(directory + slot * 4, 0);
                tableOf[slot] = -1;
            }
        }
        poolUsed = 0;
        flushes.increment();
    }
}

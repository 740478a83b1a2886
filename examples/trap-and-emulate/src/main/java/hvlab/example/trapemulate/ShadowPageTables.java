package hvlab.example.trapemulate;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.memory.PhysicalMemory;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.Counters;

import java.util.Arrays;
import java.util.BitSet;

/**
 * The page tables the real CPU walks while the guest runs, kept by the monitor as a virtual TLB: they start empty,
 * a page fault fills one entry from the guest's own tables, and the guest's MOV to CR3 and INVLPG drop entries, as
 * they would drop a TLB's. Entries map guest RAM only; frames the monitor traces are mapped read-only; the top 4 MiB
 * is the monitor's own table.
 */
final class ShadowPageTables {
    private static final int P = 1, RW = 2, US = 4;
    /** Where a guest mapping of the monitor's RAM goes instead: physical space nothing decodes. */
    private static final int NOTHING_THERE = 0xFD000000;

    private final PhysicalMemory memory;
    private final Cpu cpu;
    private final MonitorLayout layout;
    private final VirtualCpu vcpu;
    private final GuestMemory guest;
    private final int directory;
    private final int[] tableOf = new int[1023];
    private final BitSet tracedFrames = new BitSet();
    private int poolUsed;
    private int openedLinear = -1;
    private final Counter fills, flushes;

    ShadowPageTables(PhysicalMemory memory, Cpu cpu, MonitorLayout layout, VirtualCpu vcpu, GuestMemory guest,
            Counters counters) {
        this.memory = memory;
        this.cpu = cpu;
        this.layout = layout;
        this.vcpu = vcpu;
        this.guest = guest;
        this.directory = layout.physical(MonitorLayout.SHADOW_DIRECTORY);
        this.fills = counters.counter(Counters.TLB, "shadow entries filled");
        this.flushes = counters.counter(Counters.TLB, "shadow flushes");
        Arrays.fill(tableOf, -1);
    }

    /** The directory with only the monitor's region mapped; call before paging is turned on. */
    void build() {
        int table = layout.physical(MonitorLayout.MONITOR_TABLE);
        for (int page = 0; page < 1024; page++) {
            memory.writeU32(table + page * 4, layout.physical(page << 12) | P | RW);
            memory.writeU32(directory + page * 4, 0);
        }
        memory.writeU32(directory + 1023 * 4, table | P | RW);
    }

    int directoryPhysical() {
        return directory;
    }

    /**
     * A real page fault of the guest: fills the entry from the guest's tables, or throws the #PF the guest's own
     * tables give. Returns false when the access is a write to a traced frame, for the caller to step it.
     */
    boolean fill(int linear, boolean write, boolean user) throws GuestFault {
        GuestMemory.Translation t = guest.translate(linear, write, user);
        int frame = t.physicalPage();
        if (write && isTraced(frame)) {
            return false;
        }
        boolean writable = write ? t.writable() || !user && !vcpu.writeProtect() : t.writable() && t.dirty();
        boolean userOk = t.user() && !(writable && !t.writable()); // a WP=0 supervisor write keeps ring 3 out
        if (isTraced(frame)) {
            writable = false;
        }
        setEntry(linear, machineFrame(frame) | P | (writable ? RW : 0) | (userOk ? US : 0));
        fills.increment();
        return true;
    }

    /** Makes a traced frame's entry writable for one guest instruction, which the monitor then single-steps. */
    void openForOneWrite(int linear, boolean user) throws GuestFault {
        GuestMemory.Translation t = guest.translate(linear, true, user);
        setEntry(linear, machineFrame(t.physicalPage()) | P | RW | (t.user() ? US : 0));
        openedLinear = linear;
    }

    private void setEntry(int linear, int entry) {
        int index = linear >>> 22;
        if (tableOf[index] < 0) {
            if (poolUsed == layout.poolPages()) {
                flush();
            }
            int table = layout.physical(MonitorLayout.TABLE_POOL + (poolUsed << 12));
            tableOf[index] = poolUsed++;
            for (int k = 0; k < 1024; k++) {
                memory.writeU32(table + k * 4, 0);
            }
            memory.writeU32(directory + index * 4, table | P | RW | US);
        }
        int table = layout.physical(MonitorLayout.TABLE_POOL + (tableOf[index] << 12));
        memory.writeU32(table + ((linear >>> 12) & 0x3FF) * 4, entry);
        cpu.invalidatePage(linear);
    }

    private int machineFrame(int guestFrame) {
        return guest.isMonitor(guestFrame) ? NOTHING_THERE + (guestFrame - layout.guestRamBytes()) : guestFrame;
    }

    /** The guest's INVLPG: the entry goes, or the whole table when the guest maps a large page there. */
    void invalidate(int linear) {
        int index = linear >>> 22;
        if (index >= tableOf.length || tableOf[index] < 0) {
            return;
        }
        int table = layout.physical(MonitorLayout.TABLE_POOL + (tableOf[index] << 12));
        memory.writeU32(table + ((linear >>> 12) & 0x3FF) * 4, 0);
        cpu.invalidatePage(linear);
    }

    /** The guest's MOV to CR3 (or a change of paging mode): every entry goes. */
    void flush() {
        for (int index = 0; index < tableOf.length; index++) {
            if (tableOf[index] >= 0) {
                memory.writeU32(directory + index * 4, 0);
                tableOf[index] = -1;
            }
        }
        poolUsed = 0;
        cpu.writeControlRegister(3, directory);
        flushes.increment();
    }

    /** Marks a frame traced; entries already filled keep their rights until the next {@link #flush()}. */
    void trace(int guestFrame) {
        tracedFrames.set(guestFrame >>> 12);
    }

    void untraceAll() {
        tracedFrames.clear();
    }

    boolean isTraced(int guestFrame) {
        return tracedFrames.get(guestFrame >>> 12);
    }

    /** After a stepped write: the traced frame is read-only again. */
    void closeOpenedFrame() {
        if (openedLinear != -1) {
            invalidate(openedLinear);
            openedLinear = -1;
        }
    }
}

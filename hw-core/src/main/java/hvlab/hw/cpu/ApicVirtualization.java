package hvlab.hw.cpu;

import hvlab.hw.cpu.vmx.ExitReason;

/**
 * Virtualized accesses to the local APIC in VMX non-root operation (SDM Vol. 3C, 29.1, 29.4; "FlexPriority"): with
 * "virtualize APIC accesses" every guest access whose physical address falls on the APIC-access page exits (APIC
 * access, reason 44, fault-like), except, with "use TPR shadow", the accesses to the task-priority register, which go
 * to the virtual-APIC page without an exit. A TPR write that leaves VTPR[7:4] below the TPR threshold is followed by a
 * trap-like "TPR below threshold" exit (reason 43): the VMM then delivers what the guest no longer masks.
 *
 * <p>The model keeps the APIC-access page out of the TLB, so only the MMU's slow path ever sees it: a guest that does
 * not touch its APIC pays nothing.
 */
final class ApicVirtualization {
    /** Exit-qualification access types (27.2.1, Table 27-6). */
    static final int LINEAR_READ = 0, LINEAR_WRITE = 1, LINEAR_FETCH = 2;
    /** VTPR: the task-priority register's offset on the APIC-access and virtual-APIC pages (29.1.1). */
    static final int TPR = 0x80;

    private final Cpu c;
    /** The virtual-APIC page (with "use TPR shadow"), physical; -1 without. */
    private int virtualApicPage = -1;
    /** Bits 3:0 of the TPR-threshold field (24.6.8). */
    private int threshold;
    /** A TPR-below-threshold VM exit waits for the instruction boundary (26.7.7 after entry, 29.1.2 after a write). */
    boolean exitPending;

    ApicVirtualization(Cpu cpu) {
        this.c = cpu;
    }

    /**
     * VM entry: the APIC-access page (physical; -1 when "virtualize APIC accesses" is 0), the virtual-APIC page (-1
     * when "use TPR shadow" is 0) and the TPR threshold. With both controls a VTPR already below the threshold exits at
     * once after the entry (26.7.7).
     */
    void enter(int apicAccessPage, int virtualApicPage, int tprThreshold) {
        this.virtualApicPage = virtualApicPage;
        this.threshold = tprThreshold & 0xF;
        c.mmu.virtualizeApicAccesses(apicAccessPage);
        exitPending = apicAccessPage != -1 && virtualApicPage != -1 && belowThreshold();
    }

    /** VM exit: physical addresses mean the machine's memory again. */
    void leave() {
        c.mmu.virtualizeApicAccesses(-1);
        exitPending = false;
    }

    private boolean belowThreshold() {
        return (c.memory.readU8(virtualApicPage + TPR) >>> 4) < threshold;
    }

    /** A linear read on the APIC-access page: VTPR with "use TPR shadow" (29.4.2), else an APIC-access exit. */
    int read(int physical, int size) {
        int offset = physical & 0xFFF;
        if (virtualApicPage != -1 && offset >= TPR && offset + size <= TPR + 4) {
            int at = virtualApicPage + offset;
            return switch (size) {
                case 1 -> c.memory.readU8(at);
                case 2 -> c.memory.readU16(at);
                default -> c.memory.readU32(at);
            };
        }
        throw accessExit(offset, LINEAR_READ);
    }

    /**
     * A linear write on the APIC-access page: a 32-bit write of the TPR with "use TPR shadow" is virtualized (29.4.3.1):
     * it goes to VTPR with bytes 81H-83H cleared, then TPR virtualization may exit (29.1.2). Anything else exits.
     */
    void write(int physical, int size, int value) {
        int offset = physical & 0xFFF;
        if (virtualApicPage == -1 || offset != TPR || size != 4) {
            throw accessExit(offset, LINEAR_WRITE);
        }
        boolean exits = (value >>> 4 & 0xF) < threshold;
        if (exits && !c.interpretAlone && !c.vmx.exit.deliveringEvent()) {
            // The exit is trap-like, right after this instruction; a compiled block cannot stop there, so the
            // instruction is rolled back and run again by the interpreter alone. (A write made by an event's
            // delivery completes, and the exit follows the delivery.)
            throw c.fault(Vmx.INTERPRET_ALONE, 0);
        }
        c.memory.writeU32(virtualApicPage + TPR, value & 0xFF);
        if (exits) {
            exitPending = true;
            c.eventPending = true;
        }
    }

    /** An instruction fetch from the APIC-access page always exits (29.4.1). */
    CpuFault fetch(int physical) {
        return accessExit(physical & 0xFFF, LINEAR_FETCH);
    }

    private CpuFault accessExit(int offset, int accessType) {
        return c.vmx.exit.faultLike(ExitReason.APIC_ACCESS, offset | accessType << 12);
    }
}

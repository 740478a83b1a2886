package hvlab.hw.cpu;

/**
 * Host software at a hypervisor entry address (../shared/design/architecture.md): when the CPU, at CPL 0, arrives at
 * an address in the hypervisor's entry page — typically through an IDT gate, after the hardware has done the whole
 * event (privilege check, TSS stack switch, frame, error code, CR2) — the machine calls this instead of fetching
 * instructions there. The handler works as ring-0 code would (registers, supervisor memory accesses, privileged
 * operations) and must leave the entry page the way hardware allows, e.g. {@link Cpu#returnFromInterrupt()}.
 */
@FunctionalInterface
public interface HypervisorEntry {
    /** @param offset the entry address's offset in the entry page (for example vector * 16) */
    void enter(Cpu cpu, int offset);
}

package hvlab.hw.cpu;

import java.util.List;

/**
 * The architectural state of one CPU as plain records, shaped like KVM's {@code kvm_regs} and {@code kvm_sregs}:
 * the one exchange schema for snapshots, tests and hypervisors.
 */
public record CpuState(GeneralRegisters general, List<SegmentRegister> segments, SystemRegisters system,
                       long retiredInstructions) {

    public record GeneralRegisters(int eax, int ecx, int edx, int ebx, int esp, int ebp, int esi, int edi,
                                   int eip, int eflags) { }

    /** A segment register with its hidden descriptor cache; attributes are descriptor bits 8-23 (type..G). */
    public record SegmentRegister(int selector, int base, int limit, int attributes) { }

    public record TableRegister(int base, int limit) { }

    public record SystemRegisters(int cr0, int cr2, int cr3, int cr4, TableRegister gdt, TableRegister idt,
                                  SegmentRegister ldt, SegmentRegister tr, int cpl, boolean halted) { }
}

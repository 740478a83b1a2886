package hvlab.hw.cpu;

import java.util.List;

/**
 * The architectural state of one CPU as plain records, shaped like KVM's {@code kvm_regs}, {@code kvm_sregs} and
 * {@code kvm_fpu}: the one exchange schema for snapshots, tests and hypervisors.
 */
public record CpuState(GeneralRegisters general, List<SegmentRegister> segments, SystemRegisters system,
                       FpuState fpu, long retiredInstructions) {

    public record GeneralRegisters(int eax, int ecx, int edx, int ebx, int esp, int ebp, int esi, int edi,
                                   int eip, int eflags) { }

    /** A segment register with its hidden descriptor cache; attributes are descriptor bits 8-23 (type..G). */
    public record SegmentRegister(int selector, int base, int limit, int attributes) { }

    public record TableRegister(int base, int limit) { }

    public record SystemRegisters(int cr0, int cr2, int cr3, int cr4, TableRegister gdt, TableRegister idt,
                                  SegmentRegister ldt, SegmentRegister tr, int cpl, boolean halted) { }

    /** An x87 data register as its raw 80 bits: sign and biased exponent (16 bits), significand with J bit 63. */
    public record FloatRegister(int signExponent, long significand) { }

    /**
     * The x87 FPU (SDM Vol. 1, 8.1): control, status (with TOP) and tag words as FSTENV stores them, the last
     * instruction's pointer, selector and opcode, its operand's pointer and selector, the physical registers R0-R7
     * (ST(i) is R((TOP + i) mod 8)), and MXCSR. On restore only empty or not counts in the tag word.
     */
    public record FpuState(int controlWord, int statusWord, int tagWord, int instructionPointer,
                           int instructionSelector, int opcode, int operandPointer, int operandSelector,
                           List<FloatRegister> registers, int mxcsr) {
        /** After RESET (SDM Vol. 3A, Table 9-1): control 0040H, status 0, tags 5555H, every register +0.0. */
        public static final FpuState RESET = new FpuState(X87.RESET_CONTROL, 0, 0x5555, 0, 0, 0, 0, 0,
                java.util.Collections.nCopies(8, new FloatRegister(0, 0)), X87.MXCSR_DEFAULT);
    }
}

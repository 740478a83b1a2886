package hvlab.hw.cpu;

/**
 * What CPUID reports (SDM Vol. 2A, CPUID). The model is a P6-class IA-32 processor with the x87 FPU and FXSAVE,
 * without PAE, MMX or SSE: it reports only what the model implements.
 */
final class CpuIdentity {
    /** EDX after RESET holds the family/model/stepping signature (SDM Vol. 3A, 9.1.4). */
    static final int RESET_EDX = 0x00000633;

    static final int MAX_BASIC_LEAF = 1;
    static final int MAX_EXTENDED_LEAF = 0x80000000;

    // CPUID.1:EDX feature bits.
    static final int FEATURE_FPU = 1, FEATURE_FXSR = 1 << 24, FEATURE_PSE = 1 << 3, FEATURE_TSC = 1 << 4, FEATURE_MSR = 1 << 5, FEATURE_CX8 = 1 << 8,
            FEATURE_APIC = 1 << 9, FEATURE_SEP = 1 << 11, FEATURE_PGE = 1 << 13, FEATURE_CMOV = 1 << 15,
            FEATURE_VME = 1 << 1, FEATURE_DE = 1 << 2;

    static final int FEATURES_EDX = FEATURE_FPU | FEATURE_FXSR | FEATURE_VME | FEATURE_PSE | FEATURE_TSC | FEATURE_MSR | FEATURE_CX8 | FEATURE_APIC
            | FEATURE_SEP | FEATURE_PGE | FEATURE_CMOV;

    private CpuIdentity() {
    }

    /** CPUID.1:ECX.VMX (SDM Vol. 3C, 23.6): reported only by a machine built with VMX. */
    static final int FEATURE_VMX = 1 << 5;

    /** Fills EAX, EBX, ECX, EDX for the leaf in EAX; {@code featuresEcx} is what leaf 1 reports in ECX. */
    static void cpuid(int[] reg, int featuresEcx) {
        int leaf = reg[Cpu.EAX];
        if (Integer.compareUnsigned(leaf, MAX_EXTENDED_LEAF) >= 0) {
            set(reg, leaf == MAX_EXTENDED_LEAF ? MAX_EXTENDED_LEAF : 0, 0, 0, 0);
            return;
        }
        if (leaf > MAX_BASIC_LEAF) {
            leaf = MAX_BASIC_LEAF; // Intel answers leaves past the maximum with the highest basic leaf
        }
        if (leaf == 0) {
            set(reg, MAX_BASIC_LEAF, 0x756E6547, 0x6C65746E, 0x49656E69); // "GenuineIntel"
        } else {
            set(reg, RESET_EDX, 0, featuresEcx, FEATURES_EDX);
        }
    }

    private static void set(int[] reg, int eax, int ebx, int ecx, int edx) {
        reg[Cpu.EAX] = eax;
        reg[Cpu.EBX] = ebx;
        reg[Cpu.ECX] = ecx;
        reg[Cpu.EDX] = edx;
    }
}

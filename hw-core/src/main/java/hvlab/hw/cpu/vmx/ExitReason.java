package hvlab.hw.cpu.vmx;

/**
 * Basic exit reasons (SDM Vol. 3C, Appendix C): bits 15:0 of the exit-reason field. Bit 31 of the field marks a
 * VM-entry failure ({@link #ENTRY_FAILURE}).
 */
public final class ExitReason {
    public static final int EXCEPTION_OR_NMI = 0, EXTERNAL_INTERRUPT = 1, TRIPLE_FAULT = 2, INIT_SIGNAL = 3,
            STARTUP_IPI = 4, IO_SMI = 5, OTHER_SMI = 6, INTERRUPT_WINDOW = 7, NMI_WINDOW = 8, TASK_SWITCH = 9,
            CPUID = 10, GETSEC = 11, HLT = 12, INVD = 13, INVLPG = 14, RDPMC = 15, RDTSC = 16, RSM = 17,
            VMCALL = 18, VMCLEAR = 19, VMLAUNCH = 20, VMPTRLD = 21, VMPTRST = 22, VMREAD = 23, VMRESUME = 24,
            VMWRITE = 25, VMXOFF = 26, VMXON = 27, CONTROL_REGISTER_ACCESS = 28, MOV_DR = 29,
            IO_INSTRUCTION = 30, RDMSR = 31, WRMSR = 32, INVALID_GUEST_STATE = 33, MSR_LOADING = 34, MWAIT = 36,
            MONITOR_TRAP_FLAG = 37, MONITOR = 39, PAUSE = 40, MACHINE_CHECK = 41, TPR_BELOW_THRESHOLD = 43,
            APIC_ACCESS = 44, VIRTUALIZED_EOI = 45, GDTR_IDTR_ACCESS = 46, LDTR_TR_ACCESS = 47,
            EPT_VIOLATION = 48, EPT_MISCONFIGURATION = 49, INVEPT = 50, RDTSCP = 51, PREEMPTION_TIMER = 52,
            INVVPID = 53, WBINVD = 54, XSETBV = 55, APIC_WRITE = 56, RDRAND = 57, INVPCID = 58, VMFUNC = 59,
            ENCLS = 60, RDSEED = 61, PML_FULL = 62, XSAVES = 63, XRSTORS = 64;

    /** Bit 31 of the exit-reason field: the VM entry failed (26.8). */
    public static final int ENTRY_FAILURE = 0x80000000;

    private static final String[] NAMES = {"exception or NMI", "external interrupt", "triple fault", "INIT signal",
        "start-up IPI", "I/O SMI", "other SMI", "interrupt window", "NMI window", "task switch", "CPUID", "GETSEC",
        "HLT", "INVD", "INVLPG", "RDPMC", "RDTSC", "RSM", "VMCALL", "VMCLEAR", "VMLAUNCH", "VMPTRLD", "VMPTRST",
        "VMREAD", "VMRESUME", "VMWRITE", "VMXOFF", "VMXON", "control-register access", "MOV DR",
        "I/O instruction", "RDMSR", "WRMSR", "VM-entry failure: invalid guest state",
        "VM-entry failure: MSR loading", "reserved 35", "MWAIT", "monitor trap flag", "reserved 38", "MONITOR",
        "PAUSE", "VM-entry failure: machine check", "reserved 42", "TPR below threshold", "APIC access",
        "virtualized EOI", "GDTR/IDTR access", "LDTR/TR access", "EPT violation", "EPT misconfiguration",
        "INVEPT", "RDTSCP", "VMX-preemption timer expired", "INVVPID", "WBINVD", "XSETBV", "APIC write",
        "RDRAND", "INVPCID", "VMFUNC", "ENCLS", "RDSEED", "page-modification log full", "XSAVES", "XRSTORS"};

    private ExitReason() {
    }

    /** The basic reason's name, for counters and traces. */
    public static String name(int exitReason) {
        int basic = exitReason & 0xFFFF;
        return basic < NAMES.length ? NAMES[basic] : "exit reason " + basic;
    }
}

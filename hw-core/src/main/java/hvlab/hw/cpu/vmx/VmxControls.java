package hvlab.hw.cpu.vmx;

/** Bits of the VMX control fields (SDM Vol. 3C, 24.6-24.8, Tables 24-5 to 24-13). */
public final class VmxControls {
    // Pin-based VM-execution controls (4000H, Table 24-5).
    public static final int PIN_EXTERNAL_INTERRUPT_EXITING = 1, PIN_NMI_EXITING = 1 << 3,
            PIN_VIRTUAL_NMIS = 1 << 5, PIN_PREEMPTION_TIMER = 1 << 6, PIN_POSTED_INTERRUPTS = 1 << 7;

    // Primary processor-based VM-execution controls (4002H, Table 24-6).
    public static final int PROC_INTERRUPT_WINDOW_EXITING = 1 << 2, PROC_TSC_OFFSETTING = 1 << 3,
            PROC_HLT_EXITING = 1 << 7, PROC_INVLPG_EXITING = 1 << 9, PROC_MWAIT_EXITING = 1 << 10,
            PROC_RDPMC_EXITING = 1 << 11, PROC_RDTSC_EXITING = 1 << 12, PROC_CR3_LOAD_EXITING = 1 << 15,
            PROC_CR3_STORE_EXITING = 1 << 16, PROC_CR8_LOAD_EXITING = 1 << 19, PROC_CR8_STORE_EXITING = 1 << 20,
            PROC_TPR_SHADOW = 1 << 21, PROC_NMI_WINDOW_EXITING = 1 << 22, PROC_MOV_DR_EXITING = 1 << 23,
            PROC_UNCONDITIONAL_IO_EXITING = 1 << 24, PROC_IO_BITMAPS = 1 << 25, PROC_MONITOR_TRAP_FLAG = 1 << 27,
            PROC_MSR_BITMAPS = 1 << 28, PROC_MONITOR_EXITING = 1 << 29, PROC_PAUSE_EXITING = 1 << 30,
            PROC_SECONDARY_CONTROLS = 1 << 31;

    // Secondary processor-based VM-execution controls (401EH, Table 24-7).
    public static final int PROC2_VIRTUALIZE_APIC_ACCESSES = 1, PROC2_EPT = 1 << 1,
            PROC2_DESCRIPTOR_TABLE_EXITING = 1 << 2, PROC2_RDTSCP = 1 << 3, PROC2_VPID = 1 << 5,
            PROC2_WBINVD_EXITING = 1 << 6, PROC2_UNRESTRICTED_GUEST = 1 << 7, PROC2_VM_FUNCTIONS = 1 << 13,
            PROC2_VMCS_SHADOWING = 1 << 14;

    // VM-exit controls (400CH, Table 24-11).
    public static final int EXIT_SAVE_DEBUG_CONTROLS = 1 << 2, EXIT_HOST_ADDRESS_SPACE_SIZE = 1 << 9,
            EXIT_LOAD_PERF_GLOBAL_CTRL = 1 << 12, EXIT_ACKNOWLEDGE_INTERRUPT = 1 << 15, EXIT_SAVE_PAT = 1 << 18,
            EXIT_LOAD_PAT = 1 << 19, EXIT_SAVE_EFER = 1 << 20, EXIT_LOAD_EFER = 1 << 21,
            EXIT_SAVE_PREEMPTION_TIMER = 1 << 22;

    // VM-entry controls (4012H, Table 24-12).
    public static final int ENTRY_LOAD_DEBUG_CONTROLS = 1 << 2, ENTRY_IA32E_MODE_GUEST = 1 << 9,
            ENTRY_TO_SMM = 1 << 10, ENTRY_DEACTIVATE_DUAL_MONITOR = 1 << 11, ENTRY_LOAD_PERF_GLOBAL_CTRL = 1 << 13,
            ENTRY_LOAD_PAT = 1 << 14, ENTRY_LOAD_EFER = 1 << 15;

    // VM-function controls (2018H, Table 24-9).
    public static final long VMFUNC_EPTP_SWITCHING = 1;

    private VmxControls() {
    }
}

package hvlab.hw.cpu;

import hvlab.hw.cpu.vmx.ExitReason;
import hvlab.hw.cpu.vmx.VmInstructionError;
import hvlab.hw.cpu.vmx.Vmcs;
import hvlab.hw.cpu.vmx.VmcsField;
import hvlab.hw.cpu.vmx.VmxCapabilities;
import hvlab.hw.cpu.vmx.VmxControls;

import static hvlab.hw.cpu.Cpu.EAX;
import static hvlab.hw.cpu.Cpu.ECX;

/**
 * Intel VT-x (SDM Vol. 3C, chapters 23-30) in this processor: VMX operation, the current VMCS, and the 13 VMX
 * instructions. VM entries are in {@link VmEntry}, VM exits and what causes them in non-root operation in
 * {@link VmExit}.
 *
 * <p>It is also how hypervisor software written in Java drives the processor (../shared/design/architecture.md): a
 * plugin is VMX-root software at CPL 0, and each public method here does exactly what the instruction of the same
 * name does when ring-0 code executes it in VMX root operation, flags included: VMsucceed, VMfailInvalid or
 * VMfailValid(n) in EFLAGS, and as a return value ({@link #SUCCEED}, {@link #FAIL_INVALID}, or the error number).
 * Where the instruction would fault (#UD, #GP), the method raises the same fault, which the CPU delivers through the
 * host IDT as it would for the instruction. {@link #vmlaunch()} and {@link #vmresume()} load the guest state and
 * return with the CPU in VMX non-root operation: the machine's run loop then runs the guest, until a VM exit loads the
 * host state and continues at the host-state RIP, which the plugin points into its hypervisor entry page
 * ({@link Cpu#setHypervisorEntryPage}), so its handler runs again.
 *
 * <p>Hot path: none of this is on the native path. Non-root checks cost one test of {@link #nonRoot} in instructions
 * that are rare anyway (I/O, CPUID, control registers); memory accesses pay nothing.
 */
public final class Vmx {
    /** VMsucceed (30.2). */
    public static final int SUCCEED = 0;
    /** VMfailInvalid: there is no current VMCS to hold an error number (30.2). */
    public static final int FAIL_INVALID = -1;

    /** The current-VMCS pointer when there is no current VMCS (24.1). */
    static final long INVALID_POINTER = -1L;
    /** faultVector of the CpuFault that unwinds an instruction after a VM exit: nothing is left to deliver. */
    static final int VM_EXITED = -2;
    /**
     * faultVector of the CpuFault that rolls an instruction back to be run again by the interpreter alone: it must be
     * followed at once by a trap-like VM exit, which a compiled block cannot stop for (TPR below threshold).
     */
    static final int INTERPRET_ALONE = -3;

    final Cpu c;
    /** The machine offers VMX (CPUID.1:ECX.VMX); off by default, as on QEMU's default CPU. */
    boolean supported;
    long featureControl;

    /** In VMX operation (root or non-root), and in VMX non-root operation. */
    boolean operation;
    boolean nonRoot;
    long vmxonPointer = INVALID_POINTER;
    long currentPointer = INVALID_POINTER;
    /** Counts VMXON: VMRESUME of a VMCS launched in an earlier VMX operation fails with error 6. */
    int epoch;
    /** The processor's copy of the current VMCS (24.11.1). */
    final Vmcs vmcs = new Vmcs();
    /** The last result of a VMX instruction (SUCCEED, FAIL_INVALID, or a VM-instruction error number). */
    private int status;
    /** VM entries and exits so far: the run loop tells a hypervisor handler that resumed a guest from one that hung. */
    long transitions;

    final VmEntry entry;
    final VmExit exit;

    Vmx(Cpu cpu) {
        this.c = cpu;
        this.entry = new VmEntry(this);
        this.exit = new VmExit(this);
    }

    /** Power-on (SDM 23.7: IA32_FEATURE_CONTROL clears only on power-up reset; RESET leaves VMX operation). */
    void reset() {
        operation = nonRoot = false;
        featureControl = 0;
        vmxonPointer = currentPointer = INVALID_POINTER;
        vmcs.store(c.memory);
        exit.stopTimer();
        c.mmu.leaveEpt();
    }

    // =====================================================================================================
    // Public face: state queries and the ring-0 operations of a Java hypervisor
    // =====================================================================================================

    /** Whether this processor reports and implements VMX (CPUID.1:ECX[5]). */
    public boolean isSupported() {
        return supported;
    }

    /** In VMX operation, root or non-root (after VMXON, before VMXOFF). */
    public boolean inVmxOperation() {
        return operation;
    }

    /** In VMX non-root operation: a guest runs. */
    public boolean inNonRootOperation() {
        return nonRoot;
    }

    /** The result of the last VMX operation: {@link #SUCCEED}, {@link #FAIL_INVALID} or an error number. */
    public int status() {
        return status;
    }

    public int vmxon(long region) {
        rootPreconditions(true);
        return finish(vmxonOperation(region));
    }

    public int vmxoff() {
        rootPreconditions(false);
        return finish(vmxoffOperation());
    }

    public int vmclear(long region) {
        rootPreconditions(false);
        return finish(vmclearOperation(region));
    }

    public int vmptrld(long region) {
        rootPreconditions(false);
        return finish(vmptrldOperation(region));
    }

    /** VMPTRST: the current-VMCS pointer (FFFFFFFF_FFFFFFFF when there is none). */
    public long vmptrst() {
        rootPreconditions(false);
        finish(SUCCEED);
        return currentPointer;
    }

    /** VMREAD: the field's value (0 on failure, see {@link #status()}). A 64-bit field reads whole here. */
    public long vmread(int field) {
        rootPreconditions(false);
        int slot = VmcsField.slot(field);
        int result = readCheck(slot);
        finish(result);
        return result == SUCCEED ? readField(field, slot) : 0;
    }

    public int vmwrite(int field, long value) {
        rootPreconditions(false);
        return finish(writeOperation(field, value));
    }

    public int vmlaunch() {
        rootPreconditions(false);
        return launchOperation(false);
    }

    public int vmresume() {
        rootPreconditions(false);
        return launchOperation(true);
    }

    /** INVEPT with the descriptor {@code eptp, 0} (30.3 "INVEPT"). */
    public int invept(int type, long eptp) {
        rootPreconditions(false);
        if (!VmxCapabilities.EPT) {
            throw c.ud(); // INVEPT exists only with EPT (30.3 "INVEPT")
        }
        return finish(inveptOperation(type, eptp));
    }

    /** INVVPID with the descriptor {@code vpid, linearAddress} (30.3 "INVVPID"). */
    public int invvpid(int type, long vpidField, long linearAddress) {
        rootPreconditions(false);
        return finish(invvpidOperation(type, vpidField, linearAddress));
    }

    /**
     * The #UD and #GP checks every VMX instruction makes before anything else, for a caller in VMX root operation
     * (30.3, each instruction's pseudocode; VMXON's differ). A Java caller is host software: calling this while a
     * guest runs is a hypervisor bug, not something hardware could be asked to do.
     */
    private void rootPreconditions(boolean vmxon) {
        if (nonRoot) {
            throw new IllegalStateException("a VMX operation was called while a guest runs in VMX non-root operation");
        }
        if (vmxon ? vmxonUndefined() : instructionUndefined()) {
            throw c.ud();
        }
        if (c.cpl > 0) {
            throw c.gp(0);
        }
    }

    // =====================================================================================================
    // The instructions as the interpreter executes them (30.3)
    // =====================================================================================================

    /** #UD for VMX instructions other than VMXON and VMCALL: outside VMX operation, real or virtual-8086 mode. */
    private boolean instructionUndefined() {
        return !operation || !c.protectedMode() || c.v86Mode();
    }

    /** #UD for VMXON: CR4.VMXE = 0, real or virtual-8086 mode (and a register operand, checked at decode). */
    private boolean vmxonUndefined() {
        return (c.cr4 & CR4_VMXE) == 0 || !c.protectedMode() || c.v86Mode();
    }

    static final int CR4_VMXE = 1 << 13;

    /** The common head of an instruction: #UD, then a VM exit in non-root operation, then #GP(0) if CPL > 0. */
    private void instructionHead(Interpreter in, int exitReason, boolean memoryOperand, boolean decoded) {
        if (instructionUndefined()) {
            throw c.ud();
        }
        if (memoryOperand && !decoded) {
            decodeMemoryOperand(in);
        }
        if (nonRoot) {
            throw exit.instruction(exitReason, VmExit.QUALIFICATION_DISPLACEMENT);
        }
        if (c.cpl > 0) {
            throw c.gp(0);
        }
    }

    private void decodeMemoryOperand(Interpreter in) {
        in.modrm();
        in.requireMemoryOperand();
    }

    /** 0F C7 /6 and /7 with a memory operand (mod = 3 is RDRAND/RDSEED, which this processor lacks: #UD). */
    void group9(Interpreter in) {
        if (c.modrmMod == 3 || c.repPrefix == 0xF2) {
            throw c.ud();
        }
        boolean operand66 = c.opSize32 != c.code32;
        if (c.modrmReg == 7) { // VMPTRST: no prefix
            if (c.repPrefix != 0 || operand66) {
                throw c.ud();
            }
            instructionHead(in, ExitReason.VMPTRST, true, true);
            c.write32(c.eaSeg, c.eaOff, (int) currentPointer);
            c.write32(c.eaSeg, in.eaPlus(4), (int) (currentPointer >>> 32));
            finish(SUCCEED);
            return;
        }
        if (c.repPrefix == 0xF3) {
            vmxonInstruction(in);
            return;
        }
        instructionHead(in, operand66 ? ExitReason.VMCLEAR : ExitReason.VMPTRLD, true, true);
        long region = readQword(in);
        finish(operand66 ? vmclearOperation(region) : vmptrldOperation(region));
    }

    /** VMXON (30.3 "VMXON"): its own #UD and #GP rules outside VMX operation. */
    private void vmxonInstruction(Interpreter in) {
        if (vmxonUndefined()) {
            throw c.ud();
        }
        if (nonRoot) {
            throw exit.instruction(ExitReason.VMXON, VmExit.QUALIFICATION_DISPLACEMENT);
        }
        if (c.cpl > 0) {
            throw c.gp(0);
        }
        if (operation) {
            finish(fail(VmInstructionError.VMXON_IN_ROOT));
            return;
        }
        if (!vmxonAllowed()) {
            throw c.gp(0);
        }
        finish(vmxonOperation(readQword(in)));
    }

    private long readQword(Interpreter in) {
        long low = c.read32(c.eaSeg, c.eaOff) & 0xFFFFFFFFL;
        return (long) c.read32(c.eaSeg, in.eaPlus(4)) << 32 | low;
    }

    /** VMREAD (0F 78) and VMWRITE (0F 79): the field encoding is in ModRM.reg, the value in r/m (32 bits). */
    void readWriteInstruction(Interpreter in, boolean write) {
        if (instructionUndefined()) {
            throw c.ud();
        }
        in.modrm();
        instructionHead(in, write ? ExitReason.VMWRITE : ExitReason.VMREAD, false, true);
        if (currentPointer == INVALID_POINTER) {
            finish(FAIL_INVALID);
            return;
        }
        int field = c.reg[c.modrmReg];
        if (write) {
            long value = in.readRm(Alu.DWORD) & 0xFFFFFFFFL;
            finish(writeOperation(field, value));
            return;
        }
        int slot = VmcsField.slot(field & 0xFFFFFFFFL);
        int result = readCheck(slot);
        if (result == SUCCEED) {
            in.writeRm(Alu.DWORD, (int) readField(field, slot));
        }
        finish(result);
    }

    /** 0F 01 with mod = 3 and reg = 0: VMCALL (C1), VMLAUNCH (C2), VMRESUME (C3), VMXOFF (C4). */
    void group7Register(Interpreter in, int rm) {
        switch (rm) {
            case 1 -> vmcallInstruction();
            case 2, 3 -> {
                instructionHead(in, rm == 2 ? ExitReason.VMLAUNCH : ExitReason.VMRESUME, false, false);
                launchOperation(rm == 3);
            }
            case 4 -> {
                instructionHead(in, ExitReason.VMXOFF, false, false);
                finish(vmxoffOperation());
            }
            default -> throw c.ud();
        }
    }

    /** VMCALL (30.3): outside VMX operation #UD; in non-root it exits from any mode and CPL. */
    private void vmcallInstruction() {
        if (!operation) {
            throw c.ud();
        }
        if (nonRoot) {
            throw exit.instruction(ExitReason.VMCALL, 0);
        }
        if (!c.protectedMode() || c.v86Mode()) {
            throw c.ud();
        }
        if (c.cpl > 0) {
            throw c.gp(0);
        }
        finish(fail(VmInstructionError.VMCALL_IN_ROOT));
    }

    /** 66 0F 38 80 (INVEPT) and 81 (INVVPID): type in ModRM.reg, 128-bit descriptor in memory. */
    void invalidateInstruction(Interpreter in, int op) {
        boolean ept = op == 0x80;
        boolean operand66 = c.opSize32 != c.code32;
        if (!operand66 || c.repPrefix != 0 || instructionUndefined() || ept && !VmxCapabilities.EPT) {
            throw c.ud();
        }
        decodeMemoryOperand(in);
        instructionHead(in, ept ? ExitReason.INVEPT : ExitReason.INVVPID, true, true);
        int type = c.reg[c.modrmReg];
        if (ept ? !inveptTypeSupported(type) : !invvpidTypeSupported(type)) {
            finish(fail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND));
            return;
        }
        long first = readQword(in);
        int off = c.eaOff;
        c.eaOff = in.eaPlus(8);
        long second = readQword(in);
        c.eaOff = off;
        finish(ept ? inveptOperation(type, first) : invvpidOperation(type, first, second));
    }

    /** VMFUNC (0F 01 D4; 25.5.6): #UD unless a guest with "enable VM functions" runs it. */
    void vmfuncInstruction() {
        if (!nonRoot || (exit.proc & VmxControls.PROC_SECONDARY_CONTROLS) == 0
                || (exit.proc2 & VmxControls.PROC2_VM_FUNCTIONS) == 0) {
            throw c.ud();
        }
        exit.vmfunc(c.reg[EAX], c.reg[ECX]);
    }

    // =====================================================================================================
    // The operations (30.3), after the #UD, exit and #GP checks
    // =====================================================================================================

    /** VMXON is allowed outside VMX operation only with these (30.3 "VMXON", 23.7, 23.8); else #GP(0). */
    private boolean vmxonAllowed() {
        return (featureControl & VmxCapabilities.FEATURE_CONTROL_LOCK) != 0
                && (featureControl & VmxCapabilities.FEATURE_CONTROL_VMX_OUTSIDE_SMX) != 0
                && c.memory.a20Enabled()
                && VmxCapabilities.cr0Allowed(c.cr0, 0) && VmxCapabilities.cr4Allowed(c.cr4);
    }

    private int vmxonOperation(long region) {
        if (operation) {
            return fail(VmInstructionError.VMXON_IN_ROOT);
        }
        if (!vmxonAllowed()) {
            throw c.gp(0);
        }
        if (!VmxCapabilities.validPointer(region, 4096) || revisionMismatch(region)) {
            return FAIL_INVALID;
        }
        operation = true;
        vmxonPointer = region;
        currentPointer = INVALID_POINTER;
        epoch++;
        return SUCCEED;
    }

    private int vmxoffOperation() {
        vmcs.store(c.memory);
        operation = false;
        vmxonPointer = currentPointer = INVALID_POINTER;
        return SUCCEED;
    }

    private int vmclearOperation(long region) {
        if (!VmxCapabilities.validPointer(region, 4096)) {
            return fail(VmInstructionError.VMCLEAR_INVALID_ADDRESS);
        }
        if (region == vmxonPointer) {
            return fail(VmInstructionError.VMCLEAR_VMXON_POINTER);
        }
        if (vmcs.address() == region) {
            vmcs.clearAndStore(c.memory);
        } else {
            Vmcs.clearInMemory(c.memory, region);
        }
        if (region == currentPointer) {
            currentPointer = INVALID_POINTER;
        }
        return SUCCEED;
    }

    private int vmptrldOperation(long region) {
        if (!VmxCapabilities.validPointer(region, 4096)) {
            return fail(VmInstructionError.VMPTRLD_INVALID_ADDRESS);
        }
        if (region == vmxonPointer) {
            return fail(VmInstructionError.VMPTRLD_VMXON_POINTER);
        }
        if (revisionMismatch(region)) {
            return fail(VmInstructionError.VMPTRLD_BAD_REVISION);
        }
        if (vmcs.address() != region) {
            vmcs.store(c.memory);
            vmcs.load(c.memory, region);
        }
        currentPointer = region;
        return SUCCEED;
    }

    /** Bits 30:0 must be the revision identifier; bit 31 (shadow VMCS) must be 0 without VMCS shadowing. */
    private boolean revisionMismatch(long region) {
        int revision = c.memory.readU32((int) region);
        return (revision & 0x7FFFFFFF) != VmxCapabilities.REVISION_ID || revision < 0;
    }

    private int readCheck(int slot) {
        if (currentPointer == INVALID_POINTER) {
            return FAIL_INVALID;
        }
        return slot < 0 ? fail(VmInstructionError.UNSUPPORTED_FIELD) : SUCCEED;
    }

    /** A field's value as VMREAD returns it; a high access (bit 0) reads bits 63:32 of a 64-bit field (24.11.2). */
    private long readField(int field, int slot) {
        long value = vmcs.get(slot);
        return VmcsField.isHighAccess(field) ? value >>> 32 : value;
    }

    private int writeOperation(int field, long value) {
        if (currentPointer == INVALID_POINTER) {
            return FAIL_INVALID;
        }
        int slot = VmcsField.slot(field & 0xFFFFFFFFL);
        if (slot < 0) {
            return fail(VmInstructionError.UNSUPPORTED_FIELD);
        }
        if (VmcsField.isReadOnly(field)) { // IA32_VMX_MISC[29] = 0
            return fail(VmInstructionError.VMWRITE_READ_ONLY);
        }
        // A high access writes bits 63:32 (24.11.2). Otherwise a field longer than the operand has its high bits
        // cleared and a shorter one ignores the operand's (30.3 "VMWRITE"): the instruction's operand is 32 bits,
        // a Java caller's 64.
        long updated = VmcsField.isHighAccess(field)
                ? (vmcs.get(slot) & 0xFFFFFFFFL) | value << 32
                : Vmcs.truncate(field, value);
        vmcs.set(slot, updated);
        return SUCCEED;
    }

    /** VMLAUNCH and VMRESUME after their #UD, exit and #GP checks (30.3). */
    private int launchOperation(boolean resume) {
        if (currentPointer == INVALID_POINTER) {
            return finish(FAIL_INVALID);
        }
        if (c.stackLoadAt == c.retired) {
            return finish(fail(VmInstructionError.ENTRY_BLOCKED_BY_MOV_SS));
        }
        if (!resume && vmcs.isLaunched()) {
            return finish(fail(VmInstructionError.VMLAUNCH_NON_CLEAR));
        }
        if (resume && !vmcs.isLaunched()) {
            return finish(fail(VmInstructionError.VMRESUME_NON_LAUNCHED));
        }
        if (resume && vmcs.launchEpoch() != epoch) {
            return finish(fail(VmInstructionError.VMRESUME_AFTER_VMXOFF));
        }
        int error = entry.checkControlsAndHost();
        if (error != SUCCEED) {
            return finish(fail(error));
        }
        status = SUCCEED;
        entry.enter(resume);
        return SUCCEED;
    }

    private boolean inveptTypeSupported(int type) {
        return type == 1 && (VmxCapabilities.EPT_VPID_CAP & VmxCapabilities.EPT_INVEPT_SINGLE) != 0
                || type == 2 && (VmxCapabilities.EPT_VPID_CAP & VmxCapabilities.EPT_INVEPT_ALL) != 0;
    }

    private boolean invvpidTypeSupported(int type) {
        return type >= 0 && type <= 3 && (VmxCapabilities.EPT_VPID_CAP & 1L << (40 + type)) != 0;
    }

    /**
     * INVEPT (30.3): type 1 invalidates the mappings derived from one EPTP, type 2 all of them. The model caches
     * guest-physical translations only within combined mappings, tagged by EPT root in the TLB (28.3.1).
     */
    private int inveptOperation(int type, long eptp) {
        if (!inveptTypeSupported(type)) {
            return fail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND);
        }
        if (type == 1 && !VmxCapabilities.validEptp(eptp)) {
            return fail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND);
        }
        c.mmu.invalidateEpt(type, eptp & ~0xFFFL);
        return SUCCEED;
    }

    /** INVVPID (30.3): the descriptor checks of each type; then the mappings tagged with the VPID(s) go (28.3.3.3). */
    private int invvpidOperation(int type, long vpidField, long linear) {
        if (!invvpidTypeSupported(type)) {
            return fail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND);
        }
        if (vpidField >>> 16 != 0) {
            return fail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND);
        }
        int vpid = (int) vpidField;
        boolean needsVpid = type != 2;
        if (needsVpid && vpid == 0 || type == 0 && linear >>> 32 != 0) { // a 32-bit processor's linear addresses
            return fail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND);
        }
        c.mmu.invalidateVpid(type, vpid, (int) linear);
        return SUCCEED;
    }

    // =====================================================================================================
    // Results (30.2)
    // =====================================================================================================

    /** VMfail(n): VMfailValid(n) when there is a current VMCS, else VMfailInvalid. */
    int fail(int error) {
        return currentPointer == INVALID_POINTER ? FAIL_INVALID : error;
    }

    /** Sets the flags for a result (VMsucceed, VMfailInvalid, VMfailValid) and records it. */
    int finish(int result) {
        status = result;
        int flags = result == SUCCEED ? 0 : result == FAIL_INVALID ? Cpu.CF : Cpu.ZF;
        if (result > 0) {
            vmcs.write(VmcsField.VM_INSTRUCTION_ERROR, result);
        }
        c.setEflags(flags, Cpu.ARITH_FLAGS);
        return result;
    }

    // =====================================================================================================
    // MSRs (23.7, Appendix A)
    // =====================================================================================================

    /** IA32_FEATURE_CONTROL and the capability MSRs exist only when CPUID reports VMX (else RDMSR raises #GP). */
    boolean isVmxMsr(int msr) {
        return supported && (msr == VmxCapabilities.IA32_FEATURE_CONTROL || VmxCapabilities.isCapabilityMsr(msr));
    }

    /** CR0 in VMX operation (23.8): the FIXED bits, PE and PG exempt for an unrestricted guest (26.3.1.1). */
    boolean cr0Allowed(int cr0) {
        boolean unrestricted = nonRoot && (exit.proc2 & VmxControls.PROC2_UNRESTRICTED_GUEST) != 0;
        return VmxCapabilities.cr0Allowed(cr0, unrestricted ? Cpu.CR0_PE | Cpu.CR0_PG : 0);
    }

    long readMsr(int msr) {
        return msr == VmxCapabilities.IA32_FEATURE_CONTROL ? featureControl : VmxCapabilities.read(msr);
    }

    /** WRMSR: the capability MSRs are read-only; IA32_FEATURE_CONTROL is writable until locked (23.7). */
    void writeMsr(int msr, long value) {
        if (msr != VmxCapabilities.IA32_FEATURE_CONTROL
                || (featureControl & VmxCapabilities.FEATURE_CONTROL_LOCK) != 0
                || (value & ~VmxCapabilities.FEATURE_CONTROL_WRITABLE) != 0) {
            throw c.gp(0);
        }
        featureControl = value;
    }
}

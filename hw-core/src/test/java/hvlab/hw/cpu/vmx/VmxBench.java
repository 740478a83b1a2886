package hvlab.hw.cpu.vmx;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.CpuHost;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.cpu.Vmx;
import hvlab.hw.irq.InterruptController;
import hvlab.hw.memory.PhysicalMemory;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static hvlab.hw.cpu.vmx.VmcsField.*;

/**
 * A processor with VMX, set up through its public face as a hypervisor would find it: flat protected mode with 4 MiB
 * identity paging (VMX operation needs CR0.PG, A.7), CPL 0, IA32_FEATURE_CONTROL locked with VMX enabled. Host and
 * guest share the GDT; each has its own IDT whose vectors all point at a HLT stub, and its own TSS. {@link #launchable()}
 * fills a VMCS that passes every VM-entry check, for tests to break one field at a time.
 */
final class VmxBench {
    static final int GDT = 0x1000, HOST_IDT = 0x2000, HOST_STUBS = 0x3000, HOST_TSS = 0x4000, GUEST_TSS = 0x5000,
            PAGE_DIRECTORY = 0x6000, GUEST_IDT = 0x7000, GUEST_STUBS = 0x8000;
    static final int HOST_CODE = 0x10000, HOST_EXIT = 0x11000, GUEST_CODE = 0x20000, HOST_STACK = 0x90000,
            GUEST_STACK = 0x80000;
    static final int VMXON_REGION = 0x100000, VMCS = 0x101000, VMCS2 = 0x102000, IO_A = 0x103000, IO_B = 0x104000,
            MSR_BITMAP = 0x105000, MSR_AREA = 0x106000, UNMAPPED = 0x7FF000;
    static final int CODE0 = 0x08, DATA0 = 0x10, CODE3 = 0x1B, DATA3 = 0x23, TSS_HOST = 0x28, TSS_GUEST = 0x30;
    static final int CR0 = 0x80000031, CR4 = 0x2010; // PE NE ET PG; PSE VMXE
    static final int ARITH = Cpu.CF | Cpu.PF | Cpu.AF | Cpu.ZF | Cpu.SF | Cpu.OF;

    final PhysicalMemory memory = new PhysicalMemory(8 << 20, new MmioBus());
    final PortBus ports = new PortBus();
    final Cpu cpu = new Cpu(memory, ports, new VirtualClock());
    final Vmx vmx = cpu.vmx();
    final Controller interrupts = new Controller();
    final List<Integer> portWrites = new ArrayList<>();
    String shutdown;

    /** An interrupt controller the test drives: one pending vector at a time. */
    static final class Controller implements InterruptController {
        int pending = -1, acknowledged = -1;

        @Override
        public boolean hasPendingInterrupt() {
            return pending >= 0;
        }

        @Override
        public int acknowledge() {
            acknowledged = pending;
            pending = -1;
            return acknowledged;
        }
    }

    VmxBench() {
        cpu.connect(interrupts, new CpuHost() {
            @Override
            public void shutdown(String reason) {
                shutdown = reason;
            }
        });
        cpu.setVmxSupported(true);
        descriptor(GDT + CODE0, 0x00CF9A00, 0x0000FFFF);
        descriptor(GDT + DATA0, 0x00CF9200, 0x0000FFFF);
        descriptor(GDT + (CODE3 & ~3), 0x00CFFA00, 0x0000FFFF);
        descriptor(GDT + (DATA3 & ~3), 0x00CFF200, 0x0000FFFF);
        descriptor(GDT + TSS_HOST, 0x00008B00, HOST_TSS << 16 | 0x67);
        descriptor(GDT + TSS_GUEST, 0x00008B00, GUEST_TSS << 16 | 0x67);
        for (int v = 0; v < 256; v++) {
            memory.writeU8(HOST_STUBS + v * 16, 0xF4);
            memory.writeU8(GUEST_STUBS + v * 16, 0xF4);
            gate(HOST_IDT, v, HOST_STUBS + v * 16);
            gate(GUEST_IDT, v, GUEST_STUBS + v * 16);
        }
        memory.writeU32(HOST_TSS + 4, HOST_STACK);
        memory.writeU32(HOST_TSS + 8, DATA0);
        memory.writeU32(GUEST_TSS + 4, GUEST_STACK);
        memory.writeU32(GUEST_TSS + 8, DATA0);
        for (int i = 0; i < 2; i++) { // 8 MiB identity-mapped, supervisor and user, writable (4 MiB pages)
            memory.writeU32(PAGE_DIRECTORY + 4 * i, i << 22 | 0x87);
        }
        memory.writeU8(HOST_EXIT, 0xF4);
        memory.writeU32(VMXON_REGION, VmxCapabilities.REVISION_ID);
        memory.writeU32(VMCS, VmxCapabilities.REVISION_ID);
        memory.writeU32(VMCS2, VmxCapabilities.REVISION_ID);
        hostAt(HOST_CODE, 0);
        execute("b9 3a 00 00 00  b8 05 00 00 00  31 d2  0f 30  f4"); // wrmsr IA32_FEATURE_CONTROL = lock | VMX
    }

    void descriptor(int address, int hi, int lo) {
        memory.writeU32(address, lo);
        memory.writeU32(address + 4, hi);
    }

    /** A 32-bit interrupt gate (DPL 3, so INT n works from any ring) to CODE0:handler. */
    void gate(int idt, int vector, int handler) {
        descriptor(idt + vector * 8, (handler & 0xFFFF0000) | 0xEE00, CODE0 << 16 | (handler & 0xFFFF));
    }

    /** Puts the CPU at {@code eip} in flat ring-{@code cpl} code with the host's tables, paging on, not halted. */
    void hostAt(int eip, int cpl) {
        CpuState old = cpu.captureState();
        var g = old.general();
        int code = cpl == 0 ? CODE0 : CODE3, data = cpl == 0 ? DATA0 : DATA3;
        int dpl = cpl << 5;
        List<CpuState.SegmentRegister> segments = new ArrayList<>();
        for (int s = 0; s < 6; s++) {
            segments.add(s == Cpu.CS ? new CpuState.SegmentRegister(code, 0, -1, 0xC09B | dpl)
                    : new CpuState.SegmentRegister(data, 0, -1, 0xC093 | dpl));
        }
        var system = new CpuState.SystemRegisters(CR0, 0, PAGE_DIRECTORY, CR4,
                new CpuState.TableRegister(GDT, 0x37), new CpuState.TableRegister(HOST_IDT, 0x7FF),
                new CpuState.SegmentRegister(0, 0, 0, 0), new CpuState.SegmentRegister(TSS_HOST, HOST_TSS, 0x67, 0x8B),
                cpl, false);
        var general = new CpuState.GeneralRegisters(g.eax(), g.ecx(), g.edx(), g.ebx(),
                cpl == 0 ? HOST_STACK : GUEST_STACK, g.ebp(), g.esi(), g.edi(), eip, g.eflags() & ~Cpu.IF | 2);
        cpu.restoreState(new CpuState(general, segments, system, old.fpu(), old.retiredInstructions()));
    }

    /** Loads machine code at HOST_CODE and runs it at CPL 0 until it halts. */
    Cpu execute(String hex) {
        return executeAt(HOST_CODE, 0, hex);
    }

    Cpu executeAt(int address, int cpl, String hex) {
        code(address, hex);
        hostAt(address, cpl);
        cpu.run(10_000);
        return cpu;
    }

    void code(int address, String hex) {
        byte[] bytes = HexFormat.of().parseHex(hex.replaceAll("[^0-9a-fA-F]", ""));
        memory.load(address, bytes, 0, bytes.length);
    }

    /** VMXON and VMPTRLD (after VMCLEAR) of the bench's VMCS; both must succeed. */
    VmxBench rootWithVmcs() {
        check(vmx.vmxon(VMXON_REGION));
        check(vmx.vmclear(VMCS));
        check(vmx.vmptrld(VMCS));
        return this;
    }

    static void check(int status) {
        if (status != Vmx.SUCCEED) {
            throw new AssertionError("VMX operation failed: " + status);
        }
    }

    void write(int field, long value) {
        check(vmx.vmwrite(field, value));
    }

    long read(int field) {
        long value = vmx.vmread(field);
        check(vmx.status());
        return value;
    }

    /**
     * A VMCS that passes every check of SDM 26.2-26.3: the controls' must-be-1 bits only, the host as the bench runs
     * (exits land on a HLT at HOST_EXIT), a flat ring-0 protected-mode guest with paging at GUEST_CODE.
     */
    VmxBench launchable() {
        write(PIN_BASED_CONTROLS, VmxCapabilities.PIN_MUST_BE_1);
        write(PRIMARY_PROCESSOR_CONTROLS, VmxCapabilities.PROC_MUST_BE_1);
        write(VM_EXIT_CONTROLS, VmxCapabilities.EXIT_MUST_BE_1);
        write(VM_ENTRY_CONTROLS, VmxCapabilities.ENTRY_MUST_BE_1);
        write(VMCS_LINK_POINTER, -1L);
        write(HOST_CR0, CR0);
        write(HOST_CR3, PAGE_DIRECTORY);
        write(HOST_CR4, CR4);
        write(HOST_CS_SELECTOR, CODE0);
        for (int s : new int[] {HOST_ES_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR, HOST_FS_SELECTOR,
            HOST_GS_SELECTOR}) {
            write(s, DATA0);
        }
        write(HOST_TR_SELECTOR, TSS_HOST);
        write(HOST_TR_BASE, HOST_TSS);
        write(HOST_GDTR_BASE, GDT);
        write(HOST_IDTR_BASE, HOST_IDT);
        write(HOST_RSP, HOST_STACK);
        write(HOST_RIP, HOST_EXIT);
        write(GUEST_CR0, CR0);
        write(GUEST_CR3, PAGE_DIRECTORY);
        write(GUEST_CR4, CR4);
        write(GUEST_DR7, 0x400);
        for (int s = Cpu.ES; s <= Cpu.GS; s++) {
            write(guestSelector(s), s == Cpu.CS ? CODE0 : DATA0);
            write(guestBase(s), 0);
            write(guestLimit(s), 0xFFFFFFFFL);
            write(guestAccessRights(s), s == Cpu.CS ? 0xC09B : 0xC093);
        }
        write(GUEST_LDTR_ACCESS_RIGHTS, 0x10000);
        write(GUEST_TR_SELECTOR, TSS_GUEST);
        write(GUEST_TR_BASE, GUEST_TSS);
        write(GUEST_TR_LIMIT, 0x67);
        write(GUEST_TR_ACCESS_RIGHTS, 0x8B);
        write(GUEST_GDTR_BASE, GDT);
        write(GUEST_GDTR_LIMIT, 0x37);
        write(GUEST_IDTR_BASE, GUEST_IDT);
        write(GUEST_IDTR_LIMIT, 0x7FF);
        write(GUEST_RSP, GUEST_STACK);
        write(GUEST_RIP, GUEST_CODE);
        write(GUEST_RFLAGS, 2);
        return this;
    }

    /** The guest runs at CPL 3: ring-3 CS and SS (SS.DPL is the CPL, 24.4.1). */
    VmxBench ring3Guest() {
        write(GUEST_CS_SELECTOR, CODE3);
        write(GUEST_CS_ACCESS_RIGHTS, 0xC0FB);
        write(GUEST_SS_SELECTOR, DATA3);
        write(GUEST_SS_ACCESS_RIGHTS, 0xC0F3);
        return this;
    }

    /** The guest's RFLAGS. */
    VmxBench guestFlags(int rflags) {
        write(GUEST_RFLAGS, rflags);
        return this;
    }

    /** Guest code at GUEST_CODE. */
    VmxBench guest(String hex) {
        code(GUEST_CODE, hex);
        return this;
    }

    /** VMLAUNCH through the facade, then runs until the host halts at HOST_EXIT (or the budget ends). */
    int launchAndRun() {
        int status = vmx.vmlaunch();
        if (status == Vmx.SUCCEED) {
            cpu.run(10_000);
        }
        return status;
    }

    int resumeAndRun() {
        int status = vmx.vmresume();
        if (status == Vmx.SUCCEED) {
            cpu.run(10_000);
        }
        return status;
    }

    int exitReason() {
        return (int) read(EXIT_REASON);
    }

    int flags() {
        return cpu.eflags() & ARITH;
    }
}

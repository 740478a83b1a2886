package hvlab.example.trapemulate;

import hvlab.example.trapemulate.TrapAndEmulateMonitor.Event;
import hvlab.example.trapemulate.TrapAndEmulateMonitor.Unsupported;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.InterruptFrame;
import hvlab.spi.VirtualizationLimit;

/**
 * The instructions that trap with #GP because the guest kernel runs in ring 1 — or because its IRET runs with the
 * monitor's NT set — decoded at the trapping CS:EIP and emulated against the virtual CPU with the checks the guest
 * would get in ring 0 (SDM Vol. 2 instruction pages). Anything else that raised #GP is the guest's own fault and is
 * reflected to it.
 */
final class PrivilegedInstructions {
    private static final int CR0_MIRRORED = 0x2E; // MP, EM, TS, NE: the real CR0 shows them, so SMSW does too
    private static final int CR4_ACCEPTED = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x80 | 0x100;
    private static final int CF = 0xCF;

    private final TrapAndEmulateMonitor monitor;
    private final Cpu cpu;
    private final VirtualCpu vcpu;
    private final GuestMemory guest;

    // The instruction being decoded.
    private InterruptFrame frame;
    private int at;
    private int segmentOverride;
    private boolean operand16;
    private int modrm;

    PrivilegedInstructions(TrapAndEmulateMonitor monitor, Cpu cpu, VirtualCpu vcpu, GuestMemory guest) {
        this.monitor = monitor;
        this.cpu = cpu;
        this.vcpu = vcpu;
        this.guest = guest;
    }

    boolean isIret(InterruptFrame trap) {
        try {
            start(trap);
            return fetch() == CF;
        } catch (GuestFault unmapped) {
            return false;
        }
    }

    private void start(InterruptFrame trap) throws GuestFault {
        frame = trap;
        at = trap.eip;
        segmentOverride = -1;
        operand16 = false;
        for (;;) {
            int b = peek();
            switch (b) {
                case 0x26 -> segmentOverride = Cpu.ES;
                case 0x2E -> segmentOverride = Cpu.CS;
                case 0x36 -> segmentOverride = Cpu.SS;
                case 0x3E -> segmentOverride = Cpu.DS;
                case 0x64 -> segmentOverride = Cpu.FS;
                case 0x65 -> segmentOverride = Cpu.GS;
                case 0x66 -> operand16 = true;
                case 0xF0, 0xF2, 0xF3 -> { } // LOCK, REP: no string I/O is emulated
                default -> {
                    return;
                }
            }
            at++;
        }
    }

    /** Emulates the trapping instruction, or reflects the #GP (or the fault the emulation finds) to the guest. */
    void emulate(InterruptFrame trap) throws GuestFault, Unsupported {
        if (trap.fromVirtual8086()) {
            throw new Unsupported(VirtualizationLimit.VIRTUAL_8086_MODE, "virtual-8086 mode");
        }
        start(trap);
        boolean kernel = !trap.fromRingThree();
        int op = fetch();
        switch (op) {
            case 0xFA, 0xFB -> {
                if (!kernel && vcpu.iopl < 3) {
                    throw notEmulated();
                }
                vcpu.interruptsEnabled = op == 0xFB;
                finish(op == 0xFA ? "CLI" : "STI");
                if (op == 0xFB && peek() == 0xF4 && monitor.hasHeldInterrupt()) {
                    at++; // STI's one-instruction shadow: the held interrupt arrives after the HLT
                    trap.eip = at;
                }
            }
            case 0xF4 -> {
                if (!kernel) {
                    throw notEmulated();
                }
                finish("HLT");
                monitor.haltAfterResume();
            }
            case 0xE4, 0xE5, 0xE6, 0xE7 -> portIo(op, fetch(), kernel);
            case 0xEC, 0xED, 0xEE, 0xEF -> portIo(op, cpu.register(Cpu.EDX) & 0xFFFF, kernel);
            case 0xCD -> softwareInterrupt(fetch(), trap);
            case 0xCC -> softwareInterrupt(3, trap);
            case 0xCE -> {
                if ((trap.eflags & 0x800) != 0) {
                    softwareInterrupt(4, trap);
                } else {
                    finish("INTO");
                }
            }
            case CF -> {
                if (!kernel) {
                    throw notEmulated();
                }
                iret();
            }
            case 0x8E -> {
                modrm = fetch();
                if (((modrm >>> 3) & 7) != Cpu.SS || !kernel) {
                    throw notEmulated();
                }
                loadStackSegment(readRm16(), "MOV SS");
            }
            case 0x17 -> {
                if (!kernel) {
                    throw notEmulated();
                }
                int value = guest.read32(stackBase() + trap.esp);
                loadStackSegment(value & 0xFFFF, "POP SS");
                trap.esp += operand16 ? 2 : 4;
            }
            case 0x0F -> twoByte(kernel);
            case 0xEA, 0x9A -> {
                at += operand16 ? 2 : 4;
                refuseTaskSwitch(fetch() | fetch() << 8);
                throw notEmulated();
            }
            case 0x88, 0x89, 0x8A, 0x8B, 0xC6, 0xC7 -> {
                modrm = fetch();
                if ((modrm >>> 6) == 3 || trap.errorCode != 0) {
                    throw notEmulated();
                }
                moveInMonitorRegion(op, effectiveAddress(), !kernel);
            }
            case 0xA1, 0xA3 -> moveInMonitorRegion(op, segmentBase(segmentOverride >= 0 ? segmentOverride : Cpu.DS)
                    + fetch32(), !kernel);
            case 0xFF -> {
                modrm = fetch();
                int reg = (modrm >>> 3) & 7;
                if ((reg == 3 || reg == 5) && (modrm >>> 6) != 3) {
                    refuseTaskSwitch(guest.read16(effectiveAddress() + (operand16 ? 2 : 4)));
                }
                throw notEmulated();
            }
            default -> throw notEmulated();
        }
    }

    /** A far JMP or CALL through a TSS or task gate: a hardware task switch, which this monitor leaves out. */
    void refuseTaskSwitch(int selector) throws Unsupported {
        if ((selector & 4) != 0 || (selector | 7) > vcpu.gdtLimit) {
            return;
        }
        int type = (int) (monitor.tables().guestDescriptor(selector & 0xFFF8) >>> 40) & 0x1F;
        if (type == 0x01 || type == 0x03 || type == 0x09 || type == 0x0B || type == 0x05) {
            throw new Unsupported(VirtualizationLimit.HARDWARE_TASK_SWITCH, "a task switch to selector 0x"
                    + Integer.toHexString(selector));
        }
    }

    private void twoByte(boolean kernel) throws GuestFault, Unsupported {
        int op = fetch();
        if (!kernel) {
            throw notEmulated(); // every two-byte instruction here is privileged for the guest's ring 3 too
        }
        switch (op) {
            case 0x00 -> {
                modrm = fetch();
                switch ((modrm >>> 3) & 7) {
                    case 2 -> loadLdt(readRm16());
                    case 3 -> loadTaskRegister(readRm16());
                    default -> throw notEmulated();
                }
            }
            case 0x01 -> {
                modrm = fetch();
                int reg = (modrm >>> 3) & 7;
                if ((modrm >>> 6) == 3 && reg != 6) {
                    throw notEmulated();
                }
                switch (reg) {
                    case 2, 3 -> {
                        int address = effectiveAddress();
                        int limit = guest.read16(address), base = guest.read32(address + 2);
                        if (operand16) {
                            base &= 0xFFFFFF;
                        }
                        if (reg == 2) {
                            vcpu.gdtBase = base;
                            vcpu.gdtLimit = limit;
                            vcpu.gdtLoaded = true;
                            monitor.tablesChanged();
                            finish("LGDT");
                        } else {
                            vcpu.idtBase = base;
                            vcpu.idtLimit = limit;
                            finish("LIDT");
                        }
                    }
                    case 6 -> {
                        int value = readRm16();
                        writeCr0((vcpu.cr0 & ~0xE) | (value & 0xF) | (vcpu.cr0 & 1));
                        finish("LMSW");
                    }
                    case 7 -> {
                        monitor.shadow().invalidate(effectiveAddress());
                        finish("INVLPG");
                    }
                    default -> throw notEmulated();
                }
            }
            case 0x06 -> {
                writeCr0(vcpu.cr0 & ~VirtualCpu.CR0_TS);
                finish("CLTS");
            }
            case 0x08, 0x09 -> finish(op == 0x08 ? "INVD" : "WBINVD");
            case 0x20, 0x22 -> {
                modrm = fetch();
                int cr = (modrm >>> 3) & 7, register = modrm & 7;
                if (op == 0x20) {
                    cpu.setRegister(register, switch (cr) {
                        case 0 -> vcpu.cr0;
                        case 2 -> vcpu.cr2;
                        case 3 -> vcpu.cr3;
                        case 4 -> vcpu.cr4;
                        default -> throw new GuestFault(6, GuestFault.NO_ERROR_CODE, 0);
                    });
                    finish("MOV from CR" + cr);
                } else {
                    writeControlRegister(cr, cpu.register(register));
                    finish("MOV to CR" + cr);
                }
            }
            case 0x21, 0x23 -> {
                modrm = fetch();
                int dr = (modrm >>> 3) & 7, register = modrm & 7;
                if (op == 0x21) {
                    cpu.setRegister(register, vcpu.debugRegisters[dr]);
                } else {
                    vcpu.debugRegisters[dr] = cpu.register(register);
                }
                finish(op == 0x21 ? "MOV from DR" : "MOV to DR");
            }
            case 0xB2 -> {
                modrm = fetch();
                if ((modrm >>> 6) == 3) {
                    throw notEmulated();
                }
                int address = effectiveAddress();
                int offset = guest.read32(address), selector = guest.read16(address + 4);
                loadStackSegment(selector, "LSS");
                frame.esp = offset;
            }
            case 0x30, 0x32 -> throw new Unsupported(op == 0x30 ? "WRMSR" : "RDMSR");
            default -> throw notEmulated();
        }
    }

    // ---- the emulations ----

    /**
     * A MOV whose operand lies in the top 4 MiB the monitor keeps: the cut segment limit made it #GP, and the
     * monitor performs it through the guest's own page tables, as VMware's monitor did for its region.
     */
    private void moveInMonitorRegion(int op, int linear, boolean user) throws GuestFault, Unsupported {
        int size = op == 0x88 || op == 0x8A || op == 0xC6 ? 1 : operand16 ? 2 : 4;
        if (Integer.compareUnsigned(linear + size - 1, MonitorLayout.LINEAR_BASE) < 0
                && Integer.compareUnsigned(linear, MonitorLayout.LINEAR_BASE) < 0) {
            throw notEmulated(); // the #GP has another cause: the guest's own
        }
        if (size == 2) {
            throw new Unsupported(VirtualizationLimit.MONITOR_ADDRESS_SPACE, "a 16-bit access to the monitor's region");
        }
        int reg = (modrm >>> 3) & 7;
        switch (op) {
            case 0x8A, 0x8B, 0xA1 -> {
                int value = size == 1 ? guest.read8(linear) : guest.read32(linear);
                int target = op == 0xA1 ? Cpu.EAX : size == 1 ? reg & 3 : reg;
                int shift = size == 1 && reg >= 4 ? 8 : 0;
                int mask = size == 1 ? 0xFF << shift : -1;
                cpu.setRegister(target, (cpu.register(target) & ~mask) | (value << shift & mask));
            }
            default -> {
                int value = op == 0xC6 ? fetch() : op == 0xC7 ? fetch32()
                        : op == 0xA3 ? cpu.register(Cpu.EAX)
                        : size == 1 ? cpu.register(reg & 3) >>> (reg >= 4 ? 8 : 0) : register(reg);
                if (size == 1) {
                    guest.write8(linear, value, user);
                } else {
                    guest.write32(linear, value, user);
                }
            }
        }
        finish("MOV in the monitor's region");
    }

    private void portIo(int op, int port, boolean kernel) throws GuestFault {
        int width = (op & 1) == 0 ? 1 : operand16 ? 2 : 4;
        if (!kernel && vcpu.iopl < 3) {
            throw notEmulated(); // the guest's own TSS has no I/O bitmap the monitor honours: #GP(0) as on native
        }
        if ((op & 2) == 0) {
            int value = cpu.inPort(port, width);
            int mask = width == 4 ? -1 : (1 << (8 * width)) - 1;
            cpu.setRegister(Cpu.EAX, (cpu.register(Cpu.EAX) & ~mask) | (value & mask));
            finish("IN");
        } else {
            cpu.outPort(port, width, cpu.register(Cpu.EAX));
            finish("OUT");
        }
    }

    private void softwareInterrupt(int vector, InterruptFrame trap) throws GuestFault, Unsupported {
        if (trap.errorCode != vector * 8 + 2) {
            throw notEmulated(); // a #GP the INT did not cause through its gate's DPL
        }
        monitor.exits().emulated("INT n").increment();
        monitor.reflect(vector, GuestFault.NO_ERROR_CODE, Event.SOFTWARE, at);
    }

    /** IRET at the guest's ring 0 (SDM Vol. 2A "IRET", protected mode, same or outer privilege). */
    private void iret() throws GuestFault, Unsupported {
        if (operand16) {
            throw new Unsupported("a 16-bit IRET");
        }
        int base = stackBase(), sp = frame.esp;
        int eip = guest.read32(base + sp), cs = guest.read32(base + sp + 4) & 0xFFFF;
        int flags = guest.read32(base + sp + 8);
        if ((flags & TrapAndEmulateMonitor.VM) != 0) {
            throw new Unsupported(VirtualizationLimit.VIRTUAL_8086_MODE, "virtual-8086 mode (IRET with VM set)");
        }
        vcpu.interruptsEnabled = (flags & TrapAndEmulateMonitor.IF) != 0;
        vcpu.iopl = (flags >>> 12) & 3;
        int real = (flags & ~(TrapAndEmulateMonitor.IOPL | TrapAndEmulateMonitor.VM | 0x180000))
                | TrapAndEmulateMonitor.IF | 2;
        if ((cs & 3) == 3) {
            frame.esp = guest.read32(base + sp + 12);
            frame.ss = guest.read32(base + sp + 16) & 0xFFFF;
        } else {
            cs |= 1;
            frame.esp = sp + 12;
        }
        frame.eip = eip;
        frame.cs = cs;
        frame.eflags = real;
        monitor.exits().emulated("IRET").increment();
    }

    /** MOV/POP/LSS to SS with the checks of guest ring 0 (SDM Vol. 2B "MOV"); loaded with RPL 1. */
    private void loadStackSegment(int selector, String mnemonic) throws GuestFault {
        if ((selector & 0xFFFC) == 0) {
            throw GuestFault.gp(0);
        }
        if ((selector & 3) != 0 || (selector & 4) != 0 || (selector | 7) > vcpu.gdtLimit && vcpu.gdtLoaded) {
            throw GuestFault.gp(selector & 0xFFFC);
        }
        long d = monitor.tables().guestDescriptor(selector & 0xFFF8);
        int hi = (int) (d >>> 32);
        boolean writableData = (hi & 0x1A00) == 0x1200;
        if (vcpu.gdtLoaded && (!writableData || ((hi >>> 13) & 3) != 0)) {
            throw GuestFault.gp(selector & 0xFFFC);
        }
        if (vcpu.gdtLoaded && (hi & 0x8000) == 0) {
            throw new GuestFault(12, selector & 0xFFFC, 0);
        }
        frame.ss = selector | 1;
        finish(mnemonic);
    }

    private void loadTaskRegister(int selector) throws GuestFault {
        if ((selector & 0xFFFC) == 0) {
            throw GuestFault.gp(0);
        }
        if ((selector & 4) != 0 || (selector | 7) > vcpu.gdtLimit) {
            throw GuestFault.gp(selector & 0xFFFC);
        }
        int offset = selector & 0xFFF8;
        long d = monitor.tables().guestDescriptor(offset);
        int hi = (int) (d >>> 32), lo = (int) d;
        int type = (hi >>> 8) & 0x1F;
        if (type != 0x09 && type != 0x01) {
            throw GuestFault.gp(selector & 0xFFFC);
        }
        if ((hi & 0x8000) == 0) {
            throw new GuestFault(11, selector & 0xFFFC, 0);
        }
        hi |= 0x200; // busy
        guest.write32(vcpu.gdtBase + offset + 4, hi, false);
        vcpu.trSelector = selector;
        vcpu.trBase = (hi & 0xFF000000) | (hi & 0xFF) << 16 | (lo >>> 16);
        int limit = (hi & 0xF0000) | (lo & 0xFFFF);
        vcpu.trLimit = (hi & 0x800000) != 0 ? limit << 12 | 0xFFF : limit;
        vcpu.trAttributes = (hi >>> 8) & 0xF0FF;
        monitor.tablesChanged();
        finish("LTR");
    }

    private void loadLdt(int selector) throws GuestFault, Unsupported {
        if ((selector & 0xFFFC) != 0) {
            throw new Unsupported("a local descriptor table");
        }
        vcpu.ldt = new hvlab.hw.cpu.CpuState.SegmentRegister(selector, 0, 0, 0);
        finish("LLDT");
    }

    private void writeControlRegister(int cr, int value) throws GuestFault {
        switch (cr) {
            case 0 -> writeCr0(value);
            case 2 -> vcpu.cr2 = value;
            case 3 -> {
                vcpu.cr3 = value;
                monitor.tablesChanged(); // a new address space: the shadow starts empty, traces follow the tables
            }
            case 4 -> {
                if ((value & ~CR4_ACCEPTED) != 0) {
                    throw GuestFault.gp(0);
                }
                int changed = vcpu.cr4 ^ value;
                vcpu.cr4 = value;
                if (changed != 0) {
                    monitor.shadow().flush();
                }
            }
            default -> throw new GuestFault(6, GuestFault.NO_ERROR_CODE, 0);
        }
    }

    private void writeCr0(int value) throws GuestFault {
        value |= 0x10;
        if ((value & VirtualCpu.CR0_PG) != 0 && (value & VirtualCpu.CR0_PE) == 0
                || (value & (1 << 29)) != 0 && (value & (1 << 30)) == 0) {
            throw GuestFault.gp(0);
        }
        int changed = vcpu.cr0 ^ value;
        vcpu.cr0 = value;
        cpu.writeControlRegister(0, (cpu.cr(0) & ~CR0_MIRRORED) | (value & CR0_MIRRORED));
        if ((changed & (VirtualCpu.CR0_PG | VirtualCpu.CR0_WP)) != 0) {
            monitor.tablesChanged();
        }
    }

    // ---- decoding ----

    private GuestFault notEmulated() {
        return GuestFault.gp(frame.errorCode);
    }

    private void finish(String mnemonic) {
        frame.eip = at;
        monitor.exits().emulated(mnemonic).increment();
    }

    private int peek() throws GuestFault {
        return guest.read8(codeBase() + at);
    }

    private int fetch() throws GuestFault {
        int b = peek();
        at++;
        return b;
    }

    private int codeBase() {
        return monitor.tables().guestBase(frame.cs);
    }

    private int stackBase() {
        return monitor.tables().guestBase(frame.ss);
    }

    private int readRm16() throws GuestFault {
        if ((modrm >>> 6) == 3) {
            return register(modrm & 7) & 0xFFFF;
        }
        return guest.read16(effectiveAddress());
    }

    private int register(int index) {
        return index == Cpu.ESP ? frame.esp : cpu.register(index);
    }

    /** The linear address of a 32-bit ModRM memory operand (SDM Vol. 2A 2.1.5), segment base included. */
    private int effectiveAddress() throws GuestFault {
        int mod = modrm >>> 6, rm = modrm & 7;
        int address;
        boolean stackDefault = false;
        if (rm == 4) {
            int sib = fetch();
            int base = sib & 7, index = (sib >>> 3) & 7, scale = sib >>> 6;
            if (base == 5 && mod == 0) {
                address = fetch32();
            } else {
                address = register(base);
                stackDefault = base == Cpu.ESP || base == Cpu.EBP;
            }
            if (index != 4) {
                address += register(index) << scale;
            }
        } else if (rm == 5 && mod == 0) {
            address = fetch32();
        } else {
            address = register(rm);
            stackDefault = rm == Cpu.EBP;
        }
        if (mod == 1) {
            address += (byte) fetch();
        } else if (mod == 2) {
            address += fetch32();
        }
        int segment = segmentOverride >= 0 ? segmentOverride : stackDefault ? Cpu.SS : Cpu.DS;
        return segmentBase(segment) + address;
    }

    private int segmentBase(int segment) {
        return switch (segment) {
            case Cpu.SS -> stackBase();
            case Cpu.CS -> codeBase();
            default -> cpu.segmentBase(segment);
        };
    }

    private int fetch32() throws GuestFault {
        return fetch() | fetch() << 8 | fetch() << 16 | fetch() << 24;
    }
}

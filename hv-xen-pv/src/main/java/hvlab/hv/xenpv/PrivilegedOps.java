package hvlab.hv.xenpv;

import hvlab.hv.xenpv.Xen.DomainCrash;
import hvlab.hv.xenpv.domain.Domain;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.InterruptFrame;
import hvlab.hw.stats.Counter;
import hvlab.hw.stats.CostModel;
import hvlab.hw.stats.Counters;

/**
 * What Xen does with a #GP(0) from a PV domain before reflecting it ([X32] xen/arch/x86/traps.c,
 * emulate_privileged_op): port I/O and CLI/STI are allowed when the domain's virtual IOPL (PHYSDEVOP_set_iopl)
 * covers the ring it runs in, 1 for the kernel, 3 for its processes; MOV from and to a control register and WBINVD
 * only from the kernel: CR0 may change in TS alone (fpu_taskswitch), CR3 takes a new base table as
 * MMUEXT_NEW_BASEPTR does (new_guest_cr3), CR2 is the domain's own, and CR4 may only be written as it reads. Everything else goes back to the guest as the #GP it was. The CPU raised the #GP because the
 * real IOPL is always 0 under Xen: a guest with the real IOPL could set the real IF behind Xen's back.
 */
final class PrivilegedOps {
    private static final int OPERAND_SIZE = 0x66;
    /*
     * NO_PORTS: no domain is permitted an I/O port here (ioports_access_permitted is empty): Xen keeps the PICs, the
     * PIT, the serial console and the exit port for itself, as it denies the PICs and the PIT even to dom0.
     */
    private final Xen xen;
    private final Cpu cpu;
    private final Counter in, out, interruptFlag, controlRead, controlWrite, cacheFlush;

    PrivilegedOps(Xen xen, Counters counters) {
        this.xen = xen;
        this.cpu = xen.cpu();
        this.in = counters.counter(Counters.EXITS, CostModel.PV_EMULATION_PREFIX + "in");
        this.out = counters.counter(Counters.EXITS, CostModel.PV_EMULATION_PREFIX + "out");
        this.interruptFlag = counters.counter(Counters.EXITS, CostModel.PV_EMULATION_PREFIX + "cli/sti");
        this.controlRead = counters.counter(Counters.EXITS, CostModel.PV_EMULATION_PREFIX + "mov from cr");
        this.controlWrite = counters.counter(Counters.EXITS, CostModel.PV_EMULATION_PREFIX + "mov to cr");
        this.cacheFlush = counters.counter(Counters.EXITS, CostModel.PV_EMULATION_PREFIX + "wbinvd");
    }

    /** Emulates the instruction the #GP(0) stopped at and moves EIP past it; false when Xen reflects the #GP. */
    boolean emulate(InterruptFrame frame, Domain domain) throws DomainCrash {
        boolean kernel = (frame.cs & 3) == 1;
        boolean ioAllowed = domain.virtualIopl >= (kernel ? 1 : 3);
        int eip = frame.eip, width = 4;
        int opcode = xen.guestRead8(eip);
        if (opcode == OPERAND_SIZE) {
            width = 2;
            opcode = xen.guestRead8(++eip);
        }
        int length;
        switch (opcode) {
            case 0xE4, 0xE5, 0xEC, 0xED -> { // IN AL/eAX, imm8 or DX
                if (!ioAllowed) {
                    return false;
                }
                boolean immediate = opcode < 0xE8;
                int size = (opcode & 1) == 0 ? 1 : width;
                int mask = size == 4 ? -1 : (1 << size * 8) - 1;
                // [X32] guest_io_read: a port the domain is not permitted reads as all ones (see NO_PORTS)
                cpu.setRegister(Cpu.EAX, cpu.register(Cpu.EAX) | mask);
                in.increment();
                length = immediate ? 2 : 1;
            }
            case 0xE6, 0xE7, 0xEE, 0xEF -> { // OUT imm8 or DX, AL/eAX
                if (!ioAllowed) {
                    return false;
                }
                boolean immediate = opcode < 0xE8; // [X32] guest_io_write: dropped for a port not permitted
                out.increment();
                length = immediate ? 2 : 1;
            }
            case 0xFA, 0xFB -> { // CLI, STI: Xen leaves the event mask alone ("fast and loose", [X32] traps.c)
                if (!ioAllowed) {
                    return false;
                }
                interruptFlag.increment();
                length = 1;
            }
            case 0x0F -> {
                int second = xen.guestRead8(eip + 1);
                if (!kernel) {
                    return false;
                }
                if (second == 0x09) { // WBINVD: no domain has cache-flush permission; Xen ignores it then
                    cacheFlush.increment();
                    length = 2;
                } else if (second == 0x20) { // MOV r32, CRn
                    int modrm = xen.guestRead8(eip + 2), control = modrm >>> 3 & 7;
                    if ((modrm & 0xC0) != 0xC0 || control == 1 || control > 4) {
                        return false;
                    }
                    int value = cpu.cr(control);
                    if (control == 0) { // the virtual TS, not the real one lazy FPU switching keeps
                        value = value & ~Cpu.CR0_TS | (domain.virtualTaskSwitched ? Cpu.CR0_TS : 0);
                    }
                    cpu.setRegister(modrm & 7, value);
                    controlRead.increment();
                    length = 3;
                } else if (second == 0x22) { // MOV CRn, r32
                    int modrm = xen.guestRead8(eip + 2);
                    if ((modrm & 0xC0) != 0xC0 || !writeControlRegister(modrm >>> 3 & 7, cpu.register(modrm & 7))) {
                        return false;
                    }
                    controlWrite.increment();
                    length = 3;
                } else {
                    return false;
                }
            }
            default -> {
                return false;
            }
        }
        frame.eip = eip + length;
        return true;
    }

    /** [X32] traps.c emulate_privileged_op, MOV to CRn: false for what Xen refuses ("goto fail": the #GP). */
    private boolean writeControlRegister(int control, int value) {
        return switch (control) {
            case 0 -> { // only TS may change: do_fpu_taskswitch
                if (((value ^ cpu.cr(0)) & ~Cpu.CR0_TS) != 0) {
                    yield false;
                }
                xen.setTaskSwitched((value & Cpu.CR0_TS) != 0);
                yield true;
            }
            case 2 -> {
                xen.setGuestCr2(value);
                yield true;
            }
            case 3 -> xen.newBaseTable(value >>> 12) == 0; // xen_cr3_to_pfn; no translation for a PV domain
            case 4 -> value == (cpu.cr(4) & ~(Cpu.CR4_PGE | Cpu.CR4_PSE));
            default -> false;
        };
    }
}

package hvlab.hv.xenpv;

import hvlab.hv.xenpv.Xen.DomainCrash;
import hvlab.hv.xenpv.domain.Domain;
import hvlab.hv.xenpv.mm.MemoryManager;
import hvlab.hv.xenpv.mm.PageType;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.InterruptFrame;

import static hvlab.hv.xenpv.mm.XenErrno.EFAULT;
import static hvlab.hv.xenpv.mm.XenErrno.EINVAL;
import static hvlab.hv.xenpv.mm.XenErrno.ENOSYS;
import static hvlab.hv.xenpv.mm.XenErrno.EPERM;

/**
 * The hypercalls, by Xen's numbers, with arguments in EBX, ECX, EDX, ESI, EDI and the result in EAX
 * (../shared/reference/xen-pv-abi.md sections 1-4, 10-12). Guest pointers are virtual addresses of the calling
 * domain; one Xen cannot read is -EFAULT.
 */
final class Hypercalls {
    static final int SET_TRAP_TABLE = 0, MMU_UPDATE = 1, STACK_SWITCH = 3, SET_CALLBACKS = 4, FPU_TASKSWITCH = 5,
            UPDATE_DESCRIPTOR = 10, SET_TIMER_OP = 15, EVENT_CHANNEL_OP = 32, SET_GDT = 2, MEMORY_OP = 12,
            UPDATE_VA_MAPPING = 14, XEN_VERSION = 17, CONSOLE_IO = 18, VM_ASSIST = 21, IRET = 23, MMUEXT_OP = 26,
            SCHED_OP = 29, PHYSDEV_OP = 33;
    private static final int PHYSDEVOP_SET_IOPL = 6;
    private static final int IF = 1 << 9, IOPL = 3 << 12, VM = 1 << 17;

    private final Xen xen;
    private final Cpu cpu;

    Hypercalls(Xen xen) {
        this.xen = xen;
        this.cpu = xen.cpu();
    }

    /** Xen's name for the hypercall number ([X32] xen.h), "(none)" for an empty slot. */
    static String name(int number) {
        return switch (number) {
            case SET_TRAP_TABLE -> "set_trap_table";
            case MMU_UPDATE -> "mmu_update";
            case STACK_SWITCH -> "stack_switch";
            case SET_CALLBACKS -> "set_callbacks";
            case SET_GDT -> "set_gdt";
            case MEMORY_OP -> "memory_op";
            case FPU_TASKSWITCH -> "fpu_taskswitch";
            case UPDATE_DESCRIPTOR -> "update_descriptor";
            case UPDATE_VA_MAPPING -> "update_va_mapping";
            case XEN_VERSION -> "xen_version";
            case CONSOLE_IO -> "console_io";
            case VM_ASSIST -> "vm_assist";
            case IRET -> "iret";
            case MMUEXT_OP -> "mmuext_op";
            case SCHED_OP -> "sched_op";
            case SET_TIMER_OP -> "set_timer_op";
            case EVENT_CHANNEL_OP -> "event_channel_op";
            case PHYSDEV_OP -> "physdev_op";
            default -> "(none)";
        };
    }

    int call(int number) throws DomainCrash {
        int a1 = cpu.register(Cpu.EBX), a2 = cpu.register(Cpu.ECX), a3 = cpu.register(Cpu.EDX);
        int a4 = cpu.register(Cpu.ESI);
        try {
            return switch (number) {
                case SET_TRAP_TABLE -> setTrapTable(a1);
                case MMU_UPDATE -> mmuUpdate(a1, a2, a3, a4);
                case STACK_SWITCH -> stackSwitch(a1, a2);
                case SET_CALLBACKS -> setCallbacks(a1, a2, a3, a4);
                case FPU_TASKSWITCH -> fpuTaskSwitch(a1);
                case UPDATE_DESCRIPTOR -> updateDescriptor(a1, a2, a3, a4);
                case SET_GDT -> setGdt(a1, a2);
                case MEMORY_OP -> memoryOp(a1, a2);
                case UPDATE_VA_MAPPING -> updateVaMapping(a1, a2, a4);
                case XEN_VERSION -> a1 == 0 ? 3 << 16 | 2 : ENOSYS; // XENVER_version: 3.2
                case CONSOLE_IO -> consoleIo(a1, a2, a3);
                case VM_ASSIST -> a1 == 0 || a1 == 1 ? (a2 >= 0 && a2 < 32 ? 0 : EINVAL) : EINVAL;
                case IRET -> iret();
                case MMUEXT_OP -> mmuextOp(a1, a2, a3, a4);
                case SCHED_OP -> schedOp(a1, a2);
                case SET_TIMER_OP -> {
                    xen.setTimer((a1 & 0xFFFFFFFFL) | (long) a2 << 32);
                    yield 0;
                }
                case EVENT_CHANNEL_OP -> eventChannelOp(a1, a2);
                case PHYSDEV_OP -> physdevOp(a1, a2);
                default -> ENOSYS;
            };
        } catch (GuestPointer unreadable) {
            return EFAULT;
        }
    }

    /** A guest pointer Xen could not follow. */
    private static final class GuestPointer extends Exception {
        GuestPointer() {
            super(null, null, false, false);
        }
    }

    private int read32(int virtual) throws GuestPointer {
        try {
            return xen.guestRead32(virtual);
        } catch (DomainCrash unmapped) {
            throw new GuestPointer();
        }
    }

    private int read8(int virtual) throws GuestPointer {
        try {
            return xen.guestRead8(virtual);
        } catch (DomainCrash unmapped) {
            throw new GuestPointer();
        }
    }

    private void write32(int virtual, int value) throws GuestPointer {
        try {
            xen.guestWrite32(virtual, value);
        } catch (DomainCrash unmapped) {
            throw new GuestPointer();
        }
    }

    /** Entries of struct trap_info until one with address 0; a NULL table clears all ([X32] do_set_trap_table). */
    private int setTrapTable(int table) throws GuestPointer {
        Domain d = xen.domain();
        if (table == 0) {
            java.util.Arrays.fill(d.trapAddress, 0);
            xen.updateSystemCallGate();
            return 0;
        }
        for (int at = table; ; at += 8) {
            int head = read32(at), address = read32(at + 4);
            if (address == 0) {
                xen.updateSystemCallGate();
                return 0;
            }
            int vector = head & 0xFF, selector = head >>> 16;
            if ((selector & ~3) != (XenLayout.KERNEL_CS & ~3)) {
                return EPERM; // a handler must run in the guest kernel's ring-1 code segment, never ring 0 ([X30])
            }
            d.trapFlags[vector] = (head >>> 8) & 0xFF;
            d.trapSelector[vector] = selector | 1;
            d.trapAddress[vector] = address;
        }
    }

    /**
     * set_gdt(frames, entries) ([X32] mm.c set_gdt): up to 7168 entries (Xen's own page follows), each of the
     * frames the domain's and validated as a descriptor table; Xen's GDT then holds their checked descriptors. Any
     * failure leaves the old GDT in place.
     */
    private int setGdt(int frameList, int entries) throws GuestPointer {
        Domain d = xen.domain();
        if (entries < 0 || entries > 7168) {
            return EINVAL;
        }
        int[] frames = new int[(entries + 511) / 512];
        for (int i = 0; i < frames.length; i++) {
            frames[i] = read32(frameList + i * 4);
        }
        for (int i = 0; i < frames.length; i++) {
            if (!xen.mm().getDescriptorTable(d.id, frames[i])) {
                for (int k = 0; k < i; k++) {
                    xen.mm().putDescriptorTable(frames[k]);
                }
                return EINVAL;
            }
        }
        for (int old : d.gdtFrames) {
            xen.mm().putDescriptorTable(old);
        }
        int previous = d.gdtEntries;
        d.gdtFrames = frames;
        d.gdtEntries = entries;
        for (int i = 0; i < Math.max(entries, previous); i++) {
            xen.installGuestDescriptor(i, i < entries ? frames[i / 512] << 12 | (i % 512) * 8 : -1);
        }
        return 0;
    }

    /** update_descriptor: checked, and copied into Xen's GDT when the frame is part of the installed GDT. */
    private int updateDescriptor(int addressLow, int addressHigh, int lo, int hi) {
        Domain d = xen.domain();
        if (addressHigh != 0) {
            return EINVAL;
        }
        int result = xen.mm().updateDescriptor(d.id, addressLow, lo, hi);
        if (result == 0) {
            for (int i = 0; i < d.gdtFrames.length; i++) {
                int index = i * 512 + (addressLow & 0xFFF) / 8;
                if (d.gdtFrames[i] == addressLow >>> 12 && index < d.gdtEntries) {
                    xen.installGuestDescriptor(index, addressLow & ~7);
                }
            }
        }
        return result;
    }

    /**
     * memory_op ([X32] common/memory.c): the reservation, fixed at creation with a maximum; the guest may give
     * pages back (decrease_reservation) and claim them again up to the maximum (increase_reservation): the
     * balloon. Results are extents done, not errors, as Xen's are.
     */
    private int memoryOp(int command, int argument) throws GuestPointer {
        Domain d = xen.domain();
        return switch (command & 0xF) {
            case 0, 1 -> {
                int list = read32(argument), extents = read32(argument + 4), order = read32(argument + 8);
                int domid = read32(argument + 16) & 0xFFFF;
                if (order != 0 || domid != 0x7FF0 && domid != d.id) {
                    yield 0;
                }
                int done = 0;
                for (; done < extents; done++) {
                    if ((command & 0xF) == 1) {
                        int mfn = read32(list + done * 4);
                        if (!xen.mm().frames().release(mfn, d.id)) {
                            break;
                        }
                        d.currentPages--;
                    } else {
                        int mfn = d.currentPages < d.maximumPages ? xen.allocateFrame(d.id) : -1;
                        if (mfn < 0) {
                            break;
                        }
                        d.currentPages++;
                        write32(list + done * 4, mfn);
                    }
                }
                yield done;
            }
            case 2 -> xen.memory().ramSize() / 4096 - 1;
            case 3, 4 -> {
                int domid = read32(argument) & 0xFFFF;
                if (domid != 0x7FF0 && domid != d.id) {
                    yield -3; // ESRCH: other domains are not this one's business
                }
                yield (command & 0xF) == 3 ? d.currentPages : d.maximumPages;
            }
            default -> ENOSYS;
        };
    }

    /** The ring-1 stack for entries from ring 3: SS's RPL raised to 1, no other check ([X32] x86_32/mm.c). */
    private int stackSwitch(int ss, int esp) {
        xen.setKernelStack(ss | 1, esp);
        return 0;
    }

    /** The virtual CR0.TS, mirrored into the real one: the guest's next FPU instruction raises #NM, bounced. */
    private int fpuTaskSwitch(int set) {
        xen.setTaskSwitched(set != 0);
        return 0;
    }

    private int setCallbacks(int eventCs, int eventEip, int failsafeCs, int failsafeEip) {
        Domain d = xen.domain();
        d.eventSelector = eventCs | 1;
        d.eventAddress = eventEip;
        d.failsafeSelector = failsafeCs | 1;
        d.failsafeAddress = failsafeEip;
        return 0;
    }

    /** CONSOLEIO_write: the bytes go to the machine's console ([X32] drivers/char/console.c). */
    private int consoleIo(int command, int count, int buffer) throws GuestPointer {
        if (command != 0) {
            return command == 1 ? 0 : ENOSYS; // CONSOLEIO_read: no input for a domain yet
        }
        if (count < 0) {
            return EINVAL;
        }
        for (int k = 0; k < count; k++) {
            xen.consoleWrite(read8(buffer + k));
        }
        return 0;
    }

    /** physdev_op: PHYSDEVOP_set_iopl sets the virtual IOPL (struct physdev_set_iopl: u32 iopl, at most 3). */
    private int physdevOp(int command, int argument) throws GuestPointer {
        if (command != PHYSDEVOP_SET_IOPL) {
            return ENOSYS;
        }
        int iopl = read32(argument);
        if (iopl < 0 || iopl > 3) {
            return EINVAL;
        }
        xen.domain().virtualIopl = iopl;
        return 0;
    }

    /**
     * SCHEDOP_yield (0), SCHEDOP_block (1), SCHEDOP_shutdown (2) with struct sched_shutdown { reason }, SCHEDOP_poll
     * (3) with struct sched_poll { ports, nr_ports, timeout u64 } ([X32] public/sched.h).
     */
    private int schedOp(int command, int argument) throws GuestPointer {
        return switch (command) {
            case 0 -> {
                xen.yield();
                yield 0;
            }
            case 1 -> {
                xen.block();
                yield 0;
            }
            case 2 -> {
                xen.shutdown(read32(argument));
                yield 0;
            }
            case 3 -> poll(argument);
            default -> ENOSYS;
        };
    }

    /** At most this many ports per SCHEDOP_poll ([X32] common/schedule.c do_poll: more is -EINVAL). */
    private static final int MAX_POLL_PORTS = 128;

    private int poll(int argument) throws GuestPointer {
        int list = read32(argument), count = read32(argument + 4);
        long timeout = (read32(argument + 8) & 0xFFFFFFFFL) | (long) read32(argument + 12) << 32;
        if (count < 0 || count > MAX_POLL_PORTS) {
            return EINVAL;
        }
        int[] ports = new int[count];
        for (int i = 0; i < count; i++) {
            ports[i] = read32(list + i * 4);
        }
        xen.poll(ports, timeout);
        return 0;
    }

    /**
     * event_channel_op(cmd, arg): bind_interdomain (0), bind_virq (1), close (3), send (4), alloc_unbound (6),
     * unmask (9) ([X32] event_channel.h). A refused operation on an interdomain or unbound port is counted: a
     * domain reaching for another's channel.
     */
    private int eventChannelOp(int command, int argument) throws GuestPointer {
        hvlab.hv.xenpv.events.EventChannels events = xen.domain().events;
        int result = switch (command) {
            case 0 -> {
                int port = events.bindInterdomain(read32(argument) & 0xFFFF, read32(argument + 4));
                if (port < 0) {
                    yield port;
                }
                write32(argument + 8, port);
                yield 0;
            }
            case 6 -> {
                int domains = read32(argument);
                int port = events.allocUnbound(domains & 0xFFFF, domains >>> 16);
                if (port < 0) {
                    yield port;
                }
                write32(argument + 4, port);
                yield 0;
            }
            default -> eventChannelOpOnPort(events, command, argument);
        };
        if (result < 0 && (command == 0 || command == 6 || command == 4)) {
            xen.refusedEventChannelOps.increment();
        }
        return result;
    }

    private int eventChannelOpOnPort(hvlab.hv.xenpv.events.EventChannels events, int command, int argument)
            throws GuestPointer {
        return switch (command) {
            case 1 -> {
                int port = events.bindVirq(read32(argument), read32(argument + 4));
                if (port < 0) {
                    yield port;
                }
                write32(argument + 8, port);
                yield 0;
            }
            case 2 -> EPERM; // bind_pirq: no domain is permitted a physical IRQ here ([X32] evtchn_bind_pirq, NO_PORTS)
            case 3 -> events.close(read32(argument));
            case 4 -> events.send(read32(argument));
            case 9 -> events.unmask(read32(argument));
            default -> ENOSYS;
        };
    }

    /** The iret hypercall: EAX, EIP, CS, EFLAGS, [ESP, SS] on the guest stack ([X32] x86_32/traps.c do_iret). */
    private int iret() throws GuestPointer, DomainCrash {
        InterruptFrame frame = xen.frame;
        int sp = frame.esp;
        int eax = read32(sp), eip = read32(sp + 4), cs = read32(sp + 8) & 0xFFFF, flags = read32(sp + 12);
        if ((flags & VM) != 0) {
            return EINVAL; // virtual-8086 returns, where CS is a real-mode segment (checked first, as do_iret): not yet
        }
        if ((cs & 3) == 0) {
            throw new DomainCrash("iret to ring 0");
        }
        xen.memory().writeU8((xen.domain().sharedInfoFrame << 12) + 1, (flags & IF) != 0 ? 0 : 1);
        frame.eip = eip;
        frame.cs = cs;
        frame.eflags = (flags & ~IOPL) | IF;
        if ((cs & 3) != 1) {
            frame.esp = read32(sp + 16);
            frame.ss = read32(sp + 20) & 0xFFFF;
        } else {
            frame.esp = sp + 16;
        }
        return eax;
    }

    /** mmu_update: checked writes in order, stopping at the first failure; *pdone = how many succeeded. */
    private int mmuUpdate(int requests, int count, int done, int foreign) throws GuestPointer {
        if (foreign != 0x7FF0 && foreign != 0) {
            return -3; // ESRCH: no foreign domains yet
        }
        int result = batch(count, done, i -> {
            int pointer = read32(requests + i * 16), valueLow = read32(requests + i * 16 + 8);
            if (read32(requests + i * 16 + 4) != 0) {
                return EINVAL;
            }
            return switch (pointer & 3) {
                case 0, 2 -> xen.mm().updateEntry(xen.domain().id, pointer & ~3, valueLow);
                case 1 -> machphysUpdate(pointer >>> 12, valueLow);
                default -> ENOSYS;
            };
        });
        flushTlb();
        return result;
    }

    /** One request of a batched hypercall: 0 or an error. */
    @FunctionalInterface
    private interface Request {
        int apply(int index) throws GuestPointer;
    }

    /**
     * A batch as mmu_update and mmuext_op run it ([X32] do_mmu_update): in order, stopping at the first failure,
     * earlier requests left applied, the number done stored at {@code done} when it is not NULL. Bit 31 of the
     * count marks a continuation and is ignored.
     */
    private int batch(int count, int done, Request request) throws GuestPointer {
        int applied = 0, result = 0;
        for (int i = 0; i < (count & 0x7FFFFFFF); i++) {
            result = request.apply(i);
            if (result != 0) {
                break;
            }
            applied++;
        }
        if (done != 0) {
            write32(done, applied);
        }
        return result;
    }

    private int machphysUpdate(int mfn, int pfn) {
        if (!xen.mm().frames().exists(mfn) || xen.mm().frames().owner(mfn) != xen.domain().id) {
            return EINVAL;
        }
        xen.memory().writeU32(xen.layout().physical(XenLayout.M2P) + mfn * 4, pfn);
        return 0;
    }

    /** update_va_mapping: the L1 entry of {@code va} in the current tables, checked, then the flush asked for. */
    private int updateVaMapping(int va, int value, int flags) {
        if (Integer.compareUnsigned(va, XenLayout.HYPERVISOR_VIRT_START) >= 0) {
            return EINVAL;
        }
        int pde = xen.memory().readU32((cpu.cr(3) & ~0xFFF) + (va >>> 22) * 4);
        if ((pde & 1) == 0) {
            return EINVAL;
        }
        int result = xen.mm().updateEntry(xen.domain().id, (pde & ~0xFFF) + ((va >>> 12) & 0x3FF) * 4, value);
        if (result == 0) {
            switch (flags & 3) {
                case 1 -> flushTlb();
                case 2 -> cpu.invalidatePage(va);
                default -> cpu.invalidatePage(va); // the model's TLB must not keep what the tables no longer say
            }
        }
        return result;
    }

    /** mmuext_op: 12-byte ops, run as a batch. */
    private int mmuextOp(int ops, int count, int done, int foreign) throws GuestPointer {
        Domain d = xen.domain();
        MemoryManager mm = xen.mm();
        return batch(count, done, i -> {
            int command = read32(ops + i * 12), argument = read32(ops + i * 12 + 4);
            return switch (command) {
                case 0 -> mm.pin(d.id, argument, PageType.L1_PAGE_TABLE);
                case 1 -> mm.pin(d.id, argument, PageType.L2_PAGE_TABLE);
                case 2, 3 -> 0; // L3/L4 pins: ignored on a two-level Xen
                case 4 -> mm.unpin(d.id, argument);
                case 5 -> xen.newBaseTable(argument);
                case 6, 8, 10 -> {
                    flushTlb();
                    yield 0;
                }
                case 7, 9, 11 -> {
                    cpu.invalidatePage(argument);
                    yield 0;
                }
                default -> ENOSYS;
            };
        });
    }

    private void flushTlb() {
        cpu.writeControlRegister(3, cpu.cr(3));
    }
}

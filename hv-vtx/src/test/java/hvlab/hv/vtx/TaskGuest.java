package hvlab.hv.vtx;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * A small Multiboot kernel written byte by byte for task-switch tests under vtx: it loads its own GDT (flat code 08H
 * and data 10H, TSS A 18H for itself, TSS B 20H and TSS C 30H for two ring-0 tasks), an IDT whose gates all lead to a
 * HLT stub per vector, takes task A with LTR and runs the test's code with interrupts off. Tasks B and C start on a
 * HLT (B may run other code), each on its own stack. A test changes descriptors and TSS fields before it runs.
 */
final class TaskGuest {
    static final int BASE = 0x100000;
    static final int CODE = BASE + 0x40, GDTR = BASE + 0x3F0, IDTR = BASE + 0x3F8, GDT = BASE + 0x400,
            IDT = BASE + 0x800, TSS_A = BASE + 0x1000, TSS_B = BASE + 0x1100, TSS_C = BASE + 0x1200,
            STUBS = BASE + 0x2000, TASK_B_CODE = BASE + 0x3000, TASK_C_CODE = BASE + 0x3010,
            PAGE_DIRECTORY = BASE + 0x4000, STACK_A = BASE + 0x6000, STACK_B = BASE + 0x7000,
            STACK_C = BASE + 0x8000;
    static final int CODE0 = 0x08, DATA0 = 0x10, SEL_A = 0x18, SEL_B = 0x20, SEL_C = 0x30;
    private static final int SIZE = 0x8000;

    private final ByteBuffer image = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteArrayOutputStream code = new ByteArrayOutputStream();

    TaskGuest() {
        int flags = 1 << 16; // address fields (Multiboot 0.6.96 3.1.3)
        image.putInt(0, 0x1BADB002).putInt(4, flags).putInt(8, -(0x1BADB002 + flags));
        image.putInt(12, BASE).putInt(16, BASE).putInt(20, 0).putInt(24, 0).putInt(28, CODE);
        descriptor(GDT + CODE0, 0x00CF9A00, 0x0000FFFF);
        descriptor(GDT + DATA0, 0x00CF9200, 0x0000FFFF);
        tssDescriptor(SEL_A, TSS_A);
        tssDescriptor(SEL_B, TSS_B);
        tssDescriptor(SEL_C, TSS_C);
        image.putShort(GDTR - BASE, (short) 0x7F).putInt(GDTR + 2 - BASE, GDT);
        image.putShort(IDTR - BASE, (short) 0x7FF).putInt(IDTR + 2 - BASE, IDT);
        for (int vector = 0; vector < 256; vector++) {
            put8(stub(vector), 0xF4);
            descriptor(IDT + vector * 8, stub(vector) & 0xFFFF0000 | 0x8E00, CODE0 << 16 | stub(vector) & 0xFFFF);
        }
        task(TSS_B, TASK_B_CODE, STACK_B);
        task(TSS_C, TASK_C_CODE, STACK_C);
        put8(TASK_B_CODE, 0xF4);
        put8(TASK_C_CODE, 0xF4);
        // lgdt [GDTR]; lidt [IDTR]; mov eax, 10H; mov ds/es/ss/fs/gs, eax; mov esp, STACK_A; mov eax, 18H; ltr ax
        emit("0f 01 15").emit32(GDTR).emit("0f 01 1d").emit32(IDTR).emit("b8 10 00 00 00  8e d8  8e c0  8e d0"
                + "  8e e0  8e e8  bc").emit32(STACK_A).emit("b8 18 00 00 00  0f 00 d8");
    }

    /** The HLT stub the IDT gate of {@code vector} leads to. */
    static int stub(int vector) {
        return STUBS + vector * 4;
    }

    /** Appends code after what is there; the kernel's code ends with a HLT when it is built. */
    TaskGuest emit(String hex) {
        code.writeBytes(HexFormat.ofDelimiter(" ").parseHex(hex.trim().replaceAll(" +", " ")));
        return this;
    }

    TaskGuest emit32(int value) {
        for (int k = 0; k < 4; k++) {
            code.write(value >>> 8 * k);
        }
        return this;
    }

    /** The address the next emitted byte will have. */
    int here() {
        return CODE + code.size();
    }

    /** Turns on 32-bit paging with one 4 MiB identity page (0-4 MiB): the rest of the linear space is not present. */
    TaskGuest paging() {
        image.putInt(PAGE_DIRECTORY - BASE, 0x83);
        // mov eax, PAGE_DIRECTORY; mov cr3, eax; mov eax, cr4; or eax, PSE; mov cr4, eax; mov eax, cr0;
        // or eax, PG; mov cr0, eax
        return emit("b8").emit32(PAGE_DIRECTORY).emit("0f 22 d8  0f 20 e0  83 c8 10  0f 22 e0  0f 20 c0"
                + "  0d 00 00 00 80  0f 22 c0");
    }

    /** Code or data at {@code address}, in hex. */
    TaskGuest bytesAt(int address, String hex) {
        image.put(address - BASE, HexFormat.ofDelimiter(" ").parseHex(hex.trim().replaceAll(" +", " ")));
        return this;
    }

    TaskGuest put8(int address, int value) {
        image.put(address - BASE, (byte) value);
        return this;
    }

    TaskGuest put32(int address, int value) {
        image.putInt(address - BASE, value);
        return this;
    }

    TaskGuest descriptor(int address, int hi, int lo) {
        return put32(address, lo).put32(address + 4, hi);
    }

    /** An available 32-bit TSS descriptor in the GDT. */
    TaskGuest tssDescriptor(int selector, int base) {
        return descriptor(GDT + selector, base & 0xFF000000 | 0x8900 | base >>> 16 & 0xFF, base << 16 | 0x67);
    }

    /** A task gate in the IDT. */
    TaskGuest taskGate(int vector, int tssSelector) {
        return descriptor(IDT + vector * 8, 0x8500, tssSelector << 16);
    }

    /** A ring-0 task: flat segments, interrupts off, no LDT, no I/O bit map. */
    private void task(int tss, int eip, int esp) {
        put32(tss + 0x20, eip).put32(tss + 0x24, 2).put32(tss + 0x38, esp);
        put32(tss + 0x4C, CODE0);
        for (int offset : new int[] {0x48, 0x50, 0x54, 0x58, 0x5C}) {
            put32(tss + offset, DATA0);
        }
        image.putShort(tss + 0x66 - BASE, (short) 0x68);
    }

    /** Boots the kernel under vtx in {@code mode} and runs it until it stops. */
    Run run(MemoryMode mode) throws BootImageException {
        byte[] body = code.toByteArray();
        image.put(CODE - BASE, body).put(CODE - BASE + body.length, (byte) 0xF4);
        Machine machine = Machine.builder().ramBytes(64 << 20).build();
        Hypervisor vtx = new VtxProvider(mode).create(new MachineHostContext(machine, machine.description(),
                System.getLogger("vtx")));
        vtx.boot(new GuestImage.Multiboot("tasks.elf", image.array(), ""));
        RunOutcome outcome = vtx.run(1_000_000);
        return new Run(machine, vtx, outcome, vtx.guestCpuState().orElseThrow());
    }

    record Run(Machine machine, Hypervisor vtx, RunOutcome outcome, CpuState guest) implements AutoCloseable {
        int read32(int address) {
            return new MachineHostContext(machine, machine.description(), System.getLogger("vtx")).memory()
                    .readU32(address);
        }

        /** The type of a GDT descriptor (9 an available, 11 a busy 32-bit TSS). */
        int descriptorType(int selector) {
            return read32(GDT + selector + 4) >>> 8 & 0xF;
        }

        /** A dword on the guest's stack. */
        int stack(int index) {
            return read32(guest.general().esp() + 4 * index);
        }

        long count(String family, String key) {
            return machine.statistics().stream().filter(v -> v.family().equals(family) && v.key().equals(key))
                    .mapToLong(v -> v.value()).sum();
        }

        @Override
        public void close() throws Exception {
            vtx.close();
            machine.close();
        }
    }
}

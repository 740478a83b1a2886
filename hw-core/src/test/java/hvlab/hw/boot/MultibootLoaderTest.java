package hvlab.hw.boot;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MultibootLoaderTest {
    private static final int RAM = 64 << 20;
    private static final int KERNEL = 0x10_0000;

    private final PhysicalMemory memory = new PhysicalMemory(RAM, new MmioBus());

    /** A recognisable byte pattern, different per seed. */
    static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 7 + seed * 31 + 1);
        }
        return bytes;
    }

    private static byte[] simpleKernel() {
        return new Elf32Builder().load(KERNEL, pattern(0x200, 1), 0x1000).entry(KERNEL).build();
    }

    private byte[] ram(long address, int length) {
        return Arrays.copyOfRange(memory.ram(), (int) address, (int) address + length);
    }

    private String cString(int address) {
        int end = address;
        while (memory.readU8(end) != 0) {
            end++;
        }
        return new String(ram(address, end - address), StandardCharsets.UTF_8);
    }

    private long readU64(int address) {
        return Integer.toUnsignedLong(memory.readU32(address)) | (long) memory.readU32(address + 4) << 32;
    }

    @Test
    @DisplayName("ELF (Multiboot 0.6.96 §3.1.2 bit 16): PT_LOAD segments land at p_paddr, BSS zeroed, nothing else touched")
    void loadsElfSegmentsAtTheirPhysicalAddressesWithBssZeroed() throws Exception {
        Arrays.fill(memory.ram(), (byte) 0xCC);
        byte[] text = pattern(0x300, 1);
        byte[] data = pattern(0x80, 2);
        byte[] image = new Elf32Builder()
                .load(KERNEL, text, 0x300)
                .load(0x10_1000, data, 0x2000)
                .entry(KERNEL + 0x10)
                .build();

        BootState state = MultibootLoader.load(memory, "kernel.elf", image, "kernel.elf");

        assertThat(ram(KERNEL, 0x300)).isEqualTo(text);
        assertThat(ram(0x10_1000, 0x80)).isEqualTo(data);
        assertThat(ram(0x10_1080, 0x2000 - 0x80)).containsOnly(0);
        assertThat(memory.readU8(KERNEL + 0x300)).isEqualTo(0xCC);
        assertThat(memory.readU8(0x10_3000)).isEqualTo(0xCC);
        assertThat(state.eip()).isEqualTo(KERNEL + 0x10);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.2 machine state: EAX magic, EBX info, flat protected mode, paging and IF off, A20 on")
    void entersWithTheMultibootMachineState() throws Exception {
        BootState state = MultibootLoader.load(memory, "kernel.elf", simpleKernel(), "kernel.elf");

        assertThat(state.eax()).isEqualTo(0x2BADB002);
        assertThat(state.ebx()).isEqualTo(MultibootLoader.INFO_AREA_START).isEqualTo(0x9000);
        assertThat(state.protectedMode()).isTrue();
        assertThat(state.pagingEnabled()).isFalse();
        assertThat(state.interruptsEnabled()).isFalse();
        assertThat(state.eflags() & BootState.EFLAGS_VM).isZero();
        assertThat(state.a20Enabled()).isTrue();
        assertThat(state.code()).isEqualTo(new BootState.Segment(0x08, 0, 0xFFFF_FFFF, 0xB));
        assertThat(state.data()).isEqualTo(new BootState.Segment(0x10, 0, 0xFFFF_FFFF, 0x3));
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 flags: mem, cmdline, mods, mmap and boot_loader_name present; boot_device absent")
    void infoFlagsSayWhichFieldsArePresent() throws Exception {
        BootState state = MultibootLoader.load(memory, "kernel.elf", simpleKernel(), "kernel.elf");

        int flags = memory.readU32(state.ebx());
        assertThat(flags).isEqualTo(1 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 9);
        assertThat(flags & 1 << 1).as("boot_device").isZero();
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 mem_lower/mem_upper: 639 KiB low, KiB from 1 MiB to the end of RAM")
    void memoryBoundsAreInKibibytes() throws Exception {
        BootState state = MultibootLoader.load(memory, "kernel.elf", simpleKernel(), "kernel.elf");

        assertThat(memory.readU32(state.ebx() + 4)).isEqualTo(639);
        assertThat(memory.readU32(state.ebx() + 8)).isEqualTo((RAM - (1 << 20)) / 1024);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 mem_upper and mmap of a kernel told of part of the RAM (a hypervisor's guest)")
    void aKernelToldOfPartOfTheRamSeesOnlyThatPart() throws Exception {
        int guestRam = RAM - (4 << 20);
        BootState state = MultibootLoader.load(memory, "kernel.elf", simpleKernel(), "kernel.elf", List.of(), guestRam);

        assertThat(memory.readU32(state.ebx() + 8)).isEqualTo((guestRam - (1 << 20)) / 1024);
        int last = memory.readU32(state.ebx() + 48) + 3 * 24;
        assertThat(readU64(last + 4) + readU64(last + 12)).as("the end of the last RAM range").isEqualTo(guestRam);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 cmdline: the caller's string, NUL-terminated")
    void passesTheCommandLine() throws Exception {
        BootState state = MultibootLoader.load(memory, "kernel.elf", simpleKernel(), "kernel.elf console=ttyS0 quiet");

        assertThat(cString(memory.readU32(state.ebx() + 16))).isEqualTo("kernel.elf console=ttyS0 quiet");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 boot_loader_name: \"hvlab\"")
    void namesTheBootLoader() throws Exception {
        BootState state = MultibootLoader.load(memory, "kernel.elf", simpleKernel(), "kernel.elf");

        assertThat(cString(memory.readU32(state.ebx() + 64))).isEqualTo("hvlab");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 mmap: E820 entries with size 20: low RAM, EBDA, BIOS ROM, RAM above 1 MiB")
    void memoryMapDescribesThePc() throws Exception {
        BootState state = MultibootLoader.load(memory, "kernel.elf", simpleKernel(), "kernel.elf");

        int length = memory.readU32(state.ebx() + 44);
        int address = memory.readU32(state.ebx() + 48);
        assertThat(length).isEqualTo(4 * 24);
        long[][] expected = {
                {0, 0x9FC00, 1},
                {0x9FC00, 0x400, 2},
                {0xF0000, 0x10000, 2},
                {0x10_0000, RAM - 0x10_0000, 1}};
        for (long[] entry : expected) {
            assertThat(memory.readU32(address)).as("size").isEqualTo(20);
            assertThat(readU64(address + 4)).as("base_addr").isEqualTo(entry[0]);
            assertThat(readU64(address + 12)).as("length").isEqualTo(entry[1]);
            assertThat(memory.readU32(address + 20)).as("type").isEqualTo((int) entry[2]);
            address += memory.readU32(address) + 4;
        }
        assertThat(address).isEqualTo(memory.readU32(state.ebx() + 48) + length);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 mmap and mem_upper with 1 MiB of RAM: no upper memory entry, mem_upper 0")
    void smallestRamHasNoUpperMemory() throws Exception {
        PhysicalMemory small = new PhysicalMemory(1 << 20, new MmioBus());
        byte[] image = new Elf32Builder().load(0x2_0000, pattern(0x100, 3), 0x100).entry(0x2_0000).build();

        BootState state = MultibootLoader.load(small, "low.elf", image, "low.elf");

        assertThat(small.readU32(state.ebx() + 8)).isZero();
        assertThat(small.readU32(state.ebx() + 44)).isEqualTo(3 * 24);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 mods: page-aligned after the kernel's BSS, mod_end exclusive, each with its string")
    void placesModulesAfterTheKernel() throws Exception {
        byte[] image = new Elf32Builder().load(KERNEL, pattern(0x100, 1), 0x2345).entry(KERNEL).build();
        byte[] initrd = pattern(0x1801, 4);
        byte[] config = pattern(10, 5);

        BootState state = MultibootLoader.load(memory, "kernel.elf", image, "kernel.elf",
                List.of(new BootModule("initrd.img root=/dev/ram0", initrd), new BootModule("config.txt", config)));

        assertThat(memory.readU32(state.ebx() + 20)).as("mods_count").isEqualTo(2);
        int list = memory.readU32(state.ebx() + 24);
        assertThat(memory.readU32(list)).isEqualTo(0x10_3000);
        assertThat(memory.readU32(list + 4)).isEqualTo(0x10_3000 + initrd.length);
        assertThat(cString(memory.readU32(list + 8))).isEqualTo("initrd.img root=/dev/ram0");
        assertThat(memory.readU32(list + 12)).as("reserved").isZero();
        assertThat(memory.readU32(list + 16)).isEqualTo(0x10_5000);
        assertThat(memory.readU32(list + 20)).isEqualTo(0x10_5000 + config.length);
        assertThat(cString(memory.readU32(list + 24))).isEqualTo("config.txt");
        assertThat(ram(0x10_3000, initrd.length)).isEqualTo(initrd);
        assertThat(ram(0x10_5000, config.length)).isEqualTo(config);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 mods: a kernel below 1 MiB still gets its modules from 1 MiB on")
    void modulesOfALowKernelGoAboveOneMebibyte() throws Exception {
        byte[] image = new Elf32Builder().load(0x2_0000, pattern(0x100, 1), 0x100).entry(0x2_0000).build();

        BootState state = MultibootLoader.load(memory, "low.elf", image, "low.elf",
                List.of(new BootModule("m", pattern(16, 2))));

        assertThat(memory.readU32(memory.readU32(state.ebx() + 24))).isEqualTo(0x10_0000);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 mods: without modules mods_count is 0")
    void noModules() throws Exception {
        BootState state = MultibootLoader.load(memory, "kernel.elf", simpleKernel(), "kernel.elf");

        assertThat(memory.readU32(state.ebx() + 20)).isZero();
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2: the video bit 2 is accepted and left unanswered; unknown optional bits are ignored")
    void acceptsVideoAndUnknownOptionalFlags() throws Exception {
        int flags = MultibootHeaderBuilder.MEMORY_INFO | MultibootHeaderBuilder.VIDEO_MODE | 1 << 20;
        byte[] image = new Elf32Builder()
                .multibootHeader(new MultibootHeaderBuilder().flags(flags).build())
                .load(KERNEL, pattern(0x100, 1), 0x100).entry(KERNEL).build();

        BootState state = MultibootLoader.load(memory, "kernel.elf", image, "kernel.elf");

        assertThat(memory.readU32(state.ebx()) & (1 << 11 | 1 << 12)).as("VBE and framebuffer info").isZero();
    }

    @Test
    @DisplayName("ELF entry (Multiboot 0.6.96 §3.2, paging off): a higher-half e_entry is moved to its segment's p_paddr")
    void higherHalfEntryBecomesPhysical() throws Exception {
        byte[] text = pattern(0x400, 6);
        byte[] image = new Elf32Builder()
                .load(0xC010_0000, KERNEL, text, 0x1000)
                .entry(0xC010_0020)
                .build();

        BootState state = MultibootLoader.load(memory, "high.elf", image, "high.elf");

        assertThat(state.eip()).isEqualTo(KERNEL + 0x20);
        assertThat(ram(KERNEL, text.length)).isEqualTo(text);
    }

    @Test
    @DisplayName("ELF: program headers other than PT_LOAD, and PT_LOAD with p_memsz 0, load nothing")
    void ignoresNonLoadAndEmptySegments() throws Exception {
        byte[] image = new Elf32Builder()
                .programHeader(new Elf32Builder.ProgramHeader(Elf32Builder.PT_NOTE, 0xA0000, 0xA0000, pattern(8, 1), 8))
                .load(0x5000, new byte[0], 0)
                .load(KERNEL, pattern(0x100, 1), 0x100)
                .entry(KERNEL)
                .build();

        BootState state = MultibootLoader.load(memory, "kernel.elf", image, "kernel.elf");

        assertThat(state.eip()).isEqualTo(KERNEL);
        assertThat(ram(0xA0000, 8)).containsOnly(0);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3 a.out kludge: load_addr..load_end_addr from the file, zeros to bss_end_addr")
    void loadsWithTheAddressFields() throws Exception {
        Arrays.fill(memory.ram(), (byte) 0xCC);
        // a flat binary linked at 1 MiB: 0x20 bytes of code, the header, then more code and data
        byte[] prefix = pattern(0x20, 7);
        byte[] rest = pattern(0x1C0, 8);
        int size = prefix.length + 32 + rest.length;
        byte[] header = new MultibootHeaderBuilder()
                .addressFields(KERNEL + 0x20, KERNEL, KERNEL + size, KERNEL + 0x5000, KERNEL + 0x40)
                .build();
        byte[] image = ByteBuffer.allocate(size).put(prefix).put(header).put(rest).array();

        BootState state = MultibootLoader.load(memory, "kernel.bin", image, "kernel.bin");

        assertThat(ram(KERNEL, size)).isEqualTo(image);
        assertThat(ram(KERNEL + size, 0x5000 - size)).containsOnly(0);
        assertThat(memory.readU8(KERNEL + 0x5000)).isEqualTo(0xCC);
        assertThat(state.eip()).isEqualTo(KERNEL + 0x40);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3 a.out kludge: file offset = header offset - (header_addr - load_addr); load_end_addr 0 loads to the end of the file")
    void addressFieldsChooseTheFileOffset() throws Exception {
        byte[] preamble = pattern(0x40, 9);
        byte[] header = new MultibootHeaderBuilder().addressFields(KERNEL, KERNEL, 0, 0, KERNEL + 0x20).build();
        byte[] body = pattern(0x100, 10);
        byte[] image = ByteBuffer.allocate(0x40 + 32 + 0x100).put(preamble).put(header).put(body).array();

        BootState state = MultibootLoader.load(memory, "kernel.bin", image, "kernel.bin");

        assertThat(ram(KERNEL, image.length - 0x40)).isEqualTo(Arrays.copyOfRange(image, 0x40, image.length));
        assertThat(memory.readU8(KERNEL - 1)).isZero();
        assertThat(state.eip()).isEqualTo(KERNEL + 0x20);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 bit 16: the address fields win over an ELF's program headers")
    void addressFieldsWinOverElfHeaders() throws Exception {
        int headerOffset = Elf32Builder.ELF_HEADER_SIZE;
        byte[] header = new MultibootHeaderBuilder()
                .addressFields(KERNEL + headerOffset, KERNEL, 0, 0, KERNEL + headerOffset)
                .build();
        byte[] image = new Elf32Builder().multibootHeader(header)
                .load(0x20_0000, pattern(0x40, 1), 0x40).entry(0x20_0000).build();

        BootState state = MultibootLoader.load(memory, "both.elf", image, "both.elf");

        assertThat(ram(KERNEL, image.length)).isEqualTo(image);
        assertThat(ram(0x20_0000, 0x40)).containsOnly(0);
        assertThat(state.eip()).isEqualTo(KERNEL + headerOffset);
    }
}

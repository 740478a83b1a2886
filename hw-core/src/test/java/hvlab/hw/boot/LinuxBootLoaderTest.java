package hvlab.hw.boot;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static hvlab.hw.boot.MultibootLoaderTest.pattern;
import static org.assertj.core.api.Assertions.assertThat;

/** The Linux/x86 32-bit boot protocol (Documentation/arch/x86/boot.rst, zero-page.rst) on synthetic bzImages. */
class LinuxBootLoaderTest {
    private static final int RAM = 64 << 20;
    private static final int ZP = LinuxLoader.ZERO_PAGE;

    private final PhysicalMemory memory = new PhysicalMemory(RAM, new MmioBus());

    private BootState load(BzImageBuilder kernel, byte[] initrd, String commandLine) throws BootImageException {
        return LinuxLoader.load(memory, "bzImage", kernel.build(), initrd, commandLine);
    }

    private byte[] ram(long address, int length) {
        return Arrays.copyOfRange(memory.ram(), (int) address, (int) address + length);
    }

    private long readU64(int address) {
        return Integer.toUnsignedLong(memory.readU32(address)) | (long) memory.readU32(address + 4) << 32;
    }

    private String cString(int address) {
        int end = address;
        while (memory.readU8(end) != 0) {
            end++;
        }
        return new String(ram(address, end - address), StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("boot.rst, Loading The Rest of The Kernel: the code after (setup_sects + 1) sectors loads at 0x100000")
    void protectedModeKernelLoadsAtOneMebibyte() throws Exception {
        BzImageBuilder kernel = new BzImageBuilder().setupSectors(7).protectedMode(pattern(0x2345, 9));
        load(kernel, null, "");
        assertThat(ram(0x10_0000, 0x2345)).isEqualTo(kernel.protectedMode());
        assertThat(memory.readU8(0x10_0000 + 0x2345)).isZero();
    }

    @Test
    @DisplayName("boot.rst, setup_sects: 0 means 4, in the file and in the zero page")
    void zeroSetupSectorsMeansFour() throws Exception {
        BzImageBuilder kernel = new BzImageBuilder().setupSectors(0);
        load(kernel, null, "");
        assertThat(ram(0x10_0000, kernel.protectedMode().length)).isEqualTo(kernel.protectedMode());
        assertThat(memory.readU8(ZP + LinuxSetupHeader.SETUP_SECTS)).isEqualTo(4);
    }

    @Test
    @DisplayName("boot.rst, 32-bit Boot Protocol: flat __BOOT_CS 0x10 and __BOOT_DS 0x18 from a GDT in memory, ESI = boot_params, EBP = EDI = EBX = 0, IF off")
    void entersByThe32BitBootProtocol() throws Exception {
        BootState state = load(new BzImageBuilder().code32Start(0x10_0040), null, "");

        assertThat(state.eip()).isEqualTo(0x10_0040);
        assertThat(state.esi()).isEqualTo(ZP);
        assertThat(state.ebx()).isZero();
        assertThat(state.eax()).isZero();
        assertThat(state.protectedMode()).isTrue();
        assertThat(state.pagingEnabled()).isFalse();
        assertThat(state.interruptsEnabled()).isFalse();
        assertThat(state.a20Enabled()).isTrue();
        assertThat(state.code()).isEqualTo(new BootState.Segment(0x10, 0, 0xFFFF_FFFF, 0xB));
        assertThat(state.data()).isEqualTo(new BootState.Segment(0x18, 0, 0xFFFF_FFFF, 0x3));
        assertThat(state.gdt()).isEqualTo(new BootState.DescriptorTable(LinuxLoader.GDT, 4 * 8 - 1));
        // SDM Vol. 3A §3.4.5: base 0, limit 0xFFFFF pages, G, D/B, P, DPL 0, S; type execute/read and read/write
        assertThat(readU64(LinuxLoader.GDT + 0x10)).isEqualTo(0x00CF_9B00_0000_FFFFL);
        assertThat(readU64(LinuxLoader.GDT + 0x18)).isEqualTo(0x00CF_9300_0000_FFFFL);
        assertThat(readU64(LinuxLoader.GDT)).isZero();
    }

    @Test
    @DisplayName("boot.rst, 32-bit Boot Protocol: the setup header from 0x1F1 to 0x202 + byte 0x201 is copied into boot_params")
    void setupHeaderIsCopiedIntoTheZeroPage() throws Exception {
        BzImageBuilder kernel = new BzImageBuilder();
        byte[] image = kernel.build();
        LinuxLoader.load(memory, "bzImage", image, null, "");

        int end = 0x202 + 0x6A;
        byte[] copied = ram(ZP + 0x1F1, end - 0x1F1);
        byte[] expected = Arrays.copyOfRange(image, 0x1F1, end);
        // the fields the loader writes: vid_mode, type_of_loader, loadflags, heap_end_ptr, cmd_line_ptr
        for (int field : new int[] {0x1FA, 0x1FB, 0x210, 0x211, 0x224, 0x225, 0x228, 0x229, 0x22A, 0x22B}) {
            copied[field - 0x1F1] = expected[field - 0x1F1] = 0;
        }
        assertThat(copied).isEqualTo(expected);
        assertThat(memory.readU32(ZP + 0x202)).as("HdrS").isEqualTo(0x5372_6448);
        assertThat(ram(ZP + end, 0x290 - end)).as("the rest of the hole").containsOnly((byte) 0);
        byte[] below = ram(ZP, 0x1F1);
        Arrays.fill(below, ZeroPage.EXT_MEM_K, ZeroPage.EXT_MEM_K + 2, (byte) 0);
        Arrays.fill(below, ZeroPage.ALT_MEM_K, ZeroPage.ALT_MEM_K + 4, (byte) 0);
        below[ZeroPage.E820_ENTRIES] = 0;
        assertThat(below).as("below the header, but the memory sizes and e820_entries").containsOnly((byte) 0);
    }

    @Test
    @DisplayName("boot.rst, Details of Header Fields: type_of_loader 0xFF, loadflags CAN_USE_HEAP, heap_end_ptr, cmd_line_ptr, vid_mode")
    void loaderWritesItsObligatoryFields() throws Exception {
        load(new BzImageBuilder().loadFlags(LinuxSetupHeader.LOADED_HIGH | LinuxSetupHeader.QUIET_FLAG
                | LinuxSetupHeader.KEEP_SEGMENTS), null, "console=ttyS0 quiet");

        assertThat(memory.readU8(ZP + 0x210)).as("type_of_loader").isEqualTo(0xFF);
        assertThat(memory.readU8(ZP + 0x211)).as("loadflags").isEqualTo(0x81); // LOADED_HIGH | CAN_USE_HEAP
        assertThat(memory.readU16(ZP + 0x224)).as("heap_end_ptr").isEqualTo(0xE000 - 0x200);
        assertThat(memory.readU16(ZP + 0x1FA)).as("vid_mode").isEqualTo(0xFFFF);
        assertThat(memory.readU32(ZP + 0x228)).as("cmd_line_ptr").isEqualTo(ZP + 0xE000);
        assertThat(cString(ZP + 0xE000)).isEqualTo("console=ttyS0 quiet");
        assertThat(memory.readU32(ZP + 0x218)).as("ramdisk_image").isZero();
        assertThat(memory.readU32(ZP + 0x21C)).as("ramdisk_size").isZero();
    }

    @Test
    @DisplayName("zero-page.rst: e820_table at 0x2D0 is the PC's map: low RAM, EBDA, BIOS ROM reserved, RAM from 1 MiB")
    void e820TableDescribesTheMachinesRam() throws Exception {
        load(new BzImageBuilder(), null, "");

        assertThat(memory.readU8(ZP + 0x1E8)).as("e820_entries").isEqualTo(4);
        long[][] expected = {
                {0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2}, {0x10_0000, RAM - 0x10_0000, 1}};
        for (int i = 0; i < expected.length; i++) {
            int entry = ZP + 0x2D0 + i * 20;
            assertThat(new long[] {readU64(entry), readU64(entry + 8), memory.readU32(entry + 16)})
                    .as("e820 entry %d", i).containsExactly(expected[i]);
        }
        assertThat(memory.readU32(ZP + 0x2D0 + 4 * 20 + 16)).as("no fifth entry").isZero();
        assertThat(memory.readU8(ZP + 0x1EF)).as("sentinel").isZero();
    }

    @Test
    @DisplayName("zero-page.rst: ext_mem_k (16 bits, capped) and alt_mem_k give the KiB of RAM above 1 MiB")
    void memorySizesAboveOneMebibyte() throws Exception {
        load(new BzImageBuilder(), null, "");
        assertThat(memory.readU16(ZP + 0x002)).isEqualTo(63 << 10);
        assertThat(memory.readU32(ZP + 0x1E0)).isEqualTo(63 << 10);

        PhysicalMemory big = new PhysicalMemory(256 << 20, new MmioBus());
        LinuxLoader.load(big, "bzImage", new BzImageBuilder().build(), null, "");
        assertThat(big.readU16(ZP + 0x002)).isEqualTo(0xFFFF);
        assertThat(big.readU32(ZP + 0x1E0)).isEqualTo(255 << 10);
    }

    @Test
    @DisplayName("boot.rst, ramdisk_image/ramdisk_size: the initrd lies page-aligned at the top of RAM")
    void initrdGoesToTheTopOfRam() throws Exception {
        byte[] initrd = pattern(0x1_2345, 5);
        load(new BzImageBuilder(), initrd, "");

        long address = Integer.toUnsignedLong(memory.readU32(ZP + 0x218));
        assertThat(memory.readU32(ZP + 0x21C)).isEqualTo(initrd.length);
        assertThat(address % 4096).isZero();
        assertThat(address + initrd.length).isLessThanOrEqualTo(RAM).isGreaterThan(RAM - 4096);
        assertThat(ram(address, initrd.length)).isEqualTo(initrd);
    }

    @Test
    @DisplayName("zero-page.rst: a kernel told of part of the RAM (a hypervisor's guest) has it in e820 and its initrd")
    void aKernelToldOfPartOfTheRamSeesOnlyThatPart() throws Exception {
        int guestRam = RAM - (4 << 20);
        byte[] initrd = pattern(0x1_2345, 8);
        LinuxLoader.load(memory, "bzImage", new BzImageBuilder().build(), initrd, "", guestRam);
        int last = ZP + 0x2D0 + 3 * 20;
        assertThat(new long[] {readU64(last), readU64(last + 8)}).containsExactly(0x10_0000, guestRam - 0x10_0000);
        long address = Integer.toUnsignedLong(memory.readU32(ZP + 0x218));
        assertThat(address + initrd.length).isLessThanOrEqualTo(guestRam).isGreaterThan(guestRam - 4096);
        assertThat(memory.readU32(ZP + 0x1E0)).as("alt_mem_k").isEqualTo((guestRam >> 10) - 1024);
    }

    @Test
    @DisplayName("boot.rst, initrd_addr_max: the initrd's last byte is at most initrd_addr_max")
    void initrdStaysBelowInitrdAddrMax() throws Exception {
        byte[] initrd = pattern(0x3000, 6);
        load(new BzImageBuilder().initrdAddrMax(0x1FF_FFFF), initrd, "");

        long address = Integer.toUnsignedLong(memory.readU32(ZP + 0x218));
        assertThat(address).isEqualTo(0x200_0000 - 0x3000);
        assertThat(ram(address, initrd.length)).isEqualTo(initrd);
    }

    @Test
    @DisplayName("boot.rst, init_size: an initrd that just fits sits above the memory a relocatable kernel runs in")
    void initrdMayFillRamAboveTheKernelsRuntimeArea() throws Exception {
        // relocatable: runs from align_up(0x100000, 16 MiB) = 16 MiB and needs init_size 1 MiB: RAM from 17 MiB is free
        byte[] initrd = pattern(RAM - 0x110_0000, 7);
        load(new BzImageBuilder(), initrd, "");
        assertThat(memory.readU32(ZP + 0x218)).isEqualTo(0x110_0000);
    }

    @Test
    @DisplayName("boot.rst, cmdline_size: a command line of exactly cmdline_size bytes is taken")
    void commandLineOfCmdlineSizeFits() throws Exception {
        String commandLine = "x".repeat(300);
        load(new BzImageBuilder().cmdlineSize(300), null, commandLine);
        assertThat(cString(LinuxLoader.COMMAND_LINE)).isEqualTo(commandLine);
    }

    @Test
    @DisplayName("boot.rst, Protocol 2.04: no relocation fields; the kernel runs where it is loaded; cmdline limit 255")
    void protocol204KernelLoads() throws Exception {
        // the 2.05+ fields hold junk that a 2.04 loader must not read
        BzImageBuilder kernel = new BzImageBuilder().version(0x0204).initSize(0xFFFF_0000L).prefAddress(0x4000_0000L)
                .cmdlineSize(0);
        BootState state = load(kernel, null, "y".repeat(255));
        assertThat(state.eip()).isEqualTo(0x10_0000);
        assertThat(cString(LinuxLoader.COMMAND_LINE)).hasSize(255);
    }

    @Test
    @DisplayName("boot.rst, pref_address: a non-relocatable kernel runs at pref_address, so RAM must reach pref_address + init_size")
    void nonRelocatableKernelNeedsRamAtPrefAddress() throws Exception {
        BzImageBuilder kernel = new BzImageBuilder().relocatable(false).prefAddress(0x300_0000).initSize(0x80_0000);
        load(kernel, null, "");
        PhysicalMemory small = new PhysicalMemory(48 << 20, new MmioBus());
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> LinuxLoader.load(small, "bzImage", kernel.build(), null, ""))
                .hasMessageContaining("needs RAM up to 0x3800000");
    }

    @Test
    @DisplayName("boot.rst, header: a file with \"HdrS\" at 0x202 is a bzImage; a Multiboot ELF is not")
    void recognisesABzImageByItsSignature() {
        assertThat(LinuxLoader.isBzImage(new BzImageBuilder().build())).isTrue();
        assertThat(LinuxLoader.isBzImage(new Elf32Builder().load(0x10_0000, pattern(0x400, 1), 0x400)
                .entry(0x10_0000).build())).isFalse();
        assertThat(LinuxLoader.isBzImage(new byte[0x205])).isFalse();
    }
}

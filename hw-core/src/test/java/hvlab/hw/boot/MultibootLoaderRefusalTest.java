package hvlab.hw.boot;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import static hvlab.hw.boot.MultibootLoaderTest.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every image the loader refuses gives a BootImageException that names the problem, and RAM stays untouched. */
class MultibootLoaderRefusalTest {
    private static final int KERNEL = 0x10_0000;

    private final PhysicalMemory memory = new PhysicalMemory(64 << 20, new MmioBus());

    private void assertRefused(byte[] image, String... messageParts) {
        assertRefused(image, List.of(), messageParts);
    }

    private void assertRefused(byte[] image, List<BootModule> modules, String... messageParts) {
        assertThatThrownBy(() -> MultibootLoader.load(memory, "kernel.img", image, "kernel.img", modules))
                .isInstanceOf(BootImageException.class)
                .hasMessageContainingAll(messageParts);
        assertRamUntouched();
    }

    private void assertRamUntouched() {
        assertRamUntouched(memory);
    }

    /** No byte of RAM was written: every check of a refused image runs before its first write. */
    static void assertRamUntouched(PhysicalMemory memory) {
        byte[] ram = memory.ram();
        int firstWritten = 0;
        while (firstWritten < ram.length && ram[firstWritten] == 0) {
            firstWritten++;
        }
        assertThat(firstWritten).as("first byte written into RAM by a refused image").isEqualTo(ram.length);
    }

    private static Elf32Builder kernel() {
        return new Elf32Builder().load(KERNEL, pattern(0x100, 1), 0x1000).entry(KERNEL);
    }

    private static byte[] withHeaderAt(int offset, byte[] header, int size) {
        return ByteBuffer.allocate(size).put(offset, header).array();
    }

    private static byte[] aoutKernel(int headerAddr, int loadAddr, int loadEndAddr, int bssEndAddr, int entryAddr) {
        byte[] header = new MultibootHeaderBuilder()
                .addressFields(headerAddr, loadAddr, loadEndAddr, bssEndAddr, entryAddr).build();
        return withHeaderAt(0, header, 0x100);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1: an empty file")
    void emptyFile() {
        assertRefused(new byte[0], "kernel.img is an empty file");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.1: no header magic in the first 8 KiB")
    void noHeader() {
        assertRefused(pattern(0x4000, 1), "kernel.img has no Multiboot header in the first 8 KiB");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.1: a header that does not lie wholly within the first 8192 bytes is not found")
    void headerPastEightKibibytes() {
        byte[] header = new MultibootHeaderBuilder().build();
        assertRefused(withHeaderAt(8192 - 8, header, 0x4000), "has no Multiboot header in the first 8 KiB");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.1: a header at an offset that is not 32-bit aligned is not found")
    void unalignedHeader() {
        byte[] header = new MultibootHeaderBuilder().build();
        assertRefused(withHeaderAt(0x102, header, 0x400), "has no Multiboot header in the first 8 KiB");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 checksum: magic + flags + checksum must be 0 mod 2^32")
    void badChecksum() {
        byte[] image = kernel().multibootHeader(new MultibootHeaderBuilder().checksum(0x1234).build()).build();
        assertRefused(image, "kernel.img has a bad Multiboot header checksum at offset 0x34");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 flags: an unknown required bit (3–15) must make the loader fail")
    void unknownRequiredFlag() {
        byte[] header = new MultibootHeaderBuilder().flags(MultibootHeaderBuilder.MEMORY_INFO | 1 << 3 | 1 << 15).build();
        assertRefused(kernel().multibootHeader(header).build(),
                "requires Multiboot features hvlab does not support", "flag bits 0x8008");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): a 64-bit ELF, with or without a Multiboot header")
    void elf64() {
        String message = "kernel.img is a 64-bit ELF; hvlab boots 32-bit Multiboot kernels";
        assertRefused(kernel().elfClass(Elf32Builder.ELFCLASS64).build(), message);
        assertRefused(kernel().elfClass(Elf32Builder.ELFCLASS64).multibootHeader(new byte[0]).build(), message);
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): a big-endian ELF")
    void bigEndianElf() {
        assertRefused(kernel().encoding(Elf32Builder.ELFDATA2MSB).build(), "kernel.img is a big-endian ELF");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): an ELF for another machine than i386")
    void wrongMachine() {
        assertRefused(kernel().machine(Elf32Builder.EM_X86_64).build(), "is an ELF for machine 62, not i386");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): an ELF that is not an executable (ET_EXEC)")
    void notExecutable() {
        assertRefused(kernel().type(Elf32Builder.ET_REL).build(), "is not an ELF executable", "ET_REL");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3: a header without address fields on a file that is not an ELF")
    void neitherElfNorAddressFields() {
        assertRefused(withHeaderAt(0, new MultibootHeaderBuilder().build(), 0x100),
                "is neither an ELF nor a kernel with Multiboot address fields");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): a program header table past the end of the file")
    void truncatedProgramHeaderTable() {
        Elf32Builder builder = kernel();
        byte[] image = Arrays.copyOf(builder.build(), builder.programHeaderOffset() + 10);
        assertRefused(image, "kernel.img is truncated: program header table");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): a segment whose file bytes run past the end of the file")
    void truncatedSegment() {
        byte[] image = kernel().build();
        assertRefused(Arrays.copyOf(image, image.length - 16), "kernel.img is truncated: PT_LOAD segment 0's file bytes");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): no PT_LOAD segment")
    void noLoadSegments() {
        byte[] image = new Elf32Builder()
                .programHeader(new Elf32Builder.ProgramHeader(Elf32Builder.PT_NOTE, KERNEL, KERNEL, pattern(8, 1), 8))
                .entry(KERNEL).build();
        assertRefused(image, "kernel.img has no PT_LOAD segments");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): a segment with more file bytes than memory bytes")
    void fileSizeAboveMemorySize() {
        byte[] image = new Elf32Builder().load(KERNEL, pattern(0x100, 1), 0x80).entry(KERNEL).build();
        assertRefused(image, "p_filesz 256 larger than p_memsz 128");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): two PT_LOAD segments whose physical ranges intersect")
    void overlappingSegments() {
        byte[] image = new Elf32Builder()
                .load(KERNEL, pattern(0x100, 1), 0x2000)
                .load(0x10_1000, pattern(0x100, 2), 0x100)
                .entry(KERNEL).build();
        assertRefused(image, "kernel.img has overlapping segments: kernel segment at 0x100000 of 8192 bytes"
                + " and kernel segment at 0x101000 of 256 bytes");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1 (avoid the PC's reserved areas): a segment in the VGA and BIOS area")
    void segmentInBiosArea() {
        byte[] image = new Elf32Builder().load(0xA0000, pattern(0x100, 1), 0x100).entry(0xA0000).build();
        assertRefused(image, "kernel.img: kernel segment at 0xa0000 of 256 bytes overlaps the EBDA, VGA and BIOS area"
                + " [0x9fc00, 0x100000)");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1 (avoid the PC's reserved areas): a segment reaching into the EBDA")
    void segmentReachingIntoEbda() {
        byte[] image = new Elf32Builder().load(0x9F000, pattern(0x100, 1), 0x1000).entry(0x9F000).build();
        assertRefused(image, "overlaps the EBDA, VGA and BIOS area");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 (the info structure is not placed over the kernel): a segment over the info area")
    void segmentOverInfoArea() {
        byte[] image = new Elf32Builder().load(0x8000, pattern(0x100, 1), 0x2000).entry(0x8000).build();
        assertRefused(image, "kernel segment at 0x8000 of 8192 bytes overlaps hvlab's boot information area"
                + " [0x9000, 0x10000)");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): a segment beyond the end of RAM")
    void segmentAboveRam() {
        byte[] image = new Elf32Builder().load(0x3FF_F000, pattern(0x100, 1), 0x2000).entry(0x3FF_F000).build();
        assertRefused(image, "kernel.img: kernel segment at 0x3fff000 of 8192 bytes does not fit in 64 MiB of RAM");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.2 (ELF): a segment reaching past 4 GiB does not wrap around")
    void segmentPastFourGibibytes() {
        byte[] image = new Elf32Builder().load(0xFFFF_F000, pattern(0x100, 1), 0x2000).entry(0xFFFF_F000).build();
        assertRefused(image, "kernel segment at 0xfffff000 of 8192 bytes does not fit in 64 MiB of RAM");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.2 (EIP at the entry): an entry point outside every loaded segment")
    void entryOutsideSegments() {
        byte[] image = kernel().entry(0x20_0000).build();
        assertRefused(image, "kernel.img: entry point 0x200000 is outside every loaded segment");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3: load_addr must be less than or equal to header_addr")
    void loadAddressAboveHeaderAddress() {
        assertRefused(aoutKernel(KERNEL, KERNEL + 0x10, 0, 0, KERNEL + 0x10),
                "inconsistent Multiboot a.out kludge addresses: load_addr 0x100010 is above header_addr 0x100000");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3: header_addr - load_addr larger than the header's file offset")
    void loadStartBeforeFile() {
        assertRefused(aoutKernel(KERNEL + 0x40, KERNEL, 0, 0, KERNEL),
                "inconsistent Multiboot a.out kludge addresses", "64 bytes before the beginning of the file");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3: load_end_addr below load_addr")
    void loadEndBelowLoadAddress() {
        assertRefused(aoutKernel(KERNEL, KERNEL, KERNEL - 0x10, 0, KERNEL),
                "inconsistent Multiboot a.out kludge addresses: load_end_addr 0xffff0 is below load_addr 0x100000");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3: bss_end_addr below load_end_addr")
    void bssEndBelowLoadEnd() {
        assertRefused(aoutKernel(KERNEL, KERNEL, KERNEL + 0x100, KERNEL + 0x80, KERNEL),
                "inconsistent Multiboot a.out kludge addresses: bss_end_addr 0x100080 is below load_end_addr 0x100100");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3: load_end_addr past the end of the file")
    void addressFieldsPastEndOfFile() {
        assertRefused(aoutKernel(KERNEL, KERNEL, KERNEL + 0x200, 0, KERNEL),
                "kernel.img is truncated: text and data from load_addr to load_end_addr");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.3: entry_addr outside the loaded text, data and BSS")
    void addressFieldsEntryOutside() {
        assertRefused(aoutKernel(KERNEL, KERNEL, 0, KERNEL + 0x1000, KERNEL + 0x1000),
                "entry point 0x101000 is outside every loaded segment");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.1.1: flag bit 16 set but the address fields cut off by the end of the file")
    void addressFieldsCutOff() {
        byte[] header = new MultibootHeaderBuilder().addressFields(KERNEL, KERNEL, 0, 0, KERNEL).build();
        assertRefused(Arrays.copyOf(header, 20), "kernel.img is truncated: Multiboot header address fields");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 mods: a module that does not fit in RAM")
    void moduleBeyondRam() {
        List<BootModule> modules = List.of(new BootModule("big.img", new byte[63 << 20]));
        assertRefused(kernel().build(), modules, "module 'big.img' of 66060288 bytes at 0x101000 does not fit in 64 MiB of RAM");
    }

    @Test
    @DisplayName("Multiboot 0.6.96 §3.3 cmdline: strings too long for the boot information area")
    void commandLineTooLong() {
        assertThatThrownBy(() -> MultibootLoader.load(memory, "kernel.img", kernel().build(), "x".repeat(40_000)))
                .isInstanceOf(BootImageException.class)
                .hasMessageContaining("do not fit in hvlab's boot information area [0x9000, 0x10000)");
        assertRamUntouched();
    }
}

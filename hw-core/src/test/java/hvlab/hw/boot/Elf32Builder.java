package hvlab.hw.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds small ELF32 images for loader tests. The file is laid out as: ELF header (52 bytes), the Multiboot header
 * (so that it survives cutting the file just after it), the program header table, then each segment's bytes,
 * 4-byte aligned. Defaults: a little-endian i386 ET_EXEC with a valid Multiboot header.
 */
final class Elf32Builder {
    static final int ELF_HEADER_SIZE = 52;
    static final int PROGRAM_HEADER_SIZE = 32;
    static final int ELFCLASS64 = 2;
    static final int ELFDATA2MSB = 2;
    static final int ET_REL = 1;
    static final int EM_X86_64 = 62;
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;

    record ProgramHeader(int type, int virtualAddress, int physicalAddress, byte[] contents, int memorySize) { }

    private int elfClass = 1;
    private int encoding = 1;
    private int type = 2;
    private int machine = 3;
    private int entry;
    private byte[] multibootHeader = new MultibootHeaderBuilder().build();
    private final List<ProgramHeader> programHeaders = new ArrayList<>();

    /** A PT_LOAD segment linked where it loads (p_vaddr = p_paddr). */
    Elf32Builder load(int address, byte[] contents, int memorySize) {
        return load(address, address, contents, memorySize);
    }

    Elf32Builder load(int virtualAddress, int physicalAddress, byte[] contents, int memorySize) {
        return programHeader(new ProgramHeader(PT_LOAD, virtualAddress, physicalAddress, contents, memorySize));
    }

    Elf32Builder programHeader(ProgramHeader header) {
        programHeaders.add(header);
        return this;
    }

    Elf32Builder entry(int entry) {
        this.entry = entry;
        return this;
    }

    Elf32Builder elfClass(int elfClass) {
        this.elfClass = elfClass;
        return this;
    }

    Elf32Builder encoding(int encoding) {
        this.encoding = encoding;
        return this;
    }

    Elf32Builder type(int type) {
        this.type = type;
        return this;
    }

    Elf32Builder machine(int machine) {
        this.machine = machine;
        return this;
    }

    /** The bytes placed after the ELF header; an empty array leaves the image without a Multiboot header. */
    Elf32Builder multibootHeader(byte[] header) {
        this.multibootHeader = header;
        return this;
    }

    /** File offset of the program header table in the built image. */
    int programHeaderOffset() {
        return align4(ELF_HEADER_SIZE + multibootHeader.length);
    }

    byte[] build() {
        int offset = programHeaderOffset() + programHeaders.size() * PROGRAM_HEADER_SIZE;
        int[] fileOffsets = new int[programHeaders.size()];
        for (int i = 0; i < programHeaders.size(); i++) {
            fileOffsets[i] = align4(offset);
            offset = fileOffsets[i] + programHeaders.get(i).contents().length;
        }
        ByteBuffer file = ByteBuffer.allocate(offset).order(ByteOrder.LITTLE_ENDIAN);
        file.put(new byte[] {0x7F, 'E', 'L', 'F', (byte) elfClass, (byte) encoding, 1});
        file.position(16);
        file.putShort((short) type).putShort((short) machine).putInt(1).putInt(entry)
                .putInt(programHeaderOffset()).putInt(0).putInt(0)
                .putShort((short) ELF_HEADER_SIZE).putShort((short) PROGRAM_HEADER_SIZE)
                .putShort((short) programHeaders.size()).putShort((short) 40).putShort((short) 0).putShort((short) 0);
        file.put(multibootHeader);
        file.position(programHeaderOffset());
        for (int i = 0; i < programHeaders.size(); i++) {
            ProgramHeader ph = programHeaders.get(i);
            file.putInt(ph.type()).putInt(fileOffsets[i]).putInt(ph.virtualAddress()).putInt(ph.physicalAddress())
                    .putInt(ph.contents().length).putInt(ph.memorySize()).putInt(0b111).putInt(4);
        }
        for (int i = 0; i < programHeaders.size(); i++) {
            file.put(fileOffsets[i], programHeaders.get(i).contents());
        }
        return file.array();
    }

    private static int align4(int value) {
        return (value + 3) & ~3;
    }
}

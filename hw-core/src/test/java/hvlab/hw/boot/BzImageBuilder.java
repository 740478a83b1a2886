package hvlab.hw.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds a synthetic bzImage: a boot sector and setup sectors holding a setup header (boot.rst, The Real-Mode Kernel
 * Header) with the fields a test sets, followed by the protected-mode code. Defaults are those of a current
 * relocatable 32-bit kernel: protocol 2.15, LOADED_HIGH, 16 MiB alignment and pref_address, 1 MiB init_size.
 */
final class BzImageBuilder {
    private int setupSectors = 4;
    private int version = 0x020F;
    private int loadFlags = LinuxSetupHeader.LOADED_HIGH;
    private int bootFlag = 0xAA55;
    private int headerLengthByte = 0x6A;
    private long code32Start = 0x10_0000;
    private long initrdAddrMax = 0x7FFF_FFFF;
    private long kernelAlignment = 0x100_0000;
    private boolean relocatable = true;
    private long cmdlineSize = 2047;
    private long prefAddress = 0x100_0000;
    private long initSize = 0x10_0000;
    private Long syssizeParagraphs;
    private byte[] protectedMode = MultibootLoaderTest.pattern(0x1000, 3);

    BzImageBuilder setupSectors(int value) { setupSectors = value; return this; }
    BzImageBuilder version(int value) { version = value; return this; }
    BzImageBuilder loadFlags(int value) { loadFlags = value; return this; }
    BzImageBuilder bootFlag(int value) { bootFlag = value; return this; }
    BzImageBuilder headerLengthByte(int value) { headerLengthByte = value; return this; }
    BzImageBuilder code32Start(long value) { code32Start = value; return this; }
    BzImageBuilder initrdAddrMax(long value) { initrdAddrMax = value; return this; }
    BzImageBuilder kernelAlignment(long value) { kernelAlignment = value; return this; }
    BzImageBuilder relocatable(boolean value) { relocatable = value; return this; }
    BzImageBuilder cmdlineSize(long value) { cmdlineSize = value; return this; }
    BzImageBuilder prefAddress(long value) { prefAddress = value; return this; }
    BzImageBuilder initSize(long value) { initSize = value; return this; }
    BzImageBuilder syssizeParagraphs(long value) { syssizeParagraphs = value; return this; }
    BzImageBuilder protectedMode(byte[] code) { protectedMode = code; return this; }

    byte[] protectedMode() {
        return protectedMode;
    }

    /** The real-mode part's length in the file: the boot sector and the setup sectors (0 means 4). */
    int setupBytes() {
        return ((setupSectors == 0 ? 4 : setupSectors) + 1) * 512;
    }

    byte[] build() {
        ByteBuffer file = ByteBuffer.allocate(setupBytes() + protectedMode.length).order(ByteOrder.LITTLE_ENDIAN);
        file.put(LinuxSetupHeader.SETUP_SECTS, (byte) setupSectors);
        long paragraphs = syssizeParagraphs != null ? syssizeParagraphs : (protectedMode.length + 15) / 16;
        file.putInt(LinuxSetupHeader.SYSSIZE, (int) paragraphs);
        file.putShort(LinuxSetupHeader.VID_MODE, (short) 0xFFFD); // "ask": the loader must overwrite it
        file.putShort(LinuxSetupHeader.BOOT_FLAG, (short) bootFlag);
        file.put(LinuxSetupHeader.JUMP, (byte) 0xEB).put(LinuxSetupHeader.JUMP + 1, (byte) headerLengthByte);
        file.putInt(LinuxSetupHeader.HEADER, LinuxSetupHeader.MAGIC);
        file.putShort(LinuxSetupHeader.VERSION, (short) version);
        file.put(LinuxSetupHeader.LOADFLAGS, (byte) loadFlags);
        file.putInt(LinuxSetupHeader.CODE32_START, (int) code32Start);
        file.putShort(LinuxSetupHeader.HEAP_END_PTR, (short) 0x57C0); // the kernel's own guess, to be overwritten
        file.putInt(LinuxSetupHeader.INITRD_ADDR_MAX, (int) initrdAddrMax);
        file.putInt(LinuxSetupHeader.KERNEL_ALIGNMENT, (int) kernelAlignment);
        file.put(LinuxSetupHeader.RELOCATABLE_KERNEL, (byte) (relocatable ? 1 : 0));
        file.put(LinuxSetupHeader.RELOCATABLE_KERNEL + 1, (byte) 13); // min_alignment
        file.putInt(LinuxSetupHeader.CMDLINE_SIZE, (int) cmdlineSize);
        file.putLong(LinuxSetupHeader.PREF_ADDRESS, prefAddress);
        file.putInt(LinuxSetupHeader.INIT_SIZE, (int) initSize);
        file.put(setupBytes(), protectedMode);
        return file.array();
    }
}

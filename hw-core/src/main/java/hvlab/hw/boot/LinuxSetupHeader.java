package hvlab.hw.boot;

/**
 * The setup header of a Linux/x86 bzImage as the kernel file carries it (boot.rst, "The Real-Mode Kernel Header"
 * and "Details of Header Fields"). Offsets are file offsets, which are also the offsets in boot_params. Fields a
 * protocol version does not have read as the value boot.rst says to assume.
 *
 * @param headerEnd           the first byte after the header: 0x202 + the jump's offset byte at 0x201
 * @param setupSectors        setup_sects, with 0 read as 4
 * @param protectedModeSize   the bytes after the real-mode code: the protected-mode kernel
 * @param cmdlineSize         the longest command line, without its NUL
 * @param prefAddress         0 before protocol 2.10
 * @param initSize            0 before protocol 2.10
 */
record LinuxSetupHeader(int version, int headerEnd, int setupSectors, long protectedModeSize, int loadFlags,
                        long code32Start, long initrdAddrMax, long kernelAlignment, boolean relocatable,
                        long cmdlineSize, long prefAddress, long initSize) {
    static final int SETUP_SECTS = 0x1F1;
    static final int SYSSIZE = 0x1F4;
    static final int VID_MODE = 0x1FA;
    static final int BOOT_FLAG = 0x1FE;
    static final int JUMP = 0x200;
    static final int HEADER = 0x202;
    static final int VERSION = 0x206;
    static final int TYPE_OF_LOADER = 0x210;
    static final int LOADFLAGS = 0x211;
    static final int CODE32_START = 0x214;
    static final int RAMDISK_IMAGE = 0x218;
    static final int RAMDISK_SIZE = 0x21C;
    static final int HEAP_END_PTR = 0x224;
    static final int CMD_LINE_PTR = 0x228;
    static final int INITRD_ADDR_MAX = 0x22C;
    static final int KERNEL_ALIGNMENT = 0x230;
    static final int RELOCATABLE_KERNEL = 0x234;
    static final int CMDLINE_SIZE = 0x238;
    static final int PREF_ADDRESS = 0x258;
    static final int INIT_SIZE = 0x260;

    /** "HdrS", read as a little-endian dword. */
    static final int MAGIC = 0x5372_6448;
    static final int BOOT_FLAG_MAGIC = 0xAA55;
    static final int SECTOR = 512;
    /** boot.rst, "The kernel_info": the setup header must end inside boot_params' hole, before edd_mbr_sig_buffer. */
    static final int HEADER_LIMIT = 0x290;

    // loadflags bits (boot.rst, "loadflags")
    static final int LOADED_HIGH = 1;
    static final int QUIET_FLAG = 1 << 5;
    static final int KEEP_SEGMENTS = 1 << 6;
    static final int CAN_USE_HEAP = 1 << 7;

    /** Protocol 2.04 made syssize four bytes wide; before it a bzImage's size cannot be known (boot.rst, "syssize"). */
    static final int MIN_VERSION = 0x0204;
    static final int V2_05 = 0x0205, V2_06 = 0x0206, V2_10 = 0x020A;
    /** boot.rst, "cmdline_size": before protocol 2.06 the longest command line was 255 characters. */
    static final int OLD_CMDLINE_SIZE = 255;

    static boolean isBzImageSignature(byte[] image) {
        return image.length >= HEADER + 4 && new ImageBytes("", image).u32Unchecked(HEADER) == MAGIC;
    }

    /** Reads and checks the header; the refusals name what is wrong in the words of boot.rst. */
    static LinuxSetupHeader read(ImageBytes image) throws BootImageException {
        if (image.length() == 0) {
            throw new BootImageException(image.name() + " is an empty file");
        }
        if (!isBzImageSignature(image.bytes())) {
            throw new BootImageException(image.name() + " is not a Linux kernel: no \"HdrS\" signature at offset"
                    + " 0x202 (boot.rst, The Real-Mode Kernel Header)");
        }
        int bootFlag = image.u16(BOOT_FLAG, "boot_flag");
        if (bootFlag != BOOT_FLAG_MAGIC) {
            throw new BootImageException(image.name() + " has boot_flag 0x" + Integer.toHexString(bootFlag)
                    + " at offset 0x1fe, not 0xaa55 (boot.rst, boot_flag)");
        }
        int version = image.u16(VERSION, "version");
        if (version < MIN_VERSION) {
            throw new BootImageException(image.name() + " uses Linux boot protocol " + describeVersion(version)
                    + "; hvlab loads bzImages of protocol 2.04 or later (boot.rst, syssize)");
        }
        int loadFlags = image.u8(LOADFLAGS, "loadflags");
        if ((loadFlags & LOADED_HIGH) == 0) {
            throw new BootImageException(image.name() + " is a zImage (loadflags bit 0, LOADED_HIGH, is clear): it"
                    + " loads at 0x10000 through the real-mode BIOS; hvlab loads bzImages at 0x100000"
                    + " (boot.rst, Loading The Rest of The Kernel)");
        }
        int headerEnd = HEADER + image.u8(JUMP + 1, "the setup header's length byte");
        if (headerEnd > HEADER_LIMIT) {
            throw new BootImageException(image.name() + " has a setup header ending at 0x"
                    + Integer.toHexString(headerEnd) + ", past boot_params' hole at 0x290 (boot.rst, The kernel_info)");
        }
        image.requireInFile(SETUP_SECTS, headerEnd - SETUP_SECTS, "setup header");
        int setupSectors = image.u8(SETUP_SECTS, "setup_sects");
        if (setupSectors == 0) {
            setupSectors = 4; // boot.rst, setup_sects: 0 means 4
        }
        long setupBytes = (setupSectors + 1L) * SECTOR;
        long protectedModeSize = image.length() - setupBytes;
        if (protectedModeSize <= 0) {
            throw new BootImageException(image.name() + " is truncated: it ends at " + image.length() + " bytes,"
                    + " within its " + setupBytes + " bytes of real-mode code (setup_sects " + setupSectors
                    + "), before the protected-mode kernel");
        }
        long sysBytes = image.u32(SYSSIZE, "syssize") * 16;
        if (sysBytes > align(protectedModeSize, 16)) {
            throw new BootImageException(image.name() + " is truncated: syssize says the protected-mode kernel is "
                    + sysBytes + " bytes, the file holds " + protectedModeSize + " after the real-mode code");
        }
        return new LinuxSetupHeader(version, headerEnd, setupSectors, protectedModeSize, loadFlags,
                image.u32(CODE32_START, "code32_start"),
                image.u32(INITRD_ADDR_MAX, "initrd_addr_max"),
                version >= V2_05 ? image.u32(KERNEL_ALIGNMENT, "kernel_alignment") : 0,
                version >= V2_05 && image.u8(RELOCATABLE_KERNEL, "relocatable_kernel") != 0,
                version >= V2_06 ? image.u32(CMDLINE_SIZE, "cmdline_size") : OLD_CMDLINE_SIZE,
                version >= V2_10 ? u64(image, PREF_ADDRESS, "pref_address") : 0,
                version >= V2_10 ? image.u32(INIT_SIZE, "init_size") : 0);
    }

    /** The file offset of the protected-mode kernel (boot.rst, Loading The Rest of The Kernel). */
    long protectedModeOffset() {
        return (setupSectors + 1L) * SECTOR;
    }

    /**
     * Where the kernel runs once it has moved itself: boot.rst, init_size ("kernel runtime start address"). A
     * kernel without pref_address (before 2.10) is taken to run where it is loaded.
     */
    long runtimeStart(long loadAddress) {
        if (version < V2_10) {
            return loadAddress;
        }
        return relocatable ? align(loadAddress, Math.max(1, kernelAlignment)) : prefAddress;
    }

    String describeVersion() {
        return describeVersion(version);
    }

    static String describeVersion(int version) {
        return (version >> 8) + "." + String.format("%02d", version & 0xFF);
    }

    static long align(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }

    private static long u64(ImageBytes image, long offset, String field) throws BootImageException {
        return image.u32(offset, field) | image.u32(offset + 4, field) << 32;
    }
}

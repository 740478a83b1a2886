package hvlab.hw.boot;

import hvlab.hw.memory.PhysicalMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * Loads a Linux/x86 bzImage by the 32-bit boot protocol (the kernel's Documentation/arch/x86/boot.rst and
 * zero-page.rst), as a loader without a BIOS does: no real-mode setup code runs. The protected-mode kernel goes to
 * 1 MiB, the initrd as high in RAM as the kernel allows, and boot_params, a GDT and the command line into the
 * real-mode area of boot.rst's Sample Boot Configuration at {@link #ZERO_PAGE}:
 *
 * <pre>
 *   0x10000  boot_params (the zero page)     0x11000  GDT: null, null, __BOOT_CS 0x10, __BOOT_DS 0x18
 *   0x18000  setup stack/heap (unused)       0x1E000  command line, up to 0x20000
 * </pre>
 *
 * Every check runs before the first write, so a refused image leaves memory as it was.
 */
public final class LinuxLoader {
    /** boot_params; the kernel finds it through ESI. */
    public static final int ZERO_PAGE = 0x1_0000;
    public static final int GDT = ZERO_PAGE + ZeroPage.SIZE;
    /** boot.rst, Sample Boot Configuration: 0x8000-0xdfff stack and heap, 0xe000-0xffff the command line. */
    static final int HEAP_END = 0xE000;
    public static final int COMMAND_LINE = ZERO_PAGE + HEAP_END;
    static final int COMMAND_LINE_END = ZERO_PAGE + 0x1_0000;
    /** bzImage kernels load at 0x100000 (boot.rst, Loading The Rest of The Kernel). */
    public static final int KERNEL_LOAD_ADDRESS = 0x10_0000;

    /** boot.rst, 32-bit Boot Protocol: a GDT with flat 4 GiB __BOOT_CS (0x10, execute/read) and __BOOT_DS (0x18). */
    public static final BootState.Segment BOOT_CS = new BootState.Segment(0x10, 0, 0xFFFF_FFFF,
            BootState.Segment.TYPE_CODE_EXECUTE_READ);
    public static final BootState.Segment BOOT_DS = new BootState.Segment(0x18, 0, 0xFFFF_FFFF,
            BootState.Segment.TYPE_DATA_READ_WRITE);
    private static final int GDT_ENTRIES = 4;

    private LinuxLoader() {
    }

    /** True when the image carries the setup header's "HdrS" signature at 0x202, as every bzImage does. */
    public static boolean isBzImage(byte[] image) {
        return LinuxSetupHeader.isBzImageSignature(Objects.requireNonNull(image, "image"));
    }

    /**
     * Loads a bzImage, its initrd and command line into the RAM of memory (its size is the RAM the kernel is told
     * of) and returns the state to enter it with.
     *
     * @param imageName   names the image in error messages
     * @param initrd      the initial ramdisk (e.g. a gzip'd newc cpio), or null for none
     * @param commandLine the kernel command line, passed as is
     * @throws BootImageException when the kernel or initrd cannot be booted; memory is then left untouched
     */
    public static BootState load(PhysicalMemory memory, String imageName, byte[] image, byte[] initrd,
                                 String commandLine) throws BootImageException {
        return load(memory, imageName, image, initrd, commandLine, memory.ramSize());
    }

    /**
     * As {@link #load(PhysicalMemory, String, byte[], byte[], String)}, telling the kernel of only the first {@code
     * ramBytes} of RAM (its E820 map, the initrd's placement): a hypervisor's guest that owns part of the machine.
     */
    public static BootState load(PhysicalMemory memory, String imageName, byte[] image, byte[] initrd,
                                 String commandLine, int ramBytes) throws BootImageException {
        Objects.requireNonNull(memory, "memory");
        MultibootLoader.checkKernelRam(memory, ramBytes);
        Objects.requireNonNull(commandLine, "commandLine");
        ImageBytes kernel = new ImageBytes(Objects.requireNonNull(imageName, "imageName"),
                Objects.requireNonNull(image, "image"));
        LinuxSetupHeader header = LinuxSetupHeader.read(kernel);
        long kernelEnd = checkKernelPlacement(kernel, header, ramBytes);
        byte[] commandLineBytes = checkedCommandLine(kernel, header, commandLine);
        List<MemoryMapEntry> memoryMap = MemoryMapEntry.pc(ramBytes);
        long initrdAddress = initrd == null ? 0 : placeInitrd(initrd, header, memoryMap, kernelEnd);
        byte[] zeroPage = ZeroPage.build(kernel, header, memoryMap, ramBytes, HEAP_END, COMMAND_LINE,
                initrdAddress, initrd == null ? 0 : initrd.length);

        memory.load(KERNEL_LOAD_ADDRESS, image, (int) header.protectedModeOffset(), (int) header.protectedModeSize());
        if (initrd != null) {
            memory.load((int) initrdAddress, initrd, 0, initrd.length);
        }
        memory.load(ZERO_PAGE, zeroPage, 0, zeroPage.length);
        memory.load(GDT, gdt(), 0, GDT_ENTRIES * 8);
        memory.load(COMMAND_LINE, commandLineBytes, 0, commandLineBytes.length);
        memory.writeU8(COMMAND_LINE + commandLineBytes.length, 0);
        // boot.rst, 32-bit Boot Protocol: ESI = boot_params; EBP, EDI and EBX zero; interrupts off; paging off
        return new BootState((int) header.code32Start(), 0, 0, ZERO_PAGE, BootState.CR0_PE,
                BootState.EFLAGS_RESERVED, BOOT_CS, BOOT_DS,
                new BootState.DescriptorTable(GDT, GDT_ENTRIES * 8 - 1), true);
    }

    /**
     * The kernel loads at 1 MiB and then needs init_size bytes from where it runs (boot.rst, init_size); all of it
     * must be RAM, and code32_start must lie in what was loaded. Returns the end of the memory the kernel needs.
     */
    private static long checkKernelPlacement(ImageBytes image, LinuxSetupHeader header, int ramBytes)
            throws BootImageException {
        long loadEnd = KERNEL_LOAD_ADDRESS + header.protectedModeSize();
        long runtimeStart = header.runtimeStart(KERNEL_LOAD_ADDRESS);
        long runtimeEnd = runtimeStart + header.initSize();
        if (loadEnd > ramBytes) {
            throw new BootImageException(image.name() + ": the protected-mode kernel of " + header.protectedModeSize()
                    + " bytes at 0x100000 does not fit in " + MultibootLoader.describeSize(ramBytes) + " of RAM");
        }
        if (runtimeEnd > ramBytes) {
            throw new BootImageException(image.name() + " needs RAM up to 0x" + Long.toHexString(runtimeEnd)
                    + " (init_size 0x" + Long.toHexString(header.initSize()) + " from where it runs, 0x"
                    + Long.toHexString(runtimeStart) + "; boot.rst, init_size), more than the "
                    + MultibootLoader.describeSize(ramBytes) + " of RAM");
        }
        if (header.code32Start() < KERNEL_LOAD_ADDRESS || header.code32Start() >= loadEnd) {
            throw new BootImageException(image.name() + ": code32_start 0x" + Long.toHexString(header.code32Start())
                    + " is outside the protected-mode kernel loaded at [0x100000, 0x" + Long.toHexString(loadEnd)
                    + ") (boot.rst, code32_start)");
        }
        return Math.max(loadEnd, runtimeEnd);
    }

    /** boot.rst, cmdline_size: at most that many bytes before the NUL; they must also fit our area. */
    private static byte[] checkedCommandLine(ImageBytes image, LinuxSetupHeader header, String commandLine)
            throws BootImageException {
        byte[] bytes = commandLine.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > header.cmdlineSize()) {
            throw new BootImageException("the command line of " + bytes.length + " bytes is longer than the "
                    + header.cmdlineSize() + " that " + image.name() + " takes (cmdline_size, boot protocol "
                    + header.describeVersion() + "; boot.rst, The Kernel Command Line)");
        }
        int room = COMMAND_LINE_END - COMMAND_LINE - 1;
        if (bytes.length > room) {
            throw new BootImageException("the command line of " + bytes.length + " bytes is longer than the " + room
                    + " that fit in hvlab's command line area [0x" + Integer.toHexString(COMMAND_LINE) + ", 0x"
                    + Integer.toHexString(COMMAND_LINE_END) + ")");
        }
        return bytes;
    }

    /**
     * The initrd goes page-aligned as high as it can in available RAM, its last byte at most initrd_addr_max
     * (boot.rst, initrd_addr_max), and above everything the kernel needs.
     */
    private static long placeInitrd(byte[] initrd, LinuxSetupHeader header, List<MemoryMapEntry> memoryMap,
                                    long kernelEnd) throws BootImageException {
        if (initrd.length == 0) {
            throw new BootImageException("the initrd is an empty file");
        }
        long ceiling = header.initrdAddrMax() + 1;
        for (MemoryMapEntry range : memoryMap.reversed()) {
            if (range.type() != MemoryMapEntry.AVAILABLE) {
                continue;
            }
            long end = Math.min(range.end(), ceiling);
            long start = (end - initrd.length) & -PhysicalMemory.PAGE_SIZE;
            if (start >= range.base() && start >= kernelEnd) {
                return start;
            }
        }
        long top = memoryMap.stream().filter(e -> e.type() == MemoryMapEntry.AVAILABLE)
                .mapToLong(MemoryMapEntry::end).max().orElse(0);
        throw new BootImageException("the initrd of " + initrd.length + " bytes does not fit in RAM between the"
                + " kernel's end 0x" + Long.toHexString(kernelEnd) + " and 0x" + Long.toHexString(Math.min(top, ceiling))
                + " (the end of RAM, or initrd_addr_max 0x" + Long.toHexString(header.initrdAddrMax())
                + " + 1 if lower; boot.rst, initrd_addr_max)");
    }

    private static byte[] gdt() {
        ByteBuffer table = ByteBuffer.allocate(GDT_ENTRIES * 8).order(ByteOrder.LITTLE_ENDIAN);
        table.putLong(BOOT_CS.selector(), BOOT_CS.descriptor());
        table.putLong(BOOT_DS.selector(), BOOT_DS.descriptor());
        return table.array();
    }
}

package hvlab.hw.boot;

import hvlab.hw.memory.PhysicalMemory;

import java.util.Objects;

/**
 * A firmware ROM given with {@code --bios FILE}: mapped to end at 4 GiB (its last 128 KiB also below 1 MiB). The CPU
 * then starts from its reset state at {@link #RESET_VECTOR}, which the CPU model sets up.
 */
public final class FirmwareImage {
    /** Where a reset IA-32 processor fetches its first instruction (SDM Vol. 3A §9.1.4). */
    public static final long RESET_VECTOR = 0xFFFF_FFF0L;
    public static final int SIZE_GRANULE = 64 << 10;
    public static final int MAX_SIZE = 16 << 20;

    private FirmwareImage() {
    }

    /** Checks the image as {@link PhysicalMemory#mapFirmware} requires it and maps it. */
    public static void map(PhysicalMemory memory, String imageName, byte[] image) throws BootImageException {
        Objects.requireNonNull(memory, "memory");
        validate(imageName, image);
        memory.mapFirmware(image);
    }

    /** A ROM image is a non-zero multiple of 64 KiB and at most 16 MiB. */
    public static void validate(String imageName, byte[] image) throws BootImageException {
        Objects.requireNonNull(imageName, "imageName");
        Objects.requireNonNull(image, "image");
        if (image.length == 0) {
            throw new BootImageException(imageName + " is an empty file; a firmware ROM image is a multiple of 64 KiB");
        }
        if (image.length % SIZE_GRANULE != 0) {
            throw new BootImageException(imageName + " is " + image.length + " bytes; a firmware ROM image must be a"
                    + " multiple of 64 KiB (65536 bytes)");
        }
        if (image.length > MAX_SIZE) {
            throw new BootImageException(imageName + " is " + MultibootLoader.describeSize(image.length)
                    + "; a firmware ROM image is at most 16 MiB");
        }
    }
}

package hvlab.spi;

/**
 * A guest to boot: a Multiboot kernel with its command line, a Linux bzImage with its initrd and command line, or a
 * firmware ROM started at the reset vector.
 */
public sealed interface GuestImage {
    String name();

    record Multiboot(String name, byte[] image, String commandLine) implements GuestImage { }

    /** A Linux/x86 bzImage booted by the 32-bit boot protocol; initrd is null for none. */
    record LinuxKernel(String name, byte[] image, byte[] initrd, String commandLine) implements GuestImage { }

    record Firmware(String name, byte[] image) implements GuestImage { }
}

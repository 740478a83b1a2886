package hvlab.spi;

/** A guest to boot: a Multiboot kernel with its command line, or a firmware ROM started at the reset vector. */
public sealed interface GuestImage {
    String name();

    record Multiboot(String name, byte[] image, String commandLine) implements GuestImage { }

    record Firmware(String name, byte[] image) implements GuestImage { }
}

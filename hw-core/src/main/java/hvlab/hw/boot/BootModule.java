package hvlab.hw.boot;

import java.util.Objects;

/**
 * A Multiboot boot module (Multiboot 0.6.96 §3.3, mods_*): its contents and the string the kernel sees for it,
 * by convention the module's name followed by its arguments.
 */
public record BootModule(String commandLine, byte[] contents) {
    public BootModule {
        Objects.requireNonNull(commandLine, "commandLine");
        Objects.requireNonNull(contents, "contents");
    }
}

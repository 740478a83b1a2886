package hvlab.guests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Debian's unmodified i386 kernel and busybox initramfs as guests/linux/fetch-linux.sh leaves them: outside git, in
 * {@code $HVLAB_LINUX_DIR} or {@code ~/.cache/hvlab/linux} (the system property {@value #FOLDER_PROPERTY} overrides
 * both, for tests).
 */
public final class LinuxCache {
    public static final String KERNEL = "vmlinuz";
    public static final String INITRD = "initrd.gz";
    /** What to tell a user whose cache is empty. */
    public static final String FETCH_HINT = "guests/linux/fetch-linux.sh fetches it";
    public static final String FOLDER_PROPERTY = "hvlab.linux.dir";

    private LinuxCache() {
    }

    /** The cache folder: the system property, $HVLAB_LINUX_DIR, or ~/.cache/hvlab/linux. */
    public static Path folder() {
        String configured = System.getProperty(FOLDER_PROPERTY, System.getenv("HVLAB_LINUX_DIR"));
        return configured != null && !configured.isEmpty() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "hvlab", "linux");
    }

    public static Path kernel() {
        return folder().resolve(KERNEL);
    }

    public static Path initrd() {
        return folder().resolve(INITRD);
    }

    /** Why the kernel cannot be booted here (not fetched), or empty when it can. */
    public static Optional<String> missing() {
        if (Files.isRegularFile(kernel()) && Files.isRegularFile(initrd())) {
            return Optional.empty();
        }
        return Optional.of("no Debian kernel in " + folder() + " (" + KERNEL + " and " + INITRD + "; " + FETCH_HINT
                + ")");
    }

    /** The kernel package as fetched, e.g. "linux-image-6.1.0-50-686 6.1.176-1", or "unknown". */
    public static String kernelPackage() {
        try {
            return Files.readString(folder().resolve("kernel-package")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }
}

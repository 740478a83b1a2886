package hvlab.hw.boot;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Adds files to an initramfs as the kernel reads one (Documentation/driver-api/early-userspace/buffer-format.rst):
 * archives one after another, compressed or not, each "newc" cpio header 4-byte aligned from the start of the
 * initrd. So a script can be given to a fetched initrd without unpacking it.
 */
public final class InitramfsArchive {
    /** newc mode of an executable regular file (S_IFREG | 0755). */
    public static final int EXECUTABLE = 0100755;

    private InitramfsArchive() {
    }

    /** The initrd with a second, uncompressed archive after it holding one file {@code name} with this mode. */
    public static byte[] withFile(byte[] initrd, String name, int mode, String contents) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(initrd);
        pad(out);
        entry(out, name, mode, contents.getBytes(StandardCharsets.UTF_8));
        entry(out, "TRAILER!!!", 0, new byte[0]);
        pad(out);
        return out.toByteArray();
    }

    private static void entry(ByteArrayOutputStream out, String name, int mode, byte[] data) {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        // c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime, c_filesize, c_devmajor, c_devminor, c_rdevmajor,
        // c_rdevminor, c_namesize, c_check
        int[] fields = {1, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0};
        StringBuilder header = new StringBuilder("070701");
        for (int field : fields) {
            header.append(String.format("%08x", field));
        }
        out.writeBytes(header.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(nameBytes);
        pad(out);
        out.writeBytes(data);
        pad(out);
    }

    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }
}

package hvlab.guests;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Small hand-assembled 64 KiB ROM images, for measuring rather than testing: the code sits at the start of the
 * image, which every PC maps at F000:0000 (physical 0xF0000) as well as below 4 GiB, and the reset vector
 * F000:FFF0 jumps there.
 */
public final class TinyRom {
    /** The size of a ROM image. */
    public static final int SIZE = 64 << 10;
    /** Instructions the {@link #exitAtOnce()} ROM retires up to and including its write to the exit port. */
    public static final long EXIT_AT_ONCE_INSTRUCTIONS = 3;

    private static final int RESET_VECTOR_OFFSET = 0xFFF0;
    private static final byte[] JMP_FAR_F000_0000 = {(byte) 0xEA, 0x00, 0x00, 0x00, (byte) 0xF0};

    private TinyRom() {
    }

    /** A ROM whose reset vector jumps to {@code code} at F000:0000, in real mode. */
    public static byte[] withCodeAtF0000(byte[] code) {
        if (code.length > RESET_VECTOR_OFFSET) {
            throw new IllegalArgumentException("code of " + code.length + " bytes overlaps the reset vector");
        }
        byte[] rom = new byte[SIZE];
        System.arraycopy(code, 0, rom, 0, code.length);
        System.arraycopy(JMP_FAR_F000_0000, 0, rom, RESET_VECTOR_OFFSET, JMP_FAR_F000_0000.length);
        return rom;
    }

    /**
     * A ROM that ends at once, the way the lab images end: {@link LabGuests#EXIT_SUCCESS} to the exit port (QEMU
     * exits), "Shutdown" to Bochs's shutdown port (Bochs exits), then {@code cli; hlt}. Its run time is what an
     * emulator needs to start and stop.
     */
    public static byte[] exitAtOnce() {
        ByteArrayOutputStream code = new ByteArrayOutputStream();
        code.writeBytes(new byte[] {(byte) 0xB0, LabGuests.EXIT_SUCCESS});                  // mov al, 0x10
        code.writeBytes(new byte[] {(byte) 0xE6, (byte) LabGuests.EXIT_PORT});               // out 0xf4, al
        code.writeBytes(new byte[] {(byte) 0xBA, 0x00, (byte) (LabGuests.BOCHS_SHUTDOWN_PORT >> 8)}); // mov dx, 0x8900
        for (byte c : "Shutdown".getBytes(StandardCharsets.US_ASCII)) {
            code.writeBytes(new byte[] {(byte) 0xB0, c, (byte) 0xEE});                       // mov al, c; out dx, al
        }
        code.writeBytes(new byte[] {(byte) 0xFA, (byte) 0xF4, (byte) 0xEB, (byte) 0xFC});    // cli; hlt; jmp cli
        return withCodeAtF0000(code.toByteArray());
    }
}

package hvlab.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The smallest bzImage (Linux boot.rst, The Real-Mode Kernel Header: boot_flag, "HdrS", protocol 2.15, LOADED_HIGH,
 * syssize, code32_start) around some 32-bit code, which the loader enters at 1 MiB with ESI at boot_params.
 */
public final class TinyBzImage {
    private TinyBzImage() {
    }

    public static byte[] around(byte[] code) {
        ByteBuffer file = ByteBuffer.allocate(5 * 512 + Math.max(16, code.length)).order(ByteOrder.LITTLE_ENDIAN);
        file.put(0x1F1, (byte) 4).putInt(0x1F4, 1).putShort(0x1FE, (short) 0xAA55);
        file.put(0x201, (byte) 0x6A).putInt(0x202, 0x5372_6448).putShort(0x206, (short) 0x020F);
        file.put(0x211, (byte) 1).putInt(0x214, 0x10_0000).putInt(0x22C, 0x7FFF_FFFF).putInt(0x238, 2047);
        file.put(5 * 512, code);
        return file.array();
    }
}

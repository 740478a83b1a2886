package hvlab.hw.memory;

import hvlab.hw.bus.MmioBus;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The 32-bit physical address space of a PC: RAM from 0, a firmware ROM ending at 4 GiB (its last 128 KiB, or all
 * of it if smaller, also visible below 1 MiB as on a PC), and MMIO windows. The CPU's fast path reads {@link #ram()}
 * directly for pages where {@link #isRamPage(int)}; everything else comes here.
 */
public final class PhysicalMemory {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;

    static final VarHandle LE_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle LE_SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private final byte[] ram;
    private final MmioBus mmio;
    private byte[] rom = new byte[0];
    private long romBase = 0x1_0000_0000L;
    private long romLowBase = 0x1_0000_0000L;
    private int a20Mask = -1;

    public PhysicalMemory(int ramBytes, MmioBus mmio) {
        if (ramBytes < 1 << 20 || (ramBytes & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("RAM must be at least 1 MiB and a whole number of pages: " + ramBytes);
        }
        this.ram = new byte[ramBytes];
        this.mmio = mmio;
    }

    /** Maps a firmware image so that it ends at 4 GiB, and its last 128 KiB (at most) ends at 1 MiB. */
    public void mapFirmware(byte[] image) {
        if (image.length == 0 || image.length % 0x10000 != 0 || image.length > 16 << 20) {
            throw new IllegalArgumentException("firmware image must be a multiple of 64 KiB and at most 16 MiB, is " + image.length + " bytes");
        }
        rom = image.clone();
        romBase = 0x1_0000_0000L - image.length;
        romLowBase = 0x10_0000L - Math.min(image.length, 0x20000);
    }

    public byte[] ram() {
        return ram;
    }

    public int ramSize() {
        return ram.length;
    }

    public MmioBus mmio() {
        return mmio;
    }

    /** The A20 gate: when off, physical address bit 20 reads as zero (8086 wrap-around). */
    public void setA20(boolean enabled) {
        a20Mask = enabled ? -1 : ~(1 << 20);
    }

    public boolean a20Enabled() {
        return a20Mask == -1;
    }

    public int a20Mask() {
        return a20Mask;
    }

    /** True when the whole 4 KiB page at this physical page number is plain RAM (fast path allowed). */
    public boolean isRamPage(int pageNumber) {
        long base = (pageNumber & 0xFFFFFL) << PAGE_SHIFT;
        return base + PAGE_SIZE <= ram.length && !(base >= romLowBase && base < 0x10_0000L);
    }

    public int readU8(int address) {
        long a = Integer.toUnsignedLong(address & a20Mask);
        if (a < ram.length && !inLowRom(a)) {
            return ram[(int) a] & 0xFF;
        }
        if (a >= romBase) {
            return rom[(int) (a - romBase)] & 0xFF;
        }
        if (inLowRom(a)) {
            return rom[(int) (rom.length - (0x10_0000L - a))] & 0xFF;
        }
        return mmio.read(a, 1) & 0xFF;
    }

    public void writeU8(int address, int value) {
        long a = Integer.toUnsignedLong(address & a20Mask);
        if (a < ram.length && !inLowRom(a)) {
            ram[(int) a] = (byte) value;
        } else if (a < romLowBase || a >= 0x10_0000L && a < romBase) {
            mmio.write(a, 1, value & 0xFF);
        }
        // writes to ROM are dropped, as on the real part
    }

    public int readU16(int address) {
        long a = Integer.toUnsignedLong(address & a20Mask);
        if ((a & 1) == 0 && isMmio(a)) {
            return mmio.read(a, 2) & 0xFFFF;
        }
        if (a + 1 < ram.length && !inLowRom(a) && !inLowRom(a + 1)) {
            return (short) LE_SHORT.get(ram, (int) a) & 0xFFFF;
        }
        return readU8(address) | readU8(address + 1) << 8;
    }

    public void writeU16(int address, int value) {
        long a = Integer.toUnsignedLong(address & a20Mask);
        if ((a & 1) == 0 && isMmio(a)) {
            mmio.write(a, 2, value & 0xFFFF);
        } else if (a + 1 < ram.length && !inLowRom(a) && !inLowRom(a + 1)) {
            LE_SHORT.set(ram, (int) a, (short) value);
        } else {
            writeU8(address, value);
            writeU8(address + 1, value >>> 8);
        }
    }

    public int readU32(int address) {
        long a = Integer.toUnsignedLong(address & a20Mask);
        if ((a & 3) == 0 && isMmio(a)) {
            return mmio.read(a, 4);
        }
        if (a + 3 < ram.length && !inLowRom(a) && !inLowRom(a + 3)) {
            return (int) LE_INT.get(ram, (int) a);
        }
        return readU16(address) | readU16(address + 2) << 16;
    }

    public void writeU32(int address, int value) {
        long a = Integer.toUnsignedLong(address & a20Mask);
        if ((a & 3) == 0 && isMmio(a)) {
            mmio.write(a, 4, value);
        } else if (a + 3 < ram.length && !inLowRom(a) && !inLowRom(a + 3)) {
            LE_INT.set(ram, (int) a, value);
        } else {
            writeU16(address, value);
            writeU16(address + 2, value >>> 16);
        }
    }

    /** Copies bytes into physical memory (loaders); ROM and MMIO are not targets. */
    public void load(int address, byte[] bytes, int offset, int length) {
        long a = Integer.toUnsignedLong(address);
        if (a + length > ram.length) {
            throw new IndexOutOfBoundsException("load of " + length + " bytes at 0x" + Long.toHexString(a)
                    + " runs past the end of RAM (" + ram.length + " bytes)");
        }
        System.arraycopy(bytes, offset, ram, (int) a, length);
    }

    private boolean inLowRom(long a) {
        return a >= romLowBase && a < 0x10_0000L;
    }

    private boolean isMmio(long a) {
        return a >= ram.length && a < romBase && !inLowRom(a);
    }

    static int leInt(byte[] bytes, int index) {
        return (int) LE_INT.get(bytes, index);
    }

    static void setLeInt(byte[] bytes, int index, int value) {
        LE_INT.set(bytes, index, value);
    }
}

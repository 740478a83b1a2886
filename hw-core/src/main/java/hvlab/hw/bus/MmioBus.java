package hvlab.hw.bus;

import java.util.Map;
import java.util.TreeMap;

/** Memory-mapped device windows in the 4 GiB physical space, outside RAM's fast path. Ranges may not overlap. */
public final class MmioBus {
    private record Window(long base, long length, String name, IoRegion region) { }

    private final TreeMap<Long, Window> windows = new TreeMap<>();

    public void map(long base, long length, String name, IoRegion region) {
        if (base < 0 || length <= 0 || base + length > 0x1_0000_0000L) {
            throw new BusConflictException("MMIO range " + Long.toHexString(base) + "+" + length + " of " + name + " is outside 4 GiB");
        }
        Map.Entry<Long, Window> below = windows.floorEntry(base + length - 1);
        if (below != null && below.getValue().base + below.getValue().length > base) {
            throw new BusConflictException("MMIO range of " + name + " at 0x" + Long.toHexString(base)
                    + " overlaps " + below.getValue().name);
        }
        windows.put(base, new Window(base, length, name, region));
    }

    /** True when some device claims this physical address. */
    public boolean claims(long address) {
        return find(address) != null;
    }

    /** Reads from a claimed address; unclaimed reads return all ones (open bus). */
    public int read(long address, int size) {
        Window w = find(address);
        if (w == null) {
            return size == 4 ? -1 : (1 << (size * 8)) - 1;
        }
        return w.region.read((int) (address - w.base), size);
    }

    public void write(long address, int size, int value) {
        Window w = find(address);
        if (w != null) {
            w.region.write((int) (address - w.base), size, value);
        }
    }

    private Window find(long address) {
        Map.Entry<Long, Window> e = windows.floorEntry(address);
        if (e == null) {
            return null;
        }
        Window w = e.getValue();
        return address < w.base + w.length ? w : null;
    }
}

package hvlab.hw.bus;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The 64 KiB x86 I/O port space. Ranges may not overlap. Lookup is one array read per access: IN/OUT are hot in
 * I/O-bound guests, so a table of 65,536 slots beats a tree walk here.
 */
public final class PortBus {
    private static final int PORTS = 0x10000;

    private final IoRegion[] regionAt = new IoRegion[PORTS];
    private final int[] baseAt = new int[PORTS];
    private final String[] nameAt = new String[PORTS];
    private IntConsumer unclaimedAccess = port -> { };

    public void map(int base, int length, String name, IoRegion region) {
        if (base < 0 || length <= 0 || base + length > PORTS) {
            throw new BusConflictException("port range " + hex(base) + "+" + length + " of " + name + " is outside the I/O space");
        }
        for (int port = base; port < base + length; port++) {
            if (regionAt[port] != null) {
                throw new BusConflictException("port " + hex(port) + " of " + name + " is already claimed by " + nameAt[port]);
            }
        }
        for (int port = base; port < base + length; port++) {
            regionAt[port] = region;
            baseAt[port] = base;
            nameAt[port] = name;
        }
    }

    /** Called with the port number of each access nobody claims (reads then return all ones, as an open ISA bus). */
    public void onUnclaimedAccess(IntConsumer listener) {
        this.unclaimedAccess = listener;
    }

    public int read(int port, int size) {
        port &= 0xFFFF;
        IoRegion region = regionAt[port];
        if (region == null) {
            unclaimedAccess.accept(port);
            return size == 4 ? -1 : (1 << (size * 8)) - 1;
        }
        return region.read(port - baseAt[port], size);
    }

    public void write(int port, int size, int value) {
        port &= 0xFFFF;
        IoRegion region = regionAt[port];
        if (region == null) {
            unclaimedAccess.accept(port);
            return;
        }
        region.write(port - baseAt[port], size, value);
    }

    public String nameAt(int port) {
        return nameAt[port & 0xFFFF];
    }

    public boolean isClaimed(int port) {
        return regionAt[port & 0xFFFF] != null;
    }

    static String hex(int value) {
        return "0x" + Integer.toHexString(value);
    }

    @Override
    public String toString() {
        return "PortBus" + Arrays.stream(nameAt).filter(n -> n != null).distinct().toList();
    }
}

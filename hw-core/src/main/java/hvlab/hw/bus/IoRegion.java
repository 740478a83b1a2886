package hvlab.hw.bus;

/**
 * A device's register window as seen from a bus: offsets are relative to the window's base, sizes are 1, 2 or 4
 * bytes. A device implements this and knows nothing of where it is mapped.
 */
public interface IoRegion {
    int read(int offset, int size);

    void write(int offset, int size, int value);
}

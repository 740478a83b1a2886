package hvlab.hw.device.i8042;

import java.util.Arrays;

/** A small bounded FIFO of tagged bytes (value in bits 0-7, a source tag above), allocation-free once built. */
final class ByteQueue {
    private final int[] entries;
    private int head;
    private int size;

    ByteQueue(int capacity) {
        entries = new int[capacity];
    }

    /** False when full: the entry is dropped, as a keyboard drops keys when its buffer overflows. */
    boolean offer(int entry) {
        if (size == entries.length) {
            return false;
        }
        entries[(head + size) % entries.length] = entry;
        size++;
        return true;
    }

    int take() {
        int entry = entries[head];
        head = (head + 1) % entries.length;
        size--;
        return entry;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void clear() {
        head = 0;
        size = 0;
    }

    int[] toArray() {
        int[] copy = new int[size];
        for (int i = 0; i < size; i++) {
            copy[i] = entries[(head + i) % entries.length];
        }
        return copy;
    }

    void load(int[] contents) {
        clear();
        Arrays.stream(contents).limit(entries.length).forEach(this::offer);
    }
}

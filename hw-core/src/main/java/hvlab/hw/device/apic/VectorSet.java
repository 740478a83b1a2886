package hvlab.hw.device.apic;

import java.util.Arrays;

/** A 256-bit register (IRR, ISR, TMR) as eight 32-bit words, with its highest set vector kept at hand. */
final class VectorSet {
    private final int[] words = new int[8];
    private int highest = -1;

    boolean contains(int vector) {
        return (words[vector >>> 5] & 1 << (vector & 31)) != 0;
    }

    void add(int vector) {
        words[vector >>> 5] |= 1 << (vector & 31);
        highest = Math.max(highest, vector);
    }

    void remove(int vector) {
        words[vector >>> 5] &= ~(1 << (vector & 31));
        if (vector == highest) {
            highest = scanHighest();
        }
    }

    /** The highest vector in the set, or -1. */
    int highest() {
        return highest;
    }

    int word(int index) {
        return words[index];
    }

    void clear() {
        Arrays.fill(words, 0);
        highest = -1;
    }

    int[] toArray() {
        return words.clone();
    }

    void load(int[] contents) {
        System.arraycopy(contents, 0, words, 0, words.length);
        highest = scanHighest();
    }

    private int scanHighest() {
        for (int i = words.length - 1; i >= 0; i--) {
            if (words[i] != 0) {
                return i * 32 + 31 - Integer.numberOfLeadingZeros(words[i]);
            }
        }
        return -1;
    }
}

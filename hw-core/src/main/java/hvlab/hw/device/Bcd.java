package hvlab.hw.device;

/** Binary-coded decimal, as the 8254 counters and the MC146818 calendar use it. */
public final class Bcd {
    private Bcd() {
    }

    public static int encode(int value) {
        int bcd = 0;
        for (int shift = 0; value > 0; shift += 4, value /= 10) {
            bcd |= (value % 10) << shift;
        }
        return bcd;
    }

    /** Decodes nibble by nibble; a nonsense digit (A-F) weighs its binary value, as a decimal counter would count it. */
    public static int decode(int bcd) {
        int value = 0;
        for (int shift = 28; shift >= 0; shift -= 4) {
            value = value * 10 + ((bcd >>> shift) & 0xF);
        }
        return value;
    }
}

package hvlab.hw.cpu;

/** IA-32 exception and interrupt vectors (SDM Vol. 3A, 6.3.1, Table 6-1). */
public final class Exceptions {
    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
            TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19;

    /** Marks "no error code" where an error code is optional. */
    static final int NO_ERROR_CODE = -1;

    private Exceptions() {
    }

    /** What {@link #duringDelivery} answers when the processor must shut down (a triple fault). */
    public static final int TRIPLE_FAULT = -2;

    /**
     * The exception the processor delivers when {@code second} arises while it delivers exception {@code first}
     * (SDM 6.15, Table 6-5): a double fault for two contributory faults or a #PF followed by a #PF or contributory
     * fault, {@link #TRIPLE_FAULT} for anything while delivering #DF, else {@code second} itself.
     */
    public static int duringDelivery(int first, int second) {
        if (first == DF) {
            return TRIPLE_FAULT;
        }
        if (isContributory(first) && isContributory(second)
                || first == PF && (second == PF || isContributory(second))) {
            return DF;
        }
        return second;
    }

    /** Contributory exceptions (SDM 6.15, Table 6-4 and 6-5): two in a row make a double fault. */
    static boolean isContributory(int vector) {
        return vector == DE || vector == TS || vector == NP || vector == SS || vector == GP;
    }

    /** Exceptions that push an error code (SDM 6.13). */
    static boolean pushesErrorCode(int vector) {
        return vector == DF || vector == TS || vector == NP || vector == SS || vector == GP || vector == PF || vector == AC;
    }

    public static String name(int vector) {
        return switch (vector) {
            case DE -> "#DE"; case DB -> "#DB"; case NMI -> "NMI"; case BP -> "#BP"; case OF -> "#OF";
            case BR -> "#BR"; case UD -> "#UD"; case NM -> "#NM"; case DF -> "#DF"; case TS -> "#TS";
            case NP -> "#NP"; case SS -> "#SS"; case GP -> "#GP"; case PF -> "#PF"; case MF -> "#MF";
            case AC -> "#AC"; case MC -> "#MC"; case XM -> "#XM";
            default -> "INT 0x" + Integer.toHexString(vector);
        };
    }
}

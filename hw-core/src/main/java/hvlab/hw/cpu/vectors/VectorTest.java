package hvlab.hw.cpu.vectors;

import java.util.Arrays;

/**
 * One SingleStepTests case, read in place from its JSON line into reusable arrays: the reader fills the same
 * instance for every line of a file, so a run allocates nothing per test for its data.
 */
final class VectorTest {
    /** The 14 registers of the format, in its order. */
    static final String[] REGISTERS = {"ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip",
            "flags"};
    static final int AX = 0, BX = 1, CX = 2, DX = 3, CS = 4, SS = 5, DS = 6, ES = 7, SP = 8, BP = 9, SI = 10,
            DI = 11, IP = 12, FLAGS = 13;
    private static final int ALL_REGISTERS = (1 << REGISTERS.length) - 1;
    /** The 286 has 24 address lines. */
    private static final int ADDRESS_LIMIT = 1 << 24;

    int idx;
    /** Byte offset of the name string in the line (decoded only when a report needs it). */
    private int namePosition;
    private JsonReader line;

    int[] bytes = new int[16];
    int byteCount;

    final int[] initialRegs = new int[REGISTERS.length];
    final int[] finalRegs = new int[REGISTERS.length];
    /** Bit r set: final.regs names register r. */
    int finalPresent;

    final Ram initialRam = new Ram();
    final Ram finalRam = new Ram();

    /** Vector number from {@code exception}, or -1. */
    int exception;
    int flagAddress;

    /** Address/byte pairs. */
    static final class Ram {
        int[] address = new int[64];
        int[] value = new int[64];
        int count;

        void add(int a, int v) {
            if (count == address.length) {
                address = Arrays.copyOf(address, count * 2);
                value = Arrays.copyOf(value, count * 2);
            }
            address[count] = a;
            value[count] = v;
            count++;
        }

        /** Index of an address, or -1. */
        int indexOf(int a) {
            for (int i = 0; i < count; i++) {
                if (address[i] == a) {
                    return i;
                }
            }
            return -1;
        }
    }

    int expectedRegister(int r) {
        return (finalPresent & 1 << r) != 0 ? finalRegs[r] : initialRegs[r];
    }

    /**
     * Where the exception pushed FLAGS. {@code flag_address} is the even address of the bus word that held it: with
     * an odd SP the word starts one byte higher (checked against final SS:SP + 4 on every test of this set).
     */
    int flagsWordAddress() {
        return flagAddress + (expectedRegister(SP) & 1);
    }

    /** The instruction's length: the bytes without the terminating HLT. */
    int instructionLength() {
        return byteCount - 1;
    }

    String name() {
        int saved = line.position();
        JsonReader r = line;
        // Re-read the name from the line; only reports come here.
        try {
            r.seek(namePosition);
            return r.nextString();
        } finally {
            r.seek(saved);
        }
    }

    /** Parses one line of a {@code .jsonl} file; the reader must stay untouched while {@link #name()} may be called. */
    void read(JsonReader r) {
        line = r;
        idx = -1;
        namePosition = -1;
        byteCount = 0;
        finalPresent = 0;
        initialRam.count = 0;
        finalRam.count = 0;
        exception = -1;
        flagAddress = -1;
        boolean sawInitial = false, sawFinal = false;
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            switch (key) {
                case "idx" -> idx = r.nextInt();
                case "name" -> {
                    namePosition = r.position();
                    r.skipValue();
                }
                case "bytes" -> readBytes(r);
                case "initial" -> {
                    int present = readState(r, initialRegs, initialRam);
                    if (present != ALL_REGISTERS) {
                        throw r.error("initial.regs must name all 14 registers");
                    }
                    sawInitial = true;
                }
                case "final" -> {
                    finalPresent = readState(r, finalRegs, finalRam);
                    sawFinal = true;
                }
                case "exception" -> readException(r);
                default -> r.skipValue(); // hash, and fields of later format versions
            }
        }
        r.endObject();
        r.endDocument();
        if (idx < 0 || namePosition < 0 || byteCount == 0 || !sawInitial || !sawFinal) {
            throw r.error("a test needs idx, name, bytes, initial and final");
        }
        if (bytes[byteCount - 1] != 0xF4) {
            throw r.error("bytes must end with the HLT (F4) that ends the test");
        }
    }

    private void readBytes(JsonReader r) {
        r.beginArray();
        while (r.hasNext()) {
            if (byteCount == bytes.length) {
                bytes = Arrays.copyOf(bytes, byteCount * 2);
            }
            bytes[byteCount++] = byteValue(r);
        }
        r.endArray();
    }

    private static int byteValue(JsonReader r) {
        int v = r.nextInt();
        if (v < 0 || v > 0xFF) {
            throw r.error("not a byte: " + v);
        }
        return v;
    }

    private static int readState(JsonReader r, int[] regs, Ram ram) {
        int present = 0;
        r.beginObject();
        while (r.hasNext()) {
            switch (r.nextName()) {
                case "regs" -> present = readRegisters(r, regs);
                case "ram" -> readRam(r, ram);
                default -> r.skipValue(); // queue (prefetch), absent in this set
            }
        }
        r.endObject();
        return present;
    }

    private static int readRegisters(JsonReader r, int[] regs) {
        int present = 0;
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            int n = registerIndex(name);
            if (n < 0) {
                throw r.error("unknown register " + name);
            }
            if ((present & 1 << n) != 0) {
                throw r.error("register " + name + " given twice");
            }
            int v = r.nextInt();
            if (v < 0 || v > 0xFFFF) {
                throw r.error("not a 16-bit value: " + v);
            }
            regs[n] = v;
            present |= 1 << n;
        }
        r.endObject();
        return present;
    }

    private static int registerIndex(String name) {
        for (int i = 0; i < REGISTERS.length; i++) {
            if (REGISTERS[i] == name || REGISTERS[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static void readRam(JsonReader r, Ram ram) {
        r.beginArray();
        while (r.hasNext()) {
            r.beginArray();
            if (!r.hasNext()) {
                throw r.error("expected [address, byte]");
            }
            int a = r.nextInt();
            if (a < 0 || a >= ADDRESS_LIMIT) {
                throw r.error("address beyond 24 bits: " + a);
            }
            if (!r.hasNext()) {
                throw r.error("expected [address, byte]");
            }
            int v = byteValue(r);
            r.endArray();
            ram.add(a, v);
        }
        r.endArray();
    }

    private void readException(JsonReader r) {
        r.beginObject();
        while (r.hasNext()) {
            switch (r.nextName()) {
                case "number" -> exception = r.nextInt();
                case "flag_address" -> flagAddress = r.nextInt();
                default -> r.skipValue();
            }
        }
        r.endObject();
        if (exception < 0 || exception > 0xFF || flagAddress < 0 || flagAddress >= ADDRESS_LIMIT) {
            throw r.error("exception needs number and flag_address");
        }
    }
}

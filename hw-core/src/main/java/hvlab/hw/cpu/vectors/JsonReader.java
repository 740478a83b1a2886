package hvlab.hw.cpu.vectors;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A strict JSON (RFC 8259) pull reader over UTF-8 bytes: the JDK and the project's allowed libraries have none.
 *
 * <p>The caller knows the shape it expects and walks it with {@link #beginObject()}, {@link #hasNext()},
 * {@link #nextName()} and the value readers; anything off the grammar (trailing commas, leading zeros, bad escapes,
 * raw control characters, trailing bytes) is a {@link JsonException} with the byte offset. Numbers are read as
 * integers without allocation, and object keys come from a small intern table, so walking a document allocates
 * nothing beyond the strings the caller asks for.
 */
final class JsonReader {
    private static final int MAX_DEPTH = 64;
    private static final int NAME_CACHE = 64;

    private byte[] in;
    private int start, pos, end;
    /** Per open container: '{' or '[' and whether the next element is the first. */
    private final byte[] kind = new byte[MAX_DEPTH];
    private final boolean[] first = new boolean[MAX_DEPTH];
    private int depth;
    private final String[] names = new String[NAME_CACHE];

    JsonReader() {
        this(new byte[0], 0);
    }

    JsonReader(byte[] input, int length) {
        reset(input, 0, length);
    }

    /** Reads a new document from {@code input[from..to)}; the name table survives, so keys stay shared. */
    JsonReader reset(byte[] input, int from, int to) {
        this.in = input;
        this.start = from;
        this.pos = from;
        this.end = to;
        this.depth = 0;
        return this;
    }

    int position() {
        return pos;
    }

    /** Moves back (or forward) to a position returned by {@link #position()}, to re-read a value. */
    void seek(int position) {
        if (position < start || position > end) {
            throw error("seek outside the input");
        }
        pos = position;
    }

    // ---- structure ----

    void beginObject() {
        open('{');
    }

    void beginArray() {
        open('[');
    }

    void endObject() {
        close('{', '}');
    }

    void endArray() {
        close('[', ']');
    }

    private void open(char c) {
        expect(c);
        if (depth == MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        kind[depth] = (byte) c;
        first[depth] = true;
        depth++;
    }

    private void close(char open, char c) {
        if (depth == 0 || kind[depth - 1] != open) {
            throw error("no open " + open + " to close");
        }
        expect(c);
        depth--;
    }

    /** True if the current object or array has another member; consumes the comma between members. */
    boolean hasNext() {
        if (depth == 0) {
            throw error("not inside an object or array");
        }
        skipWhitespace();
        int b = peekByte();
        byte closer = (byte) (kind[depth - 1] == '{' ? '}' : ']');
        if (b == closer) {
            return false;
        }
        if (first[depth - 1]) {
            first[depth - 1] = false;
            return true;
        }
        if (b != ',') {
            throw error("expected ',' or '" + (char) closer + "'");
        }
        pos++;
        skipWhitespace();
        if (peekByte() == closer) {
            throw error("trailing comma");
        }
        return true;
    }

    /** The next member's key (then the colon). Keys are interned: the same key is the same String every time. */
    String nextName() {
        if (depth == 0 || kind[depth - 1] != '{') {
            throw error("a key outside an object");
        }
        skipWhitespace();
        if (peekByte() != '"') {
            throw error("expected a key");
        }
        int start = pos + 1;
        int hash = 0;
        boolean plain = true;
        int p = start;
        while (true) {
            if (p >= end) {
                throw error("unterminated string");
            }
            int b = in[p];
            if (b == '"') {
                break;
            }
            if (b == '\\' || b < 0x20) { // escapes, non-ASCII (negative bytes) and control characters
                plain = false;
                break;
            }
            hash = 31 * hash + b;
            p++;
        }
        String name;
        if (plain) {
            int slot = (hash ^ hash >>> 7) & (NAME_CACHE - 1);
            String cached = names[slot];
            if (cached != null && sameAscii(cached, start, p)) {
                name = cached;
            } else {
                name = new String(in, start, p - start, StandardCharsets.US_ASCII);
                names[slot] = name;
            }
            pos = p + 1;
        } else {
            name = nextString();
        }
        skipWhitespace();
        expect(':');
        return name;
    }

    private boolean sameAscii(String s, int from, int to) {
        if (s.length() != to - from) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) != in[from + i]) {
                return false;
            }
        }
        return true;
    }

    /** Checks that nothing but whitespace follows the top-level value. */
    void endDocument() {
        if (depth != 0) {
            throw error("unclosed object or array");
        }
        skipWhitespace();
        if (pos != end) {
            throw error("unexpected data after the document");
        }
    }

    // ---- values ----

    enum Kind { OBJECT, ARRAY, STRING, NUMBER, TRUE, FALSE, NULL }

    Kind peek() {
        skipWhitespace();
        return switch (peekByte()) {
            case '{' -> Kind.OBJECT;
            case '[' -> Kind.ARRAY;
            case '"' -> Kind.STRING;
            case 't' -> Kind.TRUE;
            case 'f' -> Kind.FALSE;
            case 'n' -> Kind.NULL;
            case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> Kind.NUMBER;
            default -> throw error("expected a value");
        };
    }

    /** An integer in the int range; fractions and exponents are refused (the vector format has none). */
    int nextInt() {
        long v = nextLong();
        if (v != (int) v) {
            throw error("integer out of range: " + v);
        }
        return (int) v;
    }

    long nextLong() {
        skipWhitespace();
        int start = pos;
        boolean negative = false;
        if (peekByte() == '-') {
            negative = true;
            pos++;
        }
        int b = peekByte();
        if (b < '0' || b > '9') {
            throw error("expected a number");
        }
        long v = 0;
        if (b == '0') {
            pos++;
            if (pos < end && in[pos] >= '0' && in[pos] <= '9') {
                throw error("leading zero");
            }
        } else {
            while (pos < end && in[pos] >= '0' && in[pos] <= '9') {
                if (v > (Long.MAX_VALUE - 9) / 10) {
                    throw error("number too large");
                }
                v = v * 10 + (in[pos] - '0');
                pos++;
            }
        }
        if (pos < end && (in[pos] == '.' || in[pos] == 'e' || in[pos] == 'E')) {
            pos = start;
            throw error("expected an integer");
        }
        return negative ? -v : v;
    }

    /** A string value, unescaped; the bytes must be valid UTF-8. */
    String nextString() {
        skipWhitespace();
        expect('"');
        StringBuilder sb = null;
        int runStart = pos;
        while (true) {
            if (pos >= end) {
                throw error("unterminated string");
            }
            int b = in[pos];
            if (b == '"') {
                String run = utf8(runStart, pos);
                pos++;
                return sb == null ? run : sb.append(run).toString();
            }
            if (b >= 0 && b < 0x20) {
                throw error("control character in a string");
            }
            if (b != '\\') {
                pos++;
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder();
            }
            sb.append(utf8(runStart, pos));
            pos++;
            if (pos >= end) {
                throw error("unterminated escape");
            }
            int e = in[pos++];
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> sb.append(hex4());
                default -> {
                    pos--;
                    throw error("bad escape");
                }
            }
            runStart = pos;
        }
    }

    private char hex4() {
        if (pos + 4 > end) {
            throw error("short \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(in[pos + i], 16);
            if (d < 0) {
                throw error("bad \\u escape");
            }
            v = v << 4 | d;
        }
        pos += 4;
        return (char) v;
    }

    private String utf8(int from, int to) {
        boolean ascii = true;
        for (int i = from; i < to; i++) {
            if (in[i] < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(in, from, to - from, StandardCharsets.US_ASCII);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(in, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            pos = from;
            throw error("invalid UTF-8 in a string");
        }
    }

    boolean nextBoolean() {
        skipWhitespace();
        if (literal("true")) {
            return true;
        }
        if (literal("false")) {
            return false;
        }
        throw error("expected true or false");
    }

    void nextNull() {
        skipWhitespace();
        if (!literal("null")) {
            throw error("expected null");
        }
    }

    private boolean literal(String word) {
        if (pos + word.length() > end) {
            return false;
        }
        for (int i = 0; i < word.length(); i++) {
            if (in[pos + i] != word.charAt(i)) {
                return false;
            }
        }
        pos += word.length();
        return true;
    }

    /** Skips one value of any kind, checking its grammar all the same. */
    void skipValue() {
        switch (peek()) {
            case OBJECT -> {
                beginObject();
                while (hasNext()) {
                    nextName();
                    skipValue();
                }
                endObject();
            }
            case ARRAY -> {
                beginArray();
                while (hasNext()) {
                    skipValue();
                }
                endArray();
            }
            case STRING -> skipString();
            case NUMBER -> skipNumber();
            case TRUE, FALSE -> nextBoolean();
            case NULL -> nextNull();
        }
    }

    private void skipString() {
        int save = pos;
        // Validate with the real decoder only when the string is not plain ASCII without escapes.
        expect('"');
        while (pos < end && in[pos] != '"' && in[pos] != '\\' && in[pos] >= 0x20) {
            pos++;
        }
        if (pos < end && in[pos] == '"') {
            pos++;
            return;
        }
        pos = save;
        nextString();
    }

    private void skipNumber() {
        if (peekByte() == '-') {
            pos++;
        }
        int b = peekByte();
        if (b == '0') {
            pos++;
        } else if (b >= '1' && b <= '9') {
            digits();
        } else {
            throw error("expected a number");
        }
        if (pos < end && in[pos] == '.') {
            pos++;
            digits();
        }
        if (pos < end && (in[pos] == 'e' || in[pos] == 'E')) {
            pos++;
            if (pos < end && (in[pos] == '+' || in[pos] == '-')) {
                pos++;
            }
            digits();
        }
    }

    private void digits() {
        int b = peekByte();
        if (b < '0' || b > '9') {
            throw error("expected a digit");
        }
        while (pos < end && in[pos] >= '0' && in[pos] <= '9') {
            pos++;
        }
    }

    // ---- bytes ----

    private void skipWhitespace() {
        while (pos < end) {
            int b = in[pos];
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return;
            }
            pos++;
        }
    }

    private int peekByte() {
        if (pos >= end) {
            throw error("unexpected end of input");
        }
        return in[pos];
    }

    private void expect(char c) {
        skipWhitespace();
        if (peekByte() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    JsonException error(String message) {
        return new JsonException(message + " at byte " + pos);
    }

    /** Malformed input, with the byte offset where reading stopped. */
    static final class JsonException extends RuntimeException {
        JsonException(String message) {
            super(message);
        }
    }
}

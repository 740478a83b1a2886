package hvlab.hw.firmware;

import java.io.ByteArrayOutputStream;

/**
 * A small encoder for ACPI Machine Language (ACPI 6.4, 20.2): the few terms a DSDT needs to name objects, group them
 * in scopes and devices, and give them integer, string and package values. Every method returns the encoded term;
 * terms nest by passing the bytes of the inner ones.
 */
public final class Aml {
    // Opcodes (20.2.5, 20.3).
    static final int ZERO_OP = 0x00, ONE_OP = 0x01, NAME_OP = 0x08, BYTE_PREFIX = 0x0A, WORD_PREFIX = 0x0B,
            DWORD_PREFIX = 0x0C, STRING_PREFIX = 0x0D, QWORD_PREFIX = 0x0E, SCOPE_OP = 0x10, BUFFER_OP = 0x11,
            PACKAGE_OP = 0x12, EXT_OP_PREFIX = 0x5B, DEVICE_OP = 0x82;
    // Small resource descriptors (6.4.2): tag byte = type << 3 | length.
    static final int IRQ_NO_FLAGS = 0x04 << 3 | 2, IO_PORT = 0x08 << 3 | 7, END_TAG = 0x0F << 3 | 1;
    static final int IO_DECODE_16 = 1;
    // Name prefixes (20.2.2).
    static final int ROOT_CHAR = '\\', PARENT_PREFIX_CHAR = '^', DUAL_NAME_PREFIX = 0x2E, MULTI_NAME_PREFIX = 0x2F;
    /** The largest length a PkgLength can encode: 28 bits (20.2.4). */
    static final int MAX_PKG_LENGTH = (1 << 28) - 1;

    private Aml() {
    }

    /** DefName: Name(path, value) (19.6.91). */
    public static byte[] name(String path, byte[] value) {
        return concat(new byte[] {NAME_OP}, nameString(path), value);
    }

    /** DefScope: Scope(path) { terms } (19.6.122). */
    public static byte[] scope(String path, byte[]... terms) {
        return withPkgLength(new byte[] {SCOPE_OP}, concat(nameString(path), concat(terms)));
    }

    /** DefDevice: Device(name) { terms } (19.6.31). */
    public static byte[] device(String name, byte[]... terms) {
        return withPkgLength(new byte[] {EXT_OP_PREFIX, (byte) DEVICE_OP}, concat(nameString(name), concat(terms)));
    }

    /** DefPackage: Package(n) { elements } with NumElements = the number given (19.6.102). */
    public static byte[] pkg(byte[]... elements) {
        if (elements.length > 255) {
            throw new IllegalArgumentException("a Package holds at most 255 elements, not " + elements.length);
        }
        return withPkgLength(new byte[] {PACKAGE_OP}, concat(new byte[] {(byte) elements.length}, concat(elements)));
    }

    /** DefBuffer: Buffer(n) { bytes } with BufferSize = the number of bytes (19.6.10). */
    public static byte[] buffer(byte[] bytes) {
        return withPkgLength(new byte[] {BUFFER_OP}, concat(integer(bytes.length), bytes));
    }

    /** ResourceTemplate() { descriptors }: a buffer of resource descriptors closed by an End Tag (19.6.117, 6.4.2.9). */
    public static byte[] resourceTemplate(byte[]... descriptors) {
        // an End Tag checksum of 0 means "treat as checksummed" (6.4.2.9)
        return buffer(concat(concat(descriptors), new byte[] {(byte) END_TAG, 0}));
    }

    /** IO(Decode16, base, base, alignment, length): a fixed range of I/O ports with 16-bit decode (6.4.2.5). */
    public static byte[] io(int base, int alignment, int length) {
        return new byte[] {IO_PORT, IO_DECODE_16, (byte) base, (byte) (base >>> 8), (byte) base, (byte) (base >>> 8),
                (byte) alignment, (byte) length};
    }

    /** IRQNoFlags() { irq }: an edge-triggered, active-high ISA interrupt (6.4.2.1). */
    public static byte[] irqNoFlags(int irq) {
        int mask = 1 << irq;
        return new byte[] {IRQ_NO_FLAGS, (byte) mask, (byte) (mask >>> 8)};
    }

    /** An integer in its shortest form: ZeroOp, OneOp, or a Byte/Word/DWord/QWord constant (20.2.3). */
    public static byte[] integer(long value) {
        if (value == 0) {
            return new byte[] {ZERO_OP};
        }
        if (value == 1) {
            return new byte[] {ONE_OP};
        }
        int bytes = value >>> 8 == 0 ? 1 : value >>> 16 == 0 ? 2 : value >>> 32 == 0 ? 4 : 8;
        int prefix = switch (bytes) {
            case 1 -> BYTE_PREFIX;
            case 2 -> WORD_PREFIX;
            case 4 -> DWORD_PREFIX;
            default -> QWORD_PREFIX;
        };
        byte[] out = new byte[1 + bytes];
        out[0] = (byte) prefix;
        for (int i = 0; i < bytes; i++) {
            out[1 + i] = (byte) (value >>> (8 * i));
        }
        return out;
    }

    /** A null-terminated ASCII string constant (20.2.3). */
    public static byte[] string(String text) {
        byte[] out = new byte[text.length() + 2];
        out[0] = STRING_PREFIX;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x01 || c > 0x7F) {
                throw new IllegalArgumentException("AML strings are ASCII without NUL: " + text);
            }
            out[1 + i] = (byte) c;
        }
        return out;
    }

    /**
     * The 32-bit compressed EISA ID of a PNP-style identifier such as "PNP0A03", as ASL's EISAID() makes it (19.6.35):
     * three letters in five bits each, then four hexadecimal digits, stored big-endian.
     */
    public static long eisaId(String id) {
        if (!id.matches("[A-Z@\\[\\\\\\]^_]{3}[0-9A-F]{4}")) {
            throw new IllegalArgumentException("an EISA ID is three capitals and four hex digits, not " + id);
        }
        int letters = (id.charAt(0) - 0x40) << 10 | (id.charAt(1) - 0x40) << 5 | (id.charAt(2) - 0x40);
        int product = Integer.parseInt(id.substring(3), 16);
        int bigEndian = letters << 16 | product;
        return Integer.toUnsignedLong(Integer.reverseBytes(bigEndian));
    }

    /** NameString (20.2.2): an optional root or parent prefix, then one, two or more dot-separated NameSegs. */
    public static byte[] nameString(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        if (path.startsWith("\\")) {
            out.write(ROOT_CHAR);
            i = 1;
        } else {
            while (i < path.length() && path.charAt(i) == '^') {
                out.write(PARENT_PREFIX_CHAR);
                i++;
            }
        }
        String rest = path.substring(i);
        String[] segments = rest.isEmpty() ? new String[0] : rest.split("\\.", -1);
        if (segments.length == 2) {
            out.write(DUAL_NAME_PREFIX);
        } else if (segments.length > 2) {
            if (segments.length > 255) {
                throw new IllegalArgumentException("too many name segments: " + path);
            }
            out.write(MULTI_NAME_PREFIX);
            out.write(segments.length);
        } else if (segments.length == 0) {
            out.write(0); // NullName
        }
        for (String segment : segments) {
            out.writeBytes(nameSeg(segment, path));
        }
        return out.toByteArray();
    }

    /** NameSeg: a lead character A-Z or '_', then up to three of A-Z, 0-9, '_', padded to four with '_'. */
    static byte[] nameSeg(String segment, String path) {
        if (!segment.matches("[A-Z_][A-Z0-9_]{0,3}")) {
            throw new IllegalArgumentException("'" + segment + "' in '" + path + "' is not an AML NameSeg");
        }
        byte[] seg = {'_', '_', '_', '_'};
        for (int i = 0; i < segment.length(); i++) {
            seg[i] = (byte) segment.charAt(i);
        }
        return seg;
    }

    /**
     * PkgLength (20.2.4) for a body of {@code bodyLength} bytes. The encoded length counts the PkgLength bytes too.
     * One byte holds up to 63 in bits 5-0; otherwise bits 7-6 of the lead byte say how many bytes follow (1-3), its
     * bits 3-0 hold the low nibble and each following byte the next eight bits.
     */
    public static byte[] pkgLength(int bodyLength) {
        if (bodyLength < 0) {
            throw new IllegalArgumentException("negative length " + bodyLength);
        }
        if (bodyLength + 1 <= 0x3F) {
            return new byte[] {(byte) (bodyLength + 1)};
        }
        for (int follow = 1; follow <= 3; follow++) {
            long total = (long) bodyLength + 1 + follow;
            if (total < 1L << (4 + 8 * follow)) {
                byte[] out = new byte[1 + follow];
                out[0] = (byte) (follow << 6 | (int) (total & 0xF));
                for (int i = 1; i <= follow; i++) {
                    out[i] = (byte) (total >>> (4 + 8 * (i - 1)));
                }
                return out;
            }
        }
        throw new IllegalArgumentException("an AML package body of " + bodyLength + " bytes exceeds the 28-bit PkgLength");
    }

    private static byte[] withPkgLength(byte[] opcode, byte[] body) {
        return concat(opcode, pkgLength(body.length), body);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}

package hvlab.hw.cpu.vectors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The undefined-flag masks of a SingleStepTests {@code metadata.json}: {@code opcodes["XX"]["flags-mask"]}, or
 * {@code opcodes["XX"]["reg"]["N"]["flags-mask"]} for ModRM groups. A mask has a 0 for each flag the instruction
 * leaves undefined; expected and actual FLAGS are both ANDed with it.
 */
final class Metadata {
    static final int ALL_FLAGS = 0xFFFF;

    /** "XX" or "XX.N" (upper-case hex) to mask; opcodes without undefined flags are absent. */
    private final Map<String, Integer> masks;

    private Metadata(Map<String, Integer> masks) {
        this.masks = masks;
    }

    static Metadata none() {
        return new Metadata(Map.of());
    }

    static Metadata read(Path file) throws IOException {
        byte[] json = Files.readAllBytes(file);
        JsonReader r = new JsonReader(json, json.length);
        Map<String, Integer> masks = new HashMap<>();
        r.beginObject();
        while (r.hasNext()) {
            if (!r.nextName().equals("opcodes")) {
                r.skipValue();
                continue;
            }
            r.beginObject();
            while (r.hasNext()) {
                String opcode = r.nextName().toUpperCase(java.util.Locale.ROOT);
                readEntry(r, opcode, masks);
            }
            r.endObject();
        }
        r.endObject();
        r.endDocument();
        return new Metadata(Map.copyOf(masks));
    }

    private static void readEntry(JsonReader r, String key, Map<String, Integer> masks) {
        r.beginObject();
        while (r.hasNext()) {
            switch (r.nextName()) {
                case "flags-mask" -> {
                    int mask = r.nextInt();
                    if (mask < 0 || mask > 0xFFFF) {
                        throw r.error("flags-mask is not 16 bits: " + mask);
                    }
                    masks.put(key, mask);
                }
                case "reg" -> {
                    r.beginObject();
                    while (r.hasNext()) {
                        String reg = r.nextName();
                        if (reg.length() != 1 || reg.charAt(0) < '0' || reg.charAt(0) > '7') {
                            throw r.error("reg must be 0-7: " + reg);
                        }
                        readEntry(r, key + "." + reg, masks);
                    }
                    r.endObject();
                }
                default -> r.skipValue(); // status, arch, flags (the mask's letters)
            }
        }
        r.endObject();
    }

    /**
     * The mask for a test of file {@code stem} ("80.4", "F6.6" or "C6"); {@code reg} is the ModRM reg field of the
     * test's instruction, used when the file is a whole group (8F, C6, C7) and the metadata splits it by reg.
     */
    int flagsMask(String stem, int reg) {
        Integer mask = masks.get(stem);
        if (mask == null && stem.indexOf('.') < 0 && reg >= 0) {
            mask = masks.get(stem + "." + reg);
        }
        return mask == null ? ALL_FLAGS : mask;
    }

    /** True when any reg-split entry exists for a whole-group file, so the caller must decode the reg field. */
    boolean splitsByReg(String stem) {
        if (stem.indexOf('.') >= 0) {
            return false;
        }
        for (int reg = 0; reg < 8; reg++) {
            if (masks.containsKey(stem + "." + reg)) {
                return true;
            }
        }
        return false;
    }
}

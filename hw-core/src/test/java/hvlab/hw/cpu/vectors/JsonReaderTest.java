package hvlab.hw.cpu.vectors;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The strict reader against RFC 8259: what it accepts and each thing it must refuse. */
class JsonReaderTest {
    private static JsonReader reader(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return new JsonReader(bytes, bytes.length);
    }

    @Test
    void walksObjectsArraysNumbersAndStrings() {
        JsonReader r = reader(" {\"a\": [1, -20, 0], \"b\": {\"c\": \"x\\\"y\\u00e9\\n\"},"
                + " \"d\": [true, null, 1.5e3]} ");
        r.beginObject();
        assertThat(r.hasNext()).isTrue();
        assertThat(r.nextName()).isEqualTo("a");
        r.beginArray();
        int sum = 0;
        while (r.hasNext()) {
            sum += r.nextInt();
        }
        r.endArray();
        assertThat(sum).isEqualTo(-19);
        assertThat(r.hasNext()).isTrue();
        assertThat(r.nextName()).isEqualTo("b");
        r.beginObject();
        assertThat(r.hasNext()).isTrue();
        assertThat(r.nextName()).isEqualTo("c");
        assertThat(r.nextString()).isEqualTo("x\"y\u00e9\n");
        assertThat(r.hasNext()).isFalse();
        r.endObject();
        assertThat(r.hasNext()).isTrue();
        assertThat(r.nextName()).isEqualTo("d");
        r.skipValue();
        assertThat(r.hasNext()).isFalse();
        r.endObject();
        r.endDocument();
    }

    @Test
    void keysAreInternedSoRepeatedLinesAllocateNoNames() {
        JsonReader r = reader("{\"flags\":1}");
        r.beginObject();
        r.hasNext();
        String first = r.nextName();
        byte[] again = "{\"flags\":2}".getBytes(StandardCharsets.US_ASCII);
        r.reset(again, 0, again.length).beginObject();
        r.hasNext();
        assertThat(r.nextName()).isSameAs(first);
    }

    @Test
    void refusesTrailingCommas() {
        assertThatThrownBy(() -> reader("[1,]").skipValue()).hasMessageContaining("trailing comma");
        assertThatThrownBy(() -> reader("{\"a\":1,}").skipValue()).hasMessageContaining("trailing comma");
    }

    @Test
    void refusesLeadingZerosAndNonIntegersWhereAnIntegerIsExpected() {
        assertThatThrownBy(() -> reader("012").nextInt()).hasMessageContaining("leading zero");
        assertThatThrownBy(() -> reader("1.5").nextInt()).hasMessageContaining("integer");
        assertThatThrownBy(() -> reader("4294967296").nextInt()).hasMessageContaining("out of range");
        assertThatThrownBy(() -> reader("-x").nextInt()).hasMessageContaining("number");
        assertThatThrownBy(() -> reader("1.e5").skipValue()).hasMessageContaining("digit");
    }

    @Test
    void refusesBadStrings() {
        assertThatThrownBy(() -> reader("\"a\tb\"").nextString()).hasMessageContaining("control character");
        assertThatThrownBy(() -> reader("\"\\x\"").nextString()).hasMessageContaining("bad escape");
        assertThatThrownBy(() -> reader("\"\\u12G4\"").nextString()).hasMessageContaining("\\u");
        assertThatThrownBy(() -> reader("\"abc").nextString()).hasMessageContaining("unterminated");
        byte[] invalidUtf8 = {'"', (byte) 0xC3, '"'};
        assertThatThrownBy(() -> new JsonReader(invalidUtf8, 3).nextString()).hasMessageContaining("UTF-8");
    }

    @Test
    void refusesMissingSeparatorsMismatchedBracketsAndTrailingData() {
        assertThatThrownBy(() -> reader("[1 2]").skipValue()).hasMessageContaining("expected ','");
        assertThatThrownBy(() -> reader("{\"a\" 1}").skipValue()).hasMessageContaining("':'");
        assertThatThrownBy(() -> reader("[1}").skipValue()).hasMessageContaining("']'");
        assertThatThrownBy(() -> {
            JsonReader r = reader("{} x");
            r.skipValue();
            r.endDocument();
        }).hasMessageContaining("after the document");
        assertThatThrownBy(() -> reader("tru").skipValue()).hasMessageContaining("true or false");
        assertThatThrownBy(() -> reader("{\"a\":1").skipValue()).hasMessageContaining("end of input");
    }
}

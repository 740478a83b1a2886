package hvlab.hw.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** ACPI 6.4, chapter 20: AML encoding. Expected bytes are written out by hand from the grammar. */
class AmlTest {
    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    @Test
    void pkgLengthOfUpTo63FitsInOneByte() {
        // 20.2.4: a one-byte PkgLength holds the length, itself included, in bits 5-0
        assertThat(Aml.pkgLength(0)).containsExactly(0x01);
        assertThat(Aml.pkgLength(62)).containsExactly(0x3F);
    }

    @Test
    void longerPkgLengthsTakeFollowingBytesCountedInBits7And6() {
        // 20.2.4: bits 7-6 = number of following bytes, bits 3-0 = low nibble, then the next 8 bits per byte
        assertThat(Aml.pkgLength(63)).containsExactly(bytes(0x40 | 1, 0x04)); // 65 = 0x041
        assertThat(Aml.pkgLength(4093)).containsExactly(bytes(0x40 | 0xF, 0xFF)); // 4095 = 0xFFF
        assertThat(Aml.pkgLength(4094)).containsExactly(bytes(0x80 | 1, 0x00, 0x01)); // 4097 = 0x1001
        assertThat(Aml.pkgLength((1 << 20) - 4)).containsExactly(bytes(0x80 | 0xF, 0xFF, 0xFF)); // 0xFFFFF
        assertThat(Aml.pkgLength((1 << 20) - 3)).containsExactly(bytes(0xC0 | 0x1, 0x00, 0x00, 0x01)); // 0x100001
        assertThat(Aml.pkgLength((1 << 28) - 5)).containsExactly(bytes(0xC0 | 0xF, 0xFF, 0xFF, 0xFF));
        assertThatThrownBy(() -> Aml.pkgLength((1 << 28) - 4)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void integersUseTheShortestConstant() {
        // 20.2.3: ZeroOp, OneOp, BytePrefix, WordPrefix, DWordPrefix, QWordPrefix
        assertThat(Aml.integer(0)).containsExactly(0x00);
        assertThat(Aml.integer(1)).containsExactly(0x01);
        assertThat(Aml.integer(5)).containsExactly(0x0A, 0x05);
        assertThat(Aml.integer(0x1234)).containsExactly(0x0B, 0x34, 0x12);
        assertThat(Aml.integer(0x030AD041L)).containsExactly(bytes(0x0C, 0x41, 0xD0, 0x0A, 0x03));
        assertThat(Aml.integer(0x1_0000_0000L)).containsExactly(bytes(0x0E, 0, 0, 0, 0, 1, 0, 0, 0));
    }

    @Test
    void nameStringsPadSegmentsAndTakePrefixes() {
        // 20.2.2: NameSeg is 4 characters padded with '_'; RootChar '\'; DualNamePrefix 0x2E; MultiNamePrefix 0x2F
        assertThat(Aml.nameString("_S5")).containsExactly('_', 'S', '5', '_');
        assertThat(Aml.nameString("\\_S5")).containsExactly('\\', '_', 'S', '5', '_');
        assertThat(Aml.nameString("\\_SB.PCI0")).containsExactly('\\', 0x2E, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
        assertThat(Aml.nameString("_SB.PCI0.ISA")).containsExactly(0x2F, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
                'I', 'S', 'A', '_');
        assertThat(Aml.nameString("^FOO")).containsExactly('^', 'F', 'O', 'O', '_');
        assertThatThrownBy(() -> Aml.nameString("pci0")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Aml.nameString("TOOLONG")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nameWithAPackageIsTheS5Object() {
        // 19.6.91 Name, 19.6.102 Package: Name(\_S5, Package(){0, 0, 0, 0})
        byte[] s5 = Aml.name("\\_S5", Aml.pkg(Aml.integer(0), Aml.integer(0), Aml.integer(0), Aml.integer(0)));
        assertThat(s5).containsExactly(0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00);
    }

    @Test
    void scopeAndDeviceCarryAPkgLengthOverNameAndTerms() {
        // 19.6.122 Scope: ScopeOp PkgLength NameString TermList; 19.6.31 Device: ExtOpPrefix 0x82 PkgLength ...
        byte[] device = Aml.device("PCI0", Aml.name("_ADR", Aml.integer(0)));
        assertThat(device).containsExactly(0x5B, 0x82, 0x0B, 'P', 'C', 'I', '0', 0x08, '_', 'A', 'D', 'R', 0x00);
        byte[] scope = Aml.scope("\\_SB", device);
        assertThat(scope).startsWith(0x10, 0x13, '\\', '_', 'S', 'B', '_'); // 5 + 13 bytes, + 1
        assertThat(scope).hasSize(2 + 5 + device.length);
    }

    @Test
    void stringsAreNullTerminated() {
        assertThat(Aml.string("PNP")).containsExactly(0x0D, 'P', 'N', 'P', 0x00);
    }

    @Test
    void eisaIdCompressesThreeLettersAndFourHexDigits() {
        // 19.6.35 EISAID: "PNP0A03" is the well-known 0x030AD041, the PCI bus
        assertThat(Aml.eisaId("PNP0A03")).isEqualTo(0x030A_D041L);
        assertThat(Aml.eisaId("PNP0C0C")).isEqualTo(0x0C0C_D041L);
        assertThatThrownBy(() -> Aml.eisaId("pnp0a03")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void resourceTemplatesHoldSmallDescriptorsAndAnEndTag() {
        // 6.4.2.5 I/O port descriptor (0x47), 6.4.2.1 IRQ descriptor without flags (0x22), 6.4.2.9 End Tag (0x79)
        assertThat(Aml.io(0x3F8, 0, 8)).containsExactly(bytes(0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x00, 0x08));
        assertThat(Aml.irqNoFlags(12)).containsExactly(0x22, 0x00, 0x10);
        // 19.6.10 Buffer: BufferOp PkgLength BufferSize ByteList
        assertThat(Aml.resourceTemplate(Aml.irqNoFlags(4)))
                .containsExactly(0x11, 0x08, 0x0A, 0x05, 0x22, 0x10, 0x00, 0x79, 0x00);
    }
}

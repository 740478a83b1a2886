package hvlab.hw.boot;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.memory.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static hvlab.hw.boot.MultibootLoaderTest.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FirmwareImageTest {
    private final PhysicalMemory memory = new PhysicalMemory(1 << 20, new MmioBus());

    @Test
    @DisplayName("SDM Vol. 3A §9.1.4: a 128 KiB ROM ends at 4 GiB, its reset vector readable, and at 1 MiB")
    void mapsARomBelowFourGibibytes() throws Exception {
        byte[] rom = pattern(128 << 10, 1);

        FirmwareImage.map(memory, "bios.bin", rom);

        assertThat(memory.readU8((int) FirmwareImage.RESET_VECTOR)).isEqualTo(rom[rom.length - 16] & 0xFF);
        assertThat(memory.readU8(0xFFFF0)).isEqualTo(rom[rom.length - 16] & 0xFF);
    }

    @Test
    @DisplayName("--bios: an empty file")
    void emptyRom() {
        assertThatThrownBy(() -> FirmwareImage.map(memory, "bios.bin", new byte[0]))
                .isInstanceOf(BootImageException.class)
                .hasMessageContaining("bios.bin is an empty file");
    }

    @Test
    @DisplayName("--bios: a size that is not a multiple of 64 KiB")
    void romNotAMultipleOf64Kibibytes() {
        assertThatThrownBy(() -> FirmwareImage.map(memory, "bios.bin", new byte[100_000]))
                .isInstanceOf(BootImageException.class)
                .hasMessageContaining("bios.bin is 100000 bytes; a firmware ROM image must be a multiple of 64 KiB");
    }

    @Test
    @DisplayName("--bios: more than 16 MiB")
    void romTooLarge() {
        assertThatThrownBy(() -> FirmwareImage.map(memory, "bios.bin", new byte[17 << 20]))
                .isInstanceOf(BootImageException.class)
                .hasMessageContaining("bios.bin is 17 MiB; a firmware ROM image is at most 16 MiB");
    }

    @Test
    @DisplayName("--bios: exactly 16 MiB is the largest ROM accepted")
    void largestRom() throws Exception {
        FirmwareImage.map(memory, "bios.bin", new byte[16 << 20]);

        assertThat(memory.readU8(0xFF00_0000)).isZero();
    }
}

package hvlab.guests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class LabGuestsTest {

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void namesAreUniqueAndMatchTheImagesBuilt() {
        List<String> names = LabGuests.all().stream().map(LabGuest::name).toList();
        assertThat(new HashSet<>(names)).hasSameSizeAs(names);
        String built = new String(LabGuests.resource("workloads.txt"), StandardCharsets.US_ASCII);
        assertThat(built.lines().toList()).isEqualTo(names);
    }

    @Test
    void findReturnsTheWorkloadByName() {
        assertThat(LabGuests.find("selftest")).get().extracting(LabGuest::commandLine).isEqualTo("lab.elf selftest");
        assertThat(LabGuests.find("nope")).isEmpty();
        assertThat(LabGuests.find("compute").orElseThrow().withOptions("iterations=3").arguments())
                .isEqualTo("compute iterations=3");
    }

    @Test
    void kernelIsAnElf32ForI386() {
        ByteBuffer elf = le(LabGuests.all().getFirst().kernelImage());
        assertThat(elf.getInt(0)).isEqualTo(0x464C457F);
        assertThat(elf.get(4)).as("ELFCLASS32").isEqualTo((byte) 1);
        assertThat(elf.getShort(18)).as("EM_386").isEqualTo((short) 3);
    }

    /** Multiboot v1, section 3.1.1: the header lies 4-byte aligned in the first 8192 bytes. */
    @Test
    void kernelHasAValidMultibootHeaderInTheFirst8KiB() {
        for (LabGuest g : LabGuests.all()) {
            ByteBuffer elf = le(g.kernelImage());
            int found = -1;
            for (int off = 0; off + 12 <= Math.min(8192, elf.limit()); off += 4) {
                if (elf.getInt(off) == 0x1BADB002) {
                    found = off;
                    break;
                }
            }
            assertThat(found).as(g.name()).isGreaterThanOrEqualTo(0);
            int sum = elf.getInt(found) + elf.getInt(found + 4) + elf.getInt(found + 8);
            assertThat(sum).as("magic + flags + checksum").isZero();
        }
    }

    @Test
    void everyRomIs64KiBWithAFarJumpAtTheResetVector() {
        for (LabGuest g : LabGuests.all()) {
            byte[] rom = g.romImage();
            assertThat(rom).as(g.name()).hasSize(65536);
            ByteBuffer b = le(rom);
            assertThat(rom[0xFFF0] & 0xFF).as("JMP ptr16:16").isEqualTo(0xEA);
            assertThat(b.getShort(0xFFF3) & 0xFFFF).as("segment").isEqualTo(0xF000);
            assertThat(b.getShort(0xFFF1) & 0xFFFF).as("offset").isLessThan(0xFFF0);
        }
    }

    @Test
    void romCarriesTheKernelBytesAndItsCommandLine() {
        for (LabGuest g : LabGuests.all()) {
            byte[] elf = g.kernelImage();
            ByteBuffer e = le(elf);
            int phoff = e.getInt(28);
            assertThat(e.getInt(phoff)).as("first program header is PT_LOAD").isEqualTo(1);
            int offset = e.getInt(phoff + 4);
            int paddr = e.getInt(phoff + 12);
            int filesz = e.getInt(phoff + 16);
            assertThat(paddr).isEqualTo(0x100000);
            byte[] rom = g.romImage();
            assertThat(Arrays.copyOfRange(rom, 0, filesz)).as(g.name())
                    .isEqualTo(Arrays.copyOfRange(elf, offset, offset + filesz));
            String text = new String(rom, StandardCharsets.ISO_8859_1);
            assertThat(text).contains("lab.rom " + g.name() + "\0");
        }
    }

    @Test
    void maskingHidesOnlyTimeDependentNumbers() {
        String out = "result workload=syscall iterations=100 total_cycles=123 per_op_cycles=1\nlab: done timer_ticks=7\n";
        assertThat(LabGuests.maskTimeDependent(out)).isEqualTo(
                "result workload=syscall iterations=100 total_cycles=_ per_op_cycles=_\nlab: done timer_ticks=_\n");
    }
}

package hvlab.hw.boot;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.firmware.FirmwareTables;
import org.junit.jupiter.api.Test;

/** ACPI 6.4 15.1 / MP 1.4 4: the memory map a loader passes must keep the firmware tables out of usable RAM. */
class FirmwareAreaInMemoryMapTest {
    @Test
    void theTablesLieInAReservedRangeOfThePcMap() {
        FirmwareTables.Layout layout = FirmwareTables.build(0x633, 0, 128 << 20).layout();
        assertThat(MemoryMapEntry.pc(128 << 20))
                .anySatisfy(e -> {
                    assertThat(e.type()).isEqualTo(MemoryMapEntry.RESERVED);
                    assertThat(e.base()).isLessThanOrEqualTo(FirmwareTables.AREA_BASE);
                    assertThat(e.end()).isGreaterThanOrEqualTo(FirmwareTables.AREA_END);
                    assertThat(e.end()).isGreaterThanOrEqualTo(layout.end());
                })
                .noneSatisfy(e -> {
                    assertThat(e.type()).isEqualTo(MemoryMapEntry.AVAILABLE);
                    assertThat(e.base()).isLessThan(FirmwareTables.AREA_END);
                    assertThat(e.end()).isGreaterThan(FirmwareTables.AREA_BASE);
                });
    }
}

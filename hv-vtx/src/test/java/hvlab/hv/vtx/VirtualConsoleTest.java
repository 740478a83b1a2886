package hvlab.hv.vtx;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guest's COM1 is the hypervisor's virtual 16550A, and the machine's console is its: bytes typed at the console
 * raise the machine's COM1 interrupt, which exits (external-interrupt exiting, SDM Vol. 3C 25.2); the hypervisor
 * moves them to the virtual UART, whose transmitter prints on the console again.
 */
class VirtualConsoleTest {
    private static final int LOAD = 0x100000;

    @ParameterizedTest
    @EnumSource(MemoryMode.class)
    void aGuestEchoesWhatTheConsoleTypesThroughItsVirtualUart(MemoryMode mode) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(128 << 20).serialOutput(console::write).build()) {
            Hypervisor vtx = new VtxProvider(mode).create(new MachineHostContext(machine, machine.description(),
                    System.getLogger("vtx")));
            vtx.boot(new GuestImage.Multiboot("echo", echoGuest(5), ""));
            machine.offerSerialInput("hello".getBytes(StandardCharsets.US_ASCII));
            RunOutcome outcome = vtx.run(50_000_000);

            assertThat(outcome).isEqualTo(new RunOutcome.Exited(0x10));
            assertThat(console.toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
            assertThat(machine.statistics()).anyMatch(v -> v.family().startsWith("host interrupts")
                    && v.key().startsWith("COM1") && v.value() > 0);
            assertThat(machine.statistics()).anyMatch(v -> v.family().equals(Counters.EXITS)
                    && v.key().endsWith("external interrupt"));
        }
    }

    /** Polls COM1's LSR, reads RBR and writes it to THR, {@code count} times; then isa-debug-exit 0x10. */
    private static byte[] echoGuest(int count) {
        GuestCode c = GuestCode.multiboot(LOAD);
        c.bytes(0xB9).u32(count);                                   // mov ecx, count
        int poll = c.here();
        c.bytes(0x66, 0xBA, 0xFD, 0x03, 0xEC, 0xA8, 0x01);          // mov dx, 3FDh; in al, dx; test al, 1
        c.bytes(0x74, (poll - (c.here() + 2)) & 0xFF);              // jz poll
        c.bytes(0x66, 0xBA, 0xF8, 0x03, 0xEC, 0xEE);                // mov dx, 3F8h; in al, dx; out dx, al
        c.bytes(0x49, 0x75, (poll - (c.here() + 3)) & 0xFF);        // dec ecx; jnz poll
        c.bytes(0xB0, 0x10, 0xE6, 0xF4, 0xF4);                      // mov al, 10h; out F4h, al; hlt
        return c.image();
    }
}

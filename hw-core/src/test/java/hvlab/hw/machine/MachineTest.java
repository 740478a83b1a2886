package hvlab.hw.machine;

import hvlab.hw.boot.BootImageException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** The composed PC: a firmware ROM started at the reset vector talks to the devices at their PC/AT addresses. */
class MachineTest {
    private static final int ROM_SIZE = 0x10000;

    /** A 64 KiB ROM: code at F000:0000, and at the reset vector F000:FFF0 a far jump to it (SDM Vol. 3A, 9.1.4). */
    private static byte[] rom(String code) {
        byte[] rom = new byte[ROM_SIZE];
        byte[] bytes = HexFormat.of().parseHex(code.replaceAll("[^0-9a-fA-F]", ""));
        System.arraycopy(bytes, 0, rom, 0, bytes.length);
        byte[] resetJump = HexFormat.of().parseHex("ea0000" + "00f0"); // jmp far F000:0000
        System.arraycopy(resetJump, 0, rom, 0xFFF0, resetJump.length);
        return rom;
    }

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final Machine machine = Machine.builder().ramBytes(4 << 20).serialOutput(console::write).build();

    @Test
    void resetVectorRomWritesToCom1AndExitsThroughDebugExitPort() throws BootImageException {
        // mov dx,0x3f8; mov al,'A'; out dx,al; mov al,0x42; out 0xf4,al; hlt
        machine.bootFirmware("test.rom", rom("ba f8 03  b0 41  ee  b0 42  e6 f4  f4"));
        RunOutcome outcome = machine.run(1_000);
        assertThat(outcome).isEqualTo(new RunOutcome.Exited(0x42));
        assertThat(console.toString(StandardCharsets.US_ASCII)).isEqualTo("A");
    }

    @Test
    void haltWithInterruptsOffAndNothingToWakeItEndsTheRun() throws BootImageException {
        machine.bootFirmware("test.rom", rom("fa f4")); // cli; hlt
        assertThat(machine.run(1_000)).isInstanceOf(RunOutcome.HaltedForever.class);
    }

    @Test
    void instructionLimitStopsAnEndlessLoop() throws BootImageException {
        machine.bootFirmware("test.rom", rom("eb fe")); // jmp $
        assertThat(machine.run(5_000)).isEqualTo(new RunOutcome.InstructionLimit(5_000));
    }

    @Test
    void pitInterruptThroughThe8259WakesAHaltedCpu() throws BootImageException {
        String code = ""
                + "fa"                       // cli
                + "31 c0  8e d8"             // xor ax,ax; mov ds,ax
                + "c7 06 20 00 40 00"        // mov word [0x20], 0x0040  (IVT[8].offset)
                + "c7 06 22 00 00 f0"        // mov word [0x22], 0xf000  (IVT[8].segment)
                + "b0 11 e6 20  b0 08 e6 21  b0 04 e6 21  b0 01 e6 21" // ICW1-ICW4: vectors 8-15
                + "b0 fe e6 21"              // OCW1: only IRQ0
                + "b0 34 e6 43  b0 00 e6 40  b0 10 e6 40" // PIT counter 0, mode 2, count 0x1000
                + "fb f4  eb fd";            // sti; hlt; jmp back to hlt
        String handler = "ba f8 03  b0 54  ee  b0 43  e6 f4  f4"; // 'T' to COM1, exit 0x43
        byte[] image = rom(code);
        byte[] handlerBytes = HexFormat.of().parseHex(handler.replaceAll("[^0-9a-fA-F]", ""));
        System.arraycopy(handlerBytes, 0, image, 0x40, handlerBytes.length);
        machine.bootFirmware("test.rom", image);
        machine.platform().localApic().setApicBaseMsr(0); // APIC off: the 8259A drives INTR directly
        RunOutcome outcome = machine.run(1_000_000);
        assertThat(outcome).isEqualTo(new RunOutcome.Exited(0x43));
        assertThat(console.toString(StandardCharsets.US_ASCII)).isEqualTo("T");
        // 0x1000 PIT ticks at 1.193182 MHz is 3.43 ms of virtual time: the halt skipped ahead to it.
        assertThat(machine.cpu().nanos()).isGreaterThan(3_400_000L);
    }
}

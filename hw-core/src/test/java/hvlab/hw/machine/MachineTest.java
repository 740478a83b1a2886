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

    /** A ROM as {@link #rom(String)} with an interrupt handler at F000:0100. */
    private static byte[] rom(String code, String handler) {
        byte[] image = rom(code);
        byte[] handlerBytes = HexFormat.of().parseHex(handler.replaceAll("[^0-9a-fA-F]", ""));
        System.arraycopy(handlerBytes, 0, image, HANDLER_OFFSET, handlerBytes.length);
        return image;
    }

    private static final int HANDLER_OFFSET = 0x100;

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
                + "c7 06 20 00 00 01"        // mov word [0x20], 0x0100  (IVT[8].offset)
                + "c7 06 22 00 00 f0"        // mov word [0x22], 0xf000  (IVT[8].segment)
                + "b0 11 e6 20  b0 08 e6 21  b0 04 e6 21  b0 01 e6 21" // ICW1-ICW4: vectors 8-15
                + "b0 fe e6 21"              // OCW1: only IRQ0
                + "b0 34 e6 43  b0 00 e6 40  b0 10 e6 40" // PIT counter 0, mode 2, count 0x1000
                + "fb f4  eb fd";            // sti; hlt; jmp back to hlt
        String handler = "ba f8 03  b0 54  ee  b0 43  e6 f4  f4"; // 'T' to COM1, exit 0x43
        machine.bootFirmware("test.rom", rom(code, handler));
        machine.platform().localApic().setApicBaseMsr(0); // APIC off: the 8259A drives INTR directly
        RunOutcome outcome = machine.run(1_000_000);
        assertThat(outcome).isEqualTo(new RunOutcome.Exited(0x43));
        assertThat(console.toString(StandardCharsets.US_ASCII)).isEqualTo("T");
        // 0x1000 PIT ticks at 1.193182 MHz is 3.43 ms of virtual time: the halt skipped ahead to it.
        assertThat(machine.cpu().nanos()).isGreaterThan(3_400_000L);
    }

    @Test
    void acpiSoftOffThroughPm1ControlPowersTheMachineOff() throws BootImageException {
        // ACPI 6.4 4.8.3.2.1: SLP_TYP = 0 (PIIX4 soft off, the DSDT's \_S5) with SLP_EN in PM1a_CNT at 0x604
        machine.bootFirmware("test.rom", rom("ba 04 06  b8 00 20  ef  f4")); // mov dx,0x604; mov ax,0x2000; out
        assertThat(machine.run(1_000)).isEqualTo(new RunOutcome.PowerOff("ACPI soft off (S5)"));
    }

    @Test
    void piixResetControlRegisterResetsTheMachine() throws BootImageException {
        // 82371SB RC at 0xCF9: SRST then RCPU, as Linux's reboot=pci writes it
        machine.bootFirmware("test.rom", rom("b0 02 ba f9 0c ee  b0 06 ee  f4"));
        assertThat(machine.run(1_000)).isEqualTo(new RunOutcome.Reset("PIIX3 reset control register 0xcf9"));
    }

    @Test
    void pciConfigurationMechanism1FindsTheHostBridgeIsaBridgeAndPowerManagement() throws BootImageException {
        // PCI 3.0 3.2.2.3.2: CONFIG_ADDRESS = 0x80000000 | dev << 11 | fn << 8 | reg; read the ID dword at 0xCFC
        String code = ""
                + "66 b8 00 00 00 80  ba f8 0c  66 ef  ba fc 0c  66 ed  66 a3 00 05"  // 00:00.0 -> [0x500]
                + "66 b8 00 08 00 80  ba f8 0c  66 ef  ba fc 0c  66 ed  66 a3 04 05"  // 00:01.0 -> [0x504]
                + "66 b8 40 0b 00 80  ba f8 0c  66 ef  ba fc 0c  66 ed  66 a3 08 05"  // 00:01.3 reg 0x40 -> [0x508]
                + "66 b8 00 10 00 80  ba f8 0c  66 ef  ba fc 0c  66 ed  66 a3 0c 05"  // 00:02.0 -> [0x50c]
                + "b0 10 e6 f4  f4";
        machine.bootFirmware("test.rom", rom(code));
        assertThat(machine.run(1_000)).isEqualTo(new RunOutcome.Exited(0x10));
        var memory = machine.platform().memory();
        assertThat(memory.readU32(0x500)).isEqualTo(0x1237_8086);
        assertThat(memory.readU32(0x504)).isEqualTo(0x7000_8086);
        assertThat(memory.readU32(0x508)).as("PMBA").isEqualTo(0x0601);
        assertThat(memory.readU32(0x50C)).as("no device 2").isEqualTo(0xFFFF_FFFF);
    }

    @Test
    void pmTimerOverflowRaisesTheSciOnIrq9ThroughThe8259() throws BootImageException {
        // ACPI 6.4 4.8.3.1: TMR_STS with TMR_EN and SCI_EN raises the SCI, wired to IRQ 9 (the FADT's SCI_INT)
        String code = ""
                + "fa  31 c0  8e d8"
                + "c7 06 c4 01 00 01  c7 06 c6 01 00 f0"               // IVT[0x71] = F000:0100 (IRQ9, slave IR1)
                + "b0 11 e6 20  b0 08 e6 21  b0 04 e6 21  b0 01 e6 21" // master: vectors 0x08-0x0F
                + "b0 11 e6 a0  b0 70 e6 a1  b0 02 e6 a1  b0 01 e6 a1" // slave: vectors 0x70-0x77
                + "b0 fb e6 21  b0 fd e6 a1"                           // only the cascade and IRQ9 unmasked
                + "b0 f1 e6 b2"                                        // APMC <- ACPI_ENABLE: SCI_EN
                + "ba 02 06  b8 01 00  ef"                             // PM1_EN <- TMR_EN
                + "fb f4  eb fd";                                      // sti; hlt
        machine.bootFirmware("test.rom", rom(code, "b0 09 e6 f4  f4")); // exit 9
        machine.platform().localApic().setApicBaseMsr(0);
        assertThat(machine.run(1_000_000)).isEqualTo(new RunOutcome.Exited(9));
        // bit 23 of the 3.579545 MHz timer first changes after 2^23 ticks, 2.34 s of virtual time
        assertThat(machine.cpu().nanos()).isBetween(2_343_000_000L, 2_344_000_000L);
    }

    @Test
    void kernelBootsFindTheFirmwareTablesTheCpuDescribed() {
        // MP 1.4 4.3.1: the processor entry's signature and features are CPUID.1 EAX and EDX
        var layout = machine.installFirmwareTables();
        var memory = machine.platform().memory();
        assertThat(memory.readU32(layout.rsdp())).isEqualTo(0x2044_5352); // "RSD "
        int processorEntry = layout.mpConfigTable() + 44;
        assertThat(memory.readU32(processorEntry + 4)).isEqualTo(machine.cpu().cpuid(1)[0]);
        assertThat(memory.readU32(processorEntry + 8)).isEqualTo(machine.cpu().cpuid(1)[3]);
    }

    /** The UART's LSR: OE (bit 1) after a byte came with the receiver full (PC16550D, "Line Status Register"). */
    private static final int LSR = 5, LSR_OVERRUN = 0x02, MCR = 4, MCR_RTS = 0x02, FCR = 2, FCR_FIFO_ENABLE = 0x01;

    @Test
    void serialInputWaitsForRtsAsAFlowControlledTerminalDoesAndNeverOverrunsTheFifo() throws BootImageException {
        machine.bootFirmware("test.rom", rom("eb fe")); // jmp $: the devices are driven from here
        var uart = machine.platform().uart();
        machine.offerSerialInput("typed ahead, 20 b\n".getBytes(StandardCharsets.US_ASCII));
        machine.run(1_000);
        assertThat(uart.state().receiveFifo()).as("RTS is off after reset: the terminal holds its input").isEmpty();

        uart.writeByte(FCR, FCR_FIFO_ENABLE);
        uart.writeByte(MCR, MCR_RTS);
        machine.run(1_000);
        assertThat(new String(uart.state().receiveFifo(), StandardCharsets.US_ASCII)).isEqualTo("typed ahead, 20 ");
        assertThat(uart.readByte(LSR) & LSR_OVERRUN).as("the rest waits for room").isZero();
        for (int i = 0; i < 16; i++) {
            uart.readByte(0);
        }
        machine.run(1_000);
        assertThat(new String(uart.state().receiveFifo(), StandardCharsets.US_ASCII)).isEqualTo("b\n");
    }
}

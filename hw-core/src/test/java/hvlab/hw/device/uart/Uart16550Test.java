package hvlab.hw.device.uart;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.RecordingLine;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** PC16550D datasheet (National Semiconductor / TI, SNLS378), registers driven one by one. */
class Uart16550Test {
    private static final int RBR_THR = 0;
    private static final int IER = 1;
    private static final int IIR_FCR = 2;
    private static final int LCR = 3;
    private static final int MCR = 4;
    private static final int LSR = 5;
    private static final int MSR = 6;
    private static final int SCR = 7;

    private VirtualClock clock;
    private RecordingLine irq;
    private ByteArrayOutputStream sent;
    private Uart16550 uart;

    @BeforeEach
    void powerUp() {
        clock = new VirtualClock();
        irq = new RecordingLine();
        sent = new ByteArrayOutputStream();
        uart = new Uart16550(irq, sent::write, clock);
    }

    /** What a PC driver does first: 8N1 and OUT2 so the interrupt reaches the PIC. */
    private void openPort() {
        uart.writeByte(LCR, 0x03);
        uart.writeByte(MCR, 0x0B);
    }

    @Test
    void bytesWrittenToThrReachTheSinkAndTheTransmitterIsEmptyAtOnce() {
        // "Transmitter Holding Register"; LSR bits 5 (THRE) and 6 (TEMT)
        openPort();
        uart.writeByte(RBR_THR, 'h');
        uart.writeByte(RBR_THR, 'i');
        assertThat(sent.toString()).isEqualTo("hi");
        assertThat(uart.readByte(LSR)).isEqualTo(0x60);
    }

    @Test
    void loopbackReturnsTransmittedBytesToTheReceiverAndNothingLeaves() {
        // "Modem Control Register" bit 4: transmitter output looped to receiver input
        uart.writeByte(LCR, 0x03);
        uart.writeByte(MCR, 0x10);
        uart.writeByte(RBR_THR, 0x5A);
        assertThat(sent.size()).isZero();
        assertThat(uart.readByte(LSR) & 0x01).isEqualTo(0x01);
        assertThat(uart.readByte(RBR_THR)).isEqualTo(0x5A);
        assertThat(uart.readByte(LSR) & 0x01).isZero();
        assertThat(uart.receive(0x11)).isFalse();
    }

    @Test
    void loopbackConnectsRtsDtrOut1Out2ToCtsDsrRiDcd() {
        // "Modem Control Register" bit 4: the four modem control outputs drive the four modem status inputs
        uart.writeByte(MCR, 0x10 | 0x01 | 0x08);
        assertThat(uart.readByte(MSR) & 0xF0).isEqualTo(0x20 | 0x80);
        uart.writeByte(MCR, 0x10 | 0x02 | 0x04);
        assertThat(uart.readByte(MSR)).isEqualTo(0x10 | 0x40 | 0x0B);
        uart.writeByte(MCR, 0x10);
        assertThat(uart.readByte(MSR)).isEqualTo(0x01 | 0x04);
    }

    @Test
    void loopbackForcesOut2InactiveSoNoInterruptReachesThePc() {
        // "Modem Control Register" bit 4 + PC wiring: the IRQ buffer is enabled by the OUT2 pin
        uart.writeByte(MCR, 0x18);
        uart.writeByte(IER, 0x01);
        uart.writeByte(RBR_THR, 0x41);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x04);
        assertThat(irq.level()).isFalse();
    }

    @Test
    void out2GatesTheInterruptLine() {
        // PC/AT serial adapter: OUT2 enables the INTR buffer to the IRQ line
        uart.writeByte(IER, 0x02);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x02);
        uart.writeByte(IER, 0x02);
        assertThat(irq.level()).isFalse();
        uart.writeByte(MCR, 0x08);
        assertThat(irq.level()).isTrue();
    }

    @Test
    void enablingThreInterruptWhileThrIsEmptyRaisesItAndReadingIirClearsIt() {
        // "Interrupt Identification Register", Table 4: THRE is reset by reading IIR (if source) or writing THR
        openPort();
        assertThat(irq.level()).isFalse();
        uart.writeByte(IER, 0x02);
        assertThat(irq.level()).isTrue();
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x02);
        assertThat(irq.level()).isFalse();
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x01);
    }

    @Test
    void writingThrClearsThreAndTheInstantTransmissionRaisesANewEdge() {
        // Table 4: writing THR resets THRE; the emptied THR sets it again
        openPort();
        uart.writeByte(IER, 0x02);
        int edges = irq.risingEdges();
        uart.writeByte(RBR_THR, 'x');
        assertThat(irq.risingEdges()).isEqualTo(edges + 1);
        assertThat(irq.level()).isTrue();
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x02);
    }

    @Test
    void receivedDataRaisesTheInterruptUntilRbrIsRead() {
        // Table 4: "Received Data Available", reset by reading RBR
        openPort();
        uart.writeByte(IER, 0x01);
        assertThat(uart.receive('k')).isTrue();
        assertThat(irq.level()).isTrue();
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x04);
        assertThat(uart.readByte(RBR_THR)).isEqualTo('k');
        assertThat(irq.level()).isFalse();
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x01);
    }

    @Test
    void fifoReceiverInterruptWaitsForTheTriggerLevel() {
        // "FIFO Control Register" bits 7-6: trigger level 8; IIR bits 7-6 read 11 with FIFOs enabled
        openPort();
        uart.writeByte(IIR_FCR, 0x81);
        uart.writeByte(IER, 0x01);
        for (int i = 0; i < 7; i++) {
            uart.receive('0' + i);
        }
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0xC1);
        assertThat(irq.level()).isFalse();
        uart.receive('7');
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0xC4);
        assertThat(irq.level()).isTrue();
        uart.readByte(RBR_THR);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0xC1);
        assertThat(uart.receiveRoom()).isEqualTo(16 - 7);
    }

    @Test
    void characterTimeoutFiresAfterFourCharacterTimesOfVirtualTime() {
        // "FIFO Interrupt Mode Operation": timeout when no character entered or left the FIFO for 4 char times
        openPort();
        uart.writeByte(LCR, 0x83);
        uart.writeByte(RBR_THR, 1); // divisor 1: 115200 baud, 10 bits per character
        uart.writeByte(IER, 0x00);
        uart.writeByte(LCR, 0x03);
        uart.writeByte(IIR_FCR, 0xC1);
        uart.writeByte(IER, 0x01);
        uart.receive('a');
        long deadline = 347_223L; // ceil(4 * 10 * 16 / 1.8432 MHz)
        assertThat(uart.nextEventNanos()).isEqualTo(deadline);
        clock.advanceTo(deadline - 1);
        uart.advanceTo(deadline - 1);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0xC1);
        clock.advanceTo(deadline);
        uart.advanceTo(deadline);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0xCC);
        assertThat(irq.level()).isTrue();
        assertThat(uart.readByte(RBR_THR)).isEqualTo('a');
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0xC1);
        assertThat(uart.nextEventNanos()).isEqualTo(Clocked.NO_EVENT);
    }

    @Test
    void divisorLatchIsReachedWithDlabAndLeavesRbrAndIerAlone() {
        // "Line Control Register" bit 7 (DLAB) selects DLL/DLM at offsets 0 and 1
        uart.writeByte(IER, 0x05);
        uart.writeByte(LCR, 0x83);
        uart.writeByte(RBR_THR, 0x30);
        uart.writeByte(IER, 0x01);
        assertThat(uart.readByte(RBR_THR)).isEqualTo(0x30);
        assertThat(uart.readByte(IER)).isEqualTo(0x01);
        uart.writeByte(LCR, 0x03);
        assertThat(uart.readByte(IER)).isEqualTo(0x05);
        assertThat(uart.characterTimeoutNanos()).isEqualTo(Math.ceilDiv(4L * 10 * 0x130 * 16 * 1_000_000_000L, 1_843_200L));
        assertThat(sent.size()).isZero();
    }

    @Test
    void iirReportsLineStatusThenDataThenThreThenModemStatus() {
        // Table 4 priorities: receiver line status > received data > THRE > modem status
        openPort();
        uart.writeByte(IER, 0x0F);
        uart.receive(1);
        uart.receive(2); // overrun without FIFOs
        uart.setModemInputs(0x30);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x06);
        assertThat(uart.readByte(LSR) & 0x03).isEqualTo(0x03);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x04);
        assertThat(uart.readByte(RBR_THR)).isEqualTo(2);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x02);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x00);
        assertThat(uart.readByte(MSR)).isEqualTo(0x30 | 0x08);
        assertThat(uart.readByte(IIR_FCR)).isEqualTo(0x01);
        assertThat(irq.level()).isFalse();
    }

    @Test
    void aFullFifoDropsTheNextCharacterAndFlagsOverrun() {
        // "Line Status Register" bit 1 (OE), FIFO mode: the character in the shift register is not transferred
        uart.writeByte(IIR_FCR, 0x01);
        for (int i = 0; i < 16; i++) {
            assertThat(uart.receive(i)).isTrue();
        }
        assertThat(uart.receive(99)).isFalse();
        assertThat(uart.readByte(LSR)).isEqualTo(0x63);
        assertThat(uart.readByte(LSR)).isEqualTo(0x61);
        assertThat(uart.readByte(RBR_THR)).isZero();
    }

    @Test
    void fcrBit1ClearsTheReceiverFifo() {
        // "FIFO Control Register" bit 1
        uart.writeByte(IIR_FCR, 0x01);
        uart.receive(7);
        uart.writeByte(IIR_FCR, 0x03);
        assertThat(uart.readByte(LSR) & 0x01).isZero();
    }

    @Test
    void scratchRegisterHoldsAByte() {
        // "Scratchpad Register"
        uart.writeByte(SCR, 0xA5);
        assertThat(uart.readByte(SCR)).isEqualTo(0xA5);
    }

    @Test
    void stateRoundTripKeepsTheUnreadBytes() {
        openPort();
        uart.writeByte(IIR_FCR, 0x01);
        uart.writeByte(IER, 0x01);
        uart.receive('a');
        uart.receive('b');
        uart.readByte(RBR_THR);
        uart.receive('c');
        Uart16550.State saved = uart.state();
        RecordingLine otherIrq = new RecordingLine();
        Uart16550 copy = new Uart16550(otherIrq, b -> { }, clock);
        copy.restore(saved);
        assertThat(otherIrq.level()).isTrue();
        assertThat(copy.readByte(RBR_THR)).isEqualTo('b');
        assertThat(copy.readByte(RBR_THR)).isEqualTo('c');
        assertThat(copy.readByte(LSR) & 0x01).isZero();
    }
}

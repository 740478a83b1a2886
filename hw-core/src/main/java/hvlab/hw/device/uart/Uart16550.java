package hvlab.hw.device.uart;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.ByteIoRegion;
import hvlab.hw.device.Oscillator;
import hvlab.hw.irq.IrqLine;
import java.util.function.IntConsumer;

/**
 * A National Semiconductor / TI PC16550D UART with 16-byte FIFOs. Window of eight registers (COM1 at 0x3F8, COM2 at
 * 0x2F8): RBR/THR/DLL, IER/DLM, IIR/FCR, LCR, MCR, LSR, MSR, SCR.
 *
 * <p>Transmission is instantaneous: a byte written to THR goes to the sink whole at once (whatever the word
 * length, as QEMU does) and THR is empty again, so THRE and TEMT always read 1. Received bytes come from
 * {@link #receive}. The character timeout (four character times without FIFO activity) runs on virtual time from
 * the divisor and LCR; that is this part's only {@link Clocked} event.
 *
 * <p>On a PC the INTR pin reaches the PIC only through a buffer enabled by OUT2, and loopback forces OUT2 inactive;
 * so the line is the interrupt condition AND MCR.OUT2 AND NOT MCR.LOOP.
 */
public final class Uart16550 implements ByteIoRegion, Clocked {
    public static final int COM1_PORT = 0x3F8;
    public static final int COM2_PORT = 0x2F8;
    public static final int WINDOW = 8;
    public static final long CRYSTAL_HZ = 1_843_200L;
    public static final int FIFO_SIZE = 16;
    /** Divisor at reset (9600 baud); the datasheet leaves the latch undefined. */
    public static final int RESET_DIVISOR = 12;
    /** CTS, DSR and DCD asserted: a terminal is attached. */
    public static final int DEFAULT_MODEM_INPUTS = 0xB0;

    static final int IER_RECEIVED_DATA = 0x01;
    static final int IER_THR_EMPTY = 0x02;
    static final int IER_LINE_STATUS = 0x04;
    static final int IER_MODEM_STATUS = 0x08;
    static final int IIR_NO_INTERRUPT = 0x01;
    static final int IIR_MODEM_STATUS = 0x00;
    static final int IIR_THR_EMPTY = 0x02;
    static final int IIR_RECEIVED_DATA = 0x04;
    static final int IIR_LINE_STATUS = 0x06;
    static final int IIR_CHARACTER_TIMEOUT = 0x0C;
    static final int IIR_FIFOS_ENABLED = 0xC0;
    static final int LCR_DLAB = 0x80;
    static final int MCR_DTR = 0x01;
    static final int MCR_RTS = 0x02;
    static final int MCR_OUT1 = 0x04;
    static final int MCR_OUT2 = 0x08;
    static final int MCR_LOOP = 0x10;
    static final int LSR_DATA_READY = 0x01;
    static final int LSR_OVERRUN = 0x02;
    static final int LSR_THR_EMPTY = 0x20;
    static final int LSR_TRANSMITTER_EMPTY = 0x40;
    static final int MSR_DELTA_CTS = 0x01;
    static final int MSR_DELTA_DSR = 0x02;
    static final int MSR_TRAILING_EDGE_RI = 0x04;
    static final int MSR_DELTA_DCD = 0x08;
    static final int MSR_CTS = 0x10;
    static final int MSR_DSR = 0x20;
    static final int MSR_RI = 0x40;
    static final int MSR_DCD = 0x80;
    private static final int[] RX_TRIGGER_LEVELS = {1, 4, 8, 14};
    private static final int CHARACTER_TIMEOUT_CHARACTERS = 4;

    /** {@code receiveFifo} holds the unread received bytes, oldest first. */
    public record State(int ier, int lcr, int mcr, int scr, int divisor, boolean fifoEnabled, int rxTriggerLevel,
                        byte[] receiveFifo, int lastReceived, int lineErrors, boolean thrInterrupt,
                        boolean timeoutPending, long lastReceiverActivityNanos, int modemInputs, int msrDeltas,
                        boolean irqLevel) {
    }

    private final IrqLine irq;
    private final IntConsumer transmit;
    private final VirtualClock clock;
    private final byte[] rxFifo = new byte[FIFO_SIZE];
    private int rxHead;
    private int rxCount;
    private int lastReceived;
    private int ier;
    private int lcr;
    private int mcr;
    private int scr;
    private int divisor = RESET_DIVISOR;
    private boolean fifoEnabled;
    private int rxTriggerLevel = 1;
    private int lineErrors;
    private boolean thrInterrupt;
    private boolean timeoutPending;
    private long lastReceiverActivityNanos;
    private int modemInputs = DEFAULT_MODEM_INPUTS;
    private int msrDeltas;
    private boolean irqLevel;

    /**
     * @param irq      the interrupt line (IRQ4 for COM1, IRQ3 for COM2)
     * @param transmit receives each byte written to THR, 0-255
     * @param clock    virtual time, for the character timeout
     */
    public Uart16550(IrqLine irq, IntConsumer transmit, VirtualClock clock) {
        this.irq = irq;
        this.transmit = transmit;
        this.clock = clock;
    }

    // ---- host side

    /** A byte arriving on the serial input; false when it was lost (FIFO full, overrun, or loopback). */
    public boolean receive(int value) {
        if ((mcr & MCR_LOOP) != 0) {
            return false; // loopback disconnects the serial input
        }
        return acceptReceived(value);
    }

    /** Bytes arriving one after another; returns how many were taken before the first loss. */
    public int receive(byte[] bytes) {
        int taken = 0;
        for (byte b : bytes) {
            if (!receive(b & 0xFF)) {
                break;
            }
            taken++;
        }
        return taken;
    }

    /**
     * The RTS output (MCR bit 1), which a terminal using RTS/CTS flow control sees as its CTS: it sends only while
     * this is asserted. Loopback holds the output pins inactive (PC16550D, "Loopback").
     */
    public boolean requestToSend() {
        return (mcr & (MCR_RTS | MCR_LOOP)) == MCR_RTS;
    }

    /** How many bytes the receiver can take without an overrun, so the host can pace its input. */
    public int receiveRoom() {
        return receiveCapacity() - rxCount;
    }

    /** The modem's CTS, DSR, RI and DCD inputs, in MSR bit positions 4-7. */
    public void setModemInputs(int msrBits) {
        int before = modemLines();
        modemInputs = msrBits & 0xF0;
        noteModemLines(before);
        updateIrq();
    }

    // ---- registers

    @Override
    public int readByte(int offset) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch (offset) {
            case 0 -> dlab ? divisor & 0xFF : readReceiveBuffer();
            case 1 -> dlab ? divisor >>> 8 : ier;
            case 2 -> readInterruptIdentification();
            case 3 -> lcr;
            case 4 -> mcr;
            case 5 -> readLineStatus();
            case 6 -> readModemStatus();
            case 7 -> scr;
            default -> 0xFF;
        };
    }

    @Override
    public void writeByte(int offset, int value) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (offset) {
            case 0 -> {
                if (dlab) {
                    divisor = divisor & 0xFF00 | value;
                } else {
                    transmitHoldingRegister(value);
                }
            }
            case 1 -> {
                if (dlab) {
                    divisor = divisor & 0xFF | value << 8;
                } else {
                    interruptEnable(value);
                }
            }
            case 2 -> fifoControl(value);
            case 3 -> lcr = value;
            case 4 -> modemControl(value);
            case 7 -> scr = value;
            default -> { } // LSR and MSR are read-only (factory test writes are not modelled)
        }
    }

    private int readReceiveBuffer() {
        if (rxCount > 0) {
            lastReceived = rxFifo[rxHead] & 0xFF;
            rxHead = (rxHead + 1) % FIFO_SIZE;
            rxCount--;
        }
        timeoutPending = false;
        lastReceiverActivityNanos = clock.nanos();
        updateIrq();
        return lastReceived;
    }

    private void transmitHoldingRegister(int value) {
        thrInterrupt = false;
        updateIrq();
        if ((mcr & MCR_LOOP) != 0) {
            acceptReceived(value);
        } else {
            transmit.accept(value);
        }
        // The byte has left at once: THR is empty again, which is a new THRE interrupt (PC16550D, Table 3).
        thrInterrupt = true;
        updateIrq();
    }

    // Writing IER with ETBEI while THR is empty raises the THRE interrupt, as the 8250 family does.
    private void interruptEnable(int value) {
        ier = value & 0x0F;
        if ((ier & IER_THR_EMPTY) != 0) {
            thrInterrupt = true;
        }
        updateIrq();
    }

    // PC16550D, "FIFO Control Register": bit 0 enables both FIFOs (changing it clears them), bit 1 clears the
    // receiver FIFO, bits 7-6 pick the receiver trigger level; without bit 0 the other bits are not programmed.
    private void fifoControl(int value) {
        boolean enable = (value & 0x01) != 0;
        if (enable != fifoEnabled) {
            clearReceiver();
        }
        fifoEnabled = enable;
        if (enable) {
            if ((value & 0x02) != 0) {
                clearReceiver();
            }
            rxTriggerLevel = RX_TRIGGER_LEVELS[value >>> 6 & 3];
        }
        updateIrq();
    }

    private void modemControl(int value) {
        int before = modemLines();
        mcr = value & 0x1F;
        noteModemLines(before);
        updateIrq();
    }

    // IIR: the highest-priority pending interrupt (PC16550D, Table 4); reading it clears a THRE indication.
    private int readInterruptIdentification() {
        int id = interruptId();
        if (id == IIR_THR_EMPTY) {
            thrInterrupt = false;
            updateIrq();
        }
        return id | (fifoEnabled ? IIR_FIFOS_ENABLED : 0);
    }

    private int readLineStatus() {
        int value = (rxCount > 0 ? LSR_DATA_READY : 0) | lineErrors | LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY;
        lineErrors = 0;
        updateIrq();
        return value;
    }

    private int readModemStatus() {
        int value = modemLines() | msrDeltas;
        msrDeltas = 0;
        updateIrq();
        return value;
    }

    // ---- receiver

    private boolean acceptReceived(int value) {
        if (rxCount == receiveCapacity()) {
            lineErrors |= LSR_OVERRUN;
            if (!fifoEnabled) {
                rxFifo[rxHead] = (byte) value; // without FIFOs the new character overwrites RBR
            }
            updateIrq();
            return false;
        }
        rxFifo[(rxHead + rxCount) % FIFO_SIZE] = (byte) value;
        rxCount++;
        timeoutPending = false;
        lastReceiverActivityNanos = clock.nanos();
        updateIrq();
        return true;
    }

    private int receiveCapacity() {
        return fifoEnabled ? FIFO_SIZE : 1;
    }

    private void clearReceiver() {
        rxHead = 0;
        rxCount = 0;
        timeoutPending = false;
    }

    // ---- modem lines

    /** CTS, DSR, RI, DCD: from the modem, or in loopback from RTS, DTR, OUT1, OUT2 (PC16550D, "Loopback"). */
    private int modemLines() {
        if ((mcr & MCR_LOOP) == 0) {
            return modemInputs;
        }
        return ((mcr & MCR_RTS) != 0 ? MSR_CTS : 0) | ((mcr & MCR_DTR) != 0 ? MSR_DSR : 0)
                | ((mcr & MCR_OUT1) != 0 ? MSR_RI : 0) | ((mcr & MCR_OUT2) != 0 ? MSR_DCD : 0);
    }

    private void noteModemLines(int before) {
        int after = modemLines();
        int changed = before ^ after;
        if ((changed & MSR_CTS) != 0) {
            msrDeltas |= MSR_DELTA_CTS;
        }
        if ((changed & MSR_DSR) != 0) {
            msrDeltas |= MSR_DELTA_DSR;
        }
        if ((before & ~after & MSR_RI) != 0) {
            msrDeltas |= MSR_TRAILING_EDGE_RI;
        }
        if ((changed & MSR_DCD) != 0) {
            msrDeltas |= MSR_DELTA_DCD;
        }
    }

    // ---- interrupts

    private int interruptId() {
        if ((ier & IER_LINE_STATUS) != 0 && lineErrors != 0) {
            return IIR_LINE_STATUS;
        }
        if ((ier & IER_RECEIVED_DATA) != 0) {
            if (rxCount >= (fifoEnabled ? rxTriggerLevel : 1)) {
                return IIR_RECEIVED_DATA;
            }
            if (timeoutPending) {
                return IIR_CHARACTER_TIMEOUT;
            }
        }
        if ((ier & IER_THR_EMPTY) != 0 && thrInterrupt) {
            return IIR_THR_EMPTY;
        }
        if ((ier & IER_MODEM_STATUS) != 0 && msrDeltas != 0) {
            return IIR_MODEM_STATUS;
        }
        return IIR_NO_INTERRUPT;
    }

    private void updateIrq() {
        boolean level = interruptId() != IIR_NO_INTERRUPT && (mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    // ---- character timeout

    @Override
    public long nextEventNanos() {
        if (!fifoEnabled || rxCount == 0 || timeoutPending) {
            return NO_EVENT;
        }
        return lastReceiverActivityNanos + characterTimeoutNanos();
    }

    @Override
    public void advanceTo(long nowNanos) {
        if (nextEventNanos() <= nowNanos) {
            timeoutPending = true;
            updateIrq();
        }
    }

    /** Four character times: start bit, 5-8 data bits, parity, 1, 1.5 or 2 stop bits, at crystal / (16 * divisor). */
    long characterTimeoutNanos() {
        int dataBits = 5 + (lcr & 3);
        int parityBits = (lcr & 0x08) != 0 ? 1 : 0;
        int stopHalfBits = (lcr & 0x04) == 0 ? 2 : dataBits == 5 ? 3 : 4;
        long halfBits = 2L * (1 + dataBits + parityBits) + stopHalfBits;
        long effectiveDivisor = divisor == 0 ? 0x1_0000 : divisor;
        return Math.ceilDiv(CHARACTER_TIMEOUT_CHARACTERS * halfBits * effectiveDivisor * 16
                * Oscillator.NANOS_PER_SECOND, 2 * CRYSTAL_HZ);
    }

    // ---- state

    public State state() {
        byte[] unread = new byte[rxCount];
        for (int i = 0; i < rxCount; i++) {
            unread[i] = rxFifo[(rxHead + i) % FIFO_SIZE];
        }
        return new State(ier, lcr, mcr, scr, divisor, fifoEnabled, rxTriggerLevel, unread, lastReceived, lineErrors,
                thrInterrupt, timeoutPending, lastReceiverActivityNanos, modemInputs, msrDeltas, irqLevel);
    }

    public void restore(State s) {
        ier = s.ier();
        lcr = s.lcr();
        mcr = s.mcr();
        scr = s.scr();
        divisor = s.divisor();
        fifoEnabled = s.fifoEnabled();
        rxTriggerLevel = s.rxTriggerLevel();
        rxHead = 0;
        rxCount = Math.min(s.receiveFifo().length, FIFO_SIZE);
        System.arraycopy(s.receiveFifo(), 0, rxFifo, 0, rxCount);
        lastReceived = s.lastReceived();
        lineErrors = s.lineErrors();
        thrInterrupt = s.thrInterrupt();
        timeoutPending = s.timeoutPending();
        lastReceiverActivityNanos = s.lastReceiverActivityNanos();
        modemInputs = s.modemInputs();
        msrDeltas = s.msrDeltas();
        irqLevel = s.irqLevel();
        irq.set(irqLevel);
    }
}

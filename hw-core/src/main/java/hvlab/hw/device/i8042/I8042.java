package hvlab.hw.device.i8042;

import hvlab.hw.bus.IoRegion;
import hvlab.hw.device.ByteIoRegion;
import hvlab.hw.device.GuestErrorLog;
import hvlab.hw.irq.IrqLine;
import java.util.function.Consumer;

/**
 * The PC/AT 8042 keyboard controller with a minimal keyboard behind it. Its window spans ports 0x60-0x64 but only
 * offset 0 (port 0x60, data) and offset 4 (port 0x64, status/command) are its own: ports 0x61-0x63 belong to other
 * parts, so a machine maps {@link #dataPort()} at 0x60 and {@link #commandPort()} at 0x64, one port each.
 *
 * <p>Commands complete at once (IBF always reads 0). Bytes for the CPU queue behind the one-byte output buffer:
 * controller replies first, keyboard bytes while the keyboard interface is enabled. IRQ1 (IRQ12 for auxiliary-port
 * bytes) follows "output buffer full" when the command byte enables it. The host injects scan codes with
 * {@link #keyboardInput} in the set the guest expects (no translation is applied). There is no mouse: commands
 * for the auxiliary device (0xD4) get no answer, as with an empty PS/2 port.
 *
 * <p>Power-up state is what a BIOS leaves, since hvlab boots kernels directly: command byte 0x45 (IRQ1, system
 * flag, translation), keyboard scanning, A20 enabled (the callback is not called for this initial state).
 */
public final class I8042 implements ByteIoRegion {
    public static final int DATA_PORT = 0x60;
    public static final int COMMAND_PORT = 0x64;
    public static final int DATA = 0;
    public static final int STATUS_COMMAND = 4;
    public static final int WINDOW = 5;

    static final int STATUS_OUTPUT_FULL = 0x01;
    static final int STATUS_SYSTEM_FLAG = 0x04;
    static final int STATUS_LAST_WRITE_WAS_COMMAND = 0x08;
    static final int STATUS_KEYBOARD_UNLOCKED = 0x10;
    static final int STATUS_AUX_OUTPUT_FULL = 0x20;
    static final int COMMAND_BYTE_KEYBOARD_INTERRUPT = 0x01;
    static final int COMMAND_BYTE_AUX_INTERRUPT = 0x02;
    static final int COMMAND_BYTE_SYSTEM_FLAG = 0x04;
    static final int COMMAND_BYTE_KEYBOARD_DISABLED = 0x10;
    static final int COMMAND_BYTE_AUX_DISABLED = 0x20;
    static final int RESET_COMMAND_BYTE = 0x45;
    static final int OUTPUT_PORT_RESET_INACTIVE = 0x01;
    static final int OUTPUT_PORT_A20 = 0x02;
    static final int OUTPUT_PORT_KEYBOARD_FULL = 0x10;
    static final int OUTPUT_PORT_AUX_FULL = 0x20;
    static final int RESET_OUTPUT_PORT = 0xCF;
    static final int INPUT_PORT = 0x80; // keyboard not inhibited
    static final int ACK = 0xFA;
    static final int SELF_TEST_PASSED = 0x55;
    static final int KEYBOARD_SELF_TEST_PASSED = 0xAA;
    private static final int AUX_TAG = 0x100;
    private static final int QUEUE_CAPACITY = 16;
    private static final int CONTROLLER_RAM_BYTES = 32;

    /** {@code controllerRam[0]} is the command byte; queues hold bytes with 0x100 marking auxiliary-port ones. */
    public record State(byte[] controllerRam, boolean systemFlag, boolean lastWriteWasCommand, int pendingCommand,
                        int outputPort, int outputBuffer, boolean outputFull, boolean outputFromAux,
                        int[] controllerQueue, int[] keyboardQueue, int keyboardArgumentFor, boolean scanning,
                        int scancodeSet, boolean keyboardIrqLevel, boolean auxIrqLevel) {
    }

    private final IrqLine keyboardIrq;
    private final IrqLine auxIrq;
    private final Consumer<Boolean> a20Gate;
    private final Runnable systemReset;
    private final GuestErrorLog errors = new GuestErrorLog(I8042.class);
    private final byte[] controllerRam = new byte[CONTROLLER_RAM_BYTES];
    private final ByteQueue controllerQueue = new ByteQueue(QUEUE_CAPACITY);
    private final ByteQueue keyboardQueue = new ByteQueue(QUEUE_CAPACITY);
    private final IoRegion dataPort = new PortView(DATA);
    private final IoRegion commandPort = new PortView(STATUS_COMMAND);
    private boolean systemFlag = true;
    private boolean lastWriteWasCommand;
    private int pendingCommand;
    private int outputPort = RESET_OUTPUT_PORT;
    private int outputBuffer;
    private boolean outputFull;
    private boolean outputFromAux;
    private int keyboardArgumentFor;
    private boolean scanning = true;
    private int scancodeSet = 2;
    private boolean keyboardIrqLevel;
    private boolean auxIrqLevel;

    /**
     * @param keyboardIrq IRQ1
     * @param auxIrq      IRQ12
     * @param a20Gate     told each time the output port's A20 bit changes (true = address line 20 passes)
     * @param systemReset called when the guest pulses or writes the reset line low
     */
    public I8042(IrqLine keyboardIrq, IrqLine auxIrq, Consumer<Boolean> a20Gate, Runnable systemReset) {
        this.keyboardIrq = keyboardIrq;
        this.auxIrq = auxIrq;
        this.a20Gate = a20Gate;
        this.systemReset = systemReset;
        controllerRam[0] = RESET_COMMAND_BYTE;
    }

    public I8042(IrqLine keyboardIrq, Consumer<Boolean> a20Gate, Runnable systemReset) {
        this(keyboardIrq, IrqLine.NONE, a20Gate, systemReset);
    }

    /** Port 0x60 alone, for mapping one port. */
    public IoRegion dataPort() {
        return dataPort;
    }

    /** Port 0x64 alone, for mapping one port. */
    public IoRegion commandPort() {
        return commandPort;
    }

    public boolean a20Enabled() {
        return (outputPort & OUTPUT_PORT_A20) != 0;
    }

    /** A byte from the keyboard (a scan code); dropped while scanning is off or the keyboard's buffer is full. */
    public void keyboardInput(int scancode) {
        if (scanning) {
            keyboardQueue.offer(scancode & 0xFF);
            fillOutputBuffer();
        }
    }

    @Override
    public int readByte(int offset) {
        return switch (offset) {
            case DATA -> readData();
            case STATUS_COMMAND -> status();
            default -> 0xFF;
        };
    }

    @Override
    public void writeByte(int offset, int value) {
        switch (offset) {
            case DATA -> writeData(value);
            case STATUS_COMMAND -> controllerCommand(value);
            default -> { }
        }
    }

    private int status() {
        return (outputFull ? STATUS_OUTPUT_FULL : 0) | (outputFull && outputFromAux ? STATUS_AUX_OUTPUT_FULL : 0)
                | (systemFlag ? STATUS_SYSTEM_FLAG : 0) | (lastWriteWasCommand ? STATUS_LAST_WRITE_WAS_COMMAND : 0)
                | STATUS_KEYBOARD_UNLOCKED;
    }

    private int readData() {
        int value = outputBuffer;
        if (outputFull) {
            outputFull = false;
            updateIrqs();
            fillOutputBuffer();
        }
        return value;
    }

    // ---- controller commands (IBM PC/AT Technical Reference, "Keyboard Controller Commands")

    private void controllerCommand(int command) {
        lastWriteWasCommand = true;
        pendingCommand = 0;
        if (command >= 0x20 && command <= 0x3F) {
            reply(controllerRam[command & 0x1F] & 0xFF);
            return;
        }
        if (command >= 0x60 && command <= 0x7F || command >= 0xD1 && command <= 0xD4) {
            pendingCommand = command;
            return;
        }
        if (command >= 0xF0) {
            // Pulse output port bits 0-3 low where the command's low bits are 0; bit 0 is the reset line.
            if ((command & OUTPUT_PORT_RESET_INACTIVE) == 0) {
                systemReset.run();
            }
            return;
        }
        switch (command) {
            case 0xA7 -> setCommandByte(commandByte() | COMMAND_BYTE_AUX_DISABLED);
            case 0xA8 -> setCommandByte(commandByte() & ~COMMAND_BYTE_AUX_DISABLED);
            case 0xA9, 0xAB -> reply(0x00); // interface tests: no fault
            case 0xAA -> {
                systemFlag = true;
                reply(SELF_TEST_PASSED);
            }
            case 0xAD -> setCommandByte(commandByte() | COMMAND_BYTE_KEYBOARD_DISABLED);
            case 0xAE -> setCommandByte(commandByte() & ~COMMAND_BYTE_KEYBOARD_DISABLED);
            case 0xC0 -> reply(INPUT_PORT);
            case 0xD0 -> reply(outputPortWithBufferBits());
            case 0xDD -> writeOutputPort(outputPort & ~OUTPUT_PORT_A20);
            case 0xDF -> writeOutputPort(outputPort | OUTPUT_PORT_A20);
            case 0xE0 -> reply(0x00);
            default -> errors.report("unknown 8042 command", command);
        }
    }

    private void writeData(int value) {
        lastWriteWasCommand = false;
        int command = pendingCommand;
        pendingCommand = 0;
        if (command >= 0x60 && command <= 0x7F) {
            if (command == 0x60) {
                setCommandByte(value);
                systemFlag = (value & COMMAND_BYTE_SYSTEM_FLAG) != 0;
            } else {
                controllerRam[command & 0x1F] = (byte) value;
            }
            return;
        }
        switch (command) {
            case 0xD1 -> writeOutputPort(value);
            case 0xD2 -> queue(controllerQueue, value);
            case 0xD3 -> queue(controllerQueue, value | AUX_TAG);
            case 0xD4 -> { } // no auxiliary device answers
            default -> {
                // A byte for the keyboard also re-enables the keyboard interface, as the 8042 firmware does.
                setCommandByte(commandByte() & ~COMMAND_BYTE_KEYBOARD_DISABLED);
                keyboardCommand(value);
            }
        }
    }

    private int commandByte() {
        return controllerRam[0] & 0xFF;
    }

    private void setCommandByte(int value) {
        controllerRam[0] = (byte) value;
        fillOutputBuffer();
        updateIrqs();
    }

    private int outputPortWithBufferBits() {
        return outputPort & ~(OUTPUT_PORT_KEYBOARD_FULL | OUTPUT_PORT_AUX_FULL)
                | (outputFull && !outputFromAux ? OUTPUT_PORT_KEYBOARD_FULL : 0)
                | (outputFull && outputFromAux ? OUTPUT_PORT_AUX_FULL : 0);
    }

    // Output port: bit 1 gates address line 20, bit 0 low resets the CPU.
    private void writeOutputPort(int value) {
        boolean a20WasEnabled = a20Enabled();
        outputPort = value & 0xFF;
        if (a20Enabled() != a20WasEnabled) {
            a20Gate.accept(a20Enabled());
        }
        if ((value & OUTPUT_PORT_RESET_INACTIVE) == 0) {
            systemReset.run();
        }
    }

    // ---- the keyboard (IBM PS/2 keyboard technical reference, "Commands from the System")

    private void keyboardCommand(int value) {
        int argumentFor = keyboardArgumentFor;
        keyboardArgumentFor = 0;
        if (argumentFor == 0xF0) {
            keyboardReply(ACK);
            if (value == 0) {
                keyboardReply(scancodeSet);
            } else if (value <= 3) {
                scancodeSet = value;
            }
            return;
        }
        if (argumentFor != 0) {
            keyboardReply(ACK); // LED state or typematic rate: accepted, nothing to show
            return;
        }
        switch (value) {
            case 0xFF -> {
                keyboardQueue.clear();
                scanning = true;
                keyboardReply(ACK);
                keyboardReply(KEYBOARD_SELF_TEST_PASSED);
            }
            case 0xF4 -> {
                scanning = true;
                keyboardReply(ACK);
            }
            case 0xF5 -> {
                scanning = false;
                keyboardReply(ACK);
            }
            case 0xF2 -> {
                keyboardReply(ACK);
                keyboardReply(0xAB);
                keyboardReply(0x83);
            }
            case 0xEE -> keyboardReply(0xEE);
            case 0xED, 0xF0, 0xF3 -> {
                keyboardArgumentFor = value;
                keyboardReply(ACK);
            }
            default -> keyboardReply(ACK);
        }
    }

    private void keyboardReply(int value) {
        queue(keyboardQueue, value);
    }

    // ---- output buffer and interrupts

    private void reply(int value) {
        queue(controllerQueue, value);
    }

    private void queue(ByteQueue queue, int entry) {
        if (!queue.offer(entry)) {
            errors.report("8042 output queue overflow, byte dropped", entry);
        }
        fillOutputBuffer();
    }

    private void fillOutputBuffer() {
        if (!outputFull) {
            int entry;
            if (!controllerQueue.isEmpty()) {
                entry = controllerQueue.take();
            } else if ((commandByte() & COMMAND_BYTE_KEYBOARD_DISABLED) == 0 && !keyboardQueue.isEmpty()) {
                entry = keyboardQueue.take();
            } else {
                return;
            }
            outputBuffer = entry & 0xFF;
            outputFromAux = (entry & AUX_TAG) != 0;
            outputFull = true;
        }
        updateIrqs();
    }

    private void updateIrqs() {
        boolean keyboard = outputFull && !outputFromAux && (commandByte() & COMMAND_BYTE_KEYBOARD_INTERRUPT) != 0;
        boolean aux = outputFull && outputFromAux && (commandByte() & COMMAND_BYTE_AUX_INTERRUPT) != 0;
        if (keyboard != keyboardIrqLevel) {
            keyboardIrqLevel = keyboard;
            keyboardIrq.set(keyboard);
        }
        if (aux != auxIrqLevel) {
            auxIrqLevel = aux;
            auxIrq.set(aux);
        }
    }

    // ---- state

    public State state() {
        return new State(controllerRam.clone(), systemFlag, lastWriteWasCommand, pendingCommand, outputPort,
                outputBuffer, outputFull, outputFromAux, controllerQueue.toArray(), keyboardQueue.toArray(),
                keyboardArgumentFor, scanning, scancodeSet, keyboardIrqLevel, auxIrqLevel);
    }

    /** Restores the controller; the A20 callback is not called (the machine restores its own A20 state). */
    public void restore(State s) {
        System.arraycopy(s.controllerRam(), 0, controllerRam, 0, CONTROLLER_RAM_BYTES);
        systemFlag = s.systemFlag();
        lastWriteWasCommand = s.lastWriteWasCommand();
        pendingCommand = s.pendingCommand();
        outputPort = s.outputPort();
        outputBuffer = s.outputBuffer();
        outputFull = s.outputFull();
        outputFromAux = s.outputFromAux();
        controllerQueue.load(s.controllerQueue());
        keyboardQueue.load(s.keyboardQueue());
        keyboardArgumentFor = s.keyboardArgumentFor();
        scanning = s.scanning();
        scancodeSet = s.scancodeSet();
        keyboardIrqLevel = s.keyboardIrqLevel();
        auxIrqLevel = s.auxIrqLevel();
        keyboardIrq.set(keyboardIrqLevel);
        auxIrq.set(auxIrqLevel);
    }

    /** One port of the window, seen at offset 0 by a bus that maps it alone. */
    private final class PortView implements ByteIoRegion {
        private final int offset;

        PortView(int offset) {
            this.offset = offset;
        }

        @Override
        public int readByte(int at) {
            return at == 0 ? I8042.this.readByte(offset) : 0xFF;
        }

        @Override
        public void writeByte(int at, int value) {
            if (at == 0) {
                I8042.this.writeByte(offset, value);
            }
        }
    }
}

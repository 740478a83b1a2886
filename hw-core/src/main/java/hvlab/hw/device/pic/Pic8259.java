package hvlab.hw.device.pic;

import hvlab.hw.device.ByteIoRegion;
import hvlab.hw.device.GuestErrorLog;
import hvlab.hw.irq.InterruptController;
import hvlab.hw.irq.IrqLine;

/**
 * One Intel 8259A programmable interrupt controller in 8086 mode. Window of two ports: offset 0 is A0=0 (ICW1, OCW2,
 * OCW3; reads IRR or ISR), offset 1 is A0=1 (ICW2-ICW4, OCW1; reads IMR).
 *
 * <p>An edge-triggered request latches in IRR on the rising edge and stays there until acknowledged, as the
 * {@link IrqLine} contract says, so a device may pulse its line. A level-triggered request (ICW1 LTIM, or the PC's
 * ELCR bit) follows the line; one withdrawn before INTA leaves nothing to acknowledge and the part answers with the
 * IR7 vector without setting ISR ("spurious IR7", 8259A datasheet, "Edge and Level Triggered Modes").
 */
public final class Pic8259 implements ByteIoRegion, InterruptController {
    public static final int WINDOW = 2;
    private static final int ICW1 = 0x10;
    private static final int ICW1_IC4 = 0x01;
    private static final int ICW1_SNGL = 0x02;
    private static final int ICW1_LTIM = 0x08;
    private static final int OCW3 = 0x08;
    private static final int ICW4_UPM = 0x01;
    private static final int ICW4_AEOI = 0x02;
    private static final int ICW4_BUF = 0x08;
    private static final int ICW4_SFNM = 0x10;
    private static final int NO_PRIORITY = 8;
    private static final int OPERATIONAL = 0;

    /** Everything the part holds; {@code initStep} is the ICW expected next (2, 3, 4) or 0 when operational. */
    public record State(int irr, int isr, int imr, int lineLevels, int elcr, int lowestPriority, int vectorBase,
                        int icw3, int initStep, boolean icw4Expected, boolean singleMode, boolean levelTriggered,
                        boolean mode8086, boolean autoEoi, boolean rotateOnAutoEoi, boolean specialFullyNested,
                        boolean bufferedMode, boolean specialMask, boolean readIsr, boolean pollPending,
                        boolean output) {
    }

    private final IrqLine intOutput;
    private final IrqLine[] inputs = new IrqLine[8];
    private final Pic8259[] slaveAt = new Pic8259[8];
    private final GuestErrorLog errors = new GuestErrorLog(Pic8259.class);

    private int irr;
    private int isr;
    private int imr;
    private int lineLevels;
    private int elcr;
    private int lowestPriority = 7;
    private int vectorBase;
    private int icw3;
    private int initStep = OPERATIONAL;
    private boolean icw4Expected;
    private boolean singleMode;
    private boolean levelTriggered;
    private boolean mode8086 = true;
    private boolean autoEoi;
    private boolean rotateOnAutoEoi;
    private boolean specialFullyNested;
    private boolean bufferedMode;
    private boolean specialMask;
    private boolean readIsr;
    private boolean pollPending;
    private boolean output;

    /** @param intOutput the INT pin: the CPU's INTR for a master, the master's cascade input for a slave */
    public Pic8259(IrqLine intOutput) {
        this.intOutput = intOutput;
        for (int ir = 0; ir < 8; ir++) {
            int input = ir;
            inputs[ir] = high -> setInput(input, high);
        }
    }

    /** The IR input pin {@code ir} (0-7), for a device to drive. */
    public IrqLine input(int ir) {
        return inputs[ir];
    }

    /** Wires a slave's INT to input {@code ir}: INTA for that input is then answered by the slave when ICW3 says so. */
    void attachSlave(int ir, Pic8259 slave) {
        slaveAt[ir] = slave;
    }

    public void setInput(int ir, boolean high) {
        int bit = 1 << ir;
        boolean wasHigh = (lineLevels & bit) != 0;
        if (high) {
            lineLevels |= bit;
            if (!wasHigh || (levelMask() & bit) != 0) {
                irr |= bit;
            }
        } else {
            lineLevels &= ~bit;
            if ((levelMask() & bit) != 0) {
                irr &= ~bit;
            }
        }
        updateOutput();
    }

    /** The INT pin: a request of higher priority than everything in service is pending. */
    public boolean intOutput() {
        return output;
    }

    @Override
    public boolean hasPendingInterrupt() {
        return output;
    }

    /** The two INTA pulses: the vector of the highest request, or IR7's when the request has gone (spurious). */
    @Override
    public int acknowledge() {
        int ir = highestRequest();
        if (ir < 0) {
            return vectorBase | 7;
        }
        startService(ir);
        Pic8259 slave = cascadeSlave(ir);
        int vector = slave != null ? slave.acknowledge() : vectorBase | ir;
        updateOutput();
        return vector;
    }

    /** The PC's edge/level control bits for this part (1 = level), which the {@link Elcr} ports write. */
    public int elcr() {
        return elcr;
    }

    public void setElcr(int value) {
        elcr = value & 0xFF;
        irr = (irr & ~levelMask()) | (lineLevels & levelMask());
        updateOutput();
    }

    @Override
    public int readByte(int offset) {
        if (offset > 1) {
            errors.report("read outside the 8259A's two ports, offset", offset);
            return 0xFF;
        }
        if (pollPending) {
            return poll();
        }
        return offset == 1 ? imr : readIsr ? isr : irr;
    }

    @Override
    public void writeByte(int offset, int value) {
        if (offset == 0) {
            if ((value & ICW1) != 0) {
                initialize(value);
            } else if ((value & OCW3) != 0) {
                operationCommand3(value);
            } else {
                operationCommand2(value);
            }
        } else if (offset == 1) {
            switch (initStep) {
                case 2 -> {
                    vectorBase = value & 0xF8;
                    initStep = singleMode ? afterIcw3() : 3;
                }
                case 3 -> {
                    icw3 = value;
                    initStep = afterIcw3();
                }
                case 4 -> initializationCommand4(value);
                default -> {
                    imr = value;
                    updateOutput();
                }
            }
        } else {
            errors.report("write outside the 8259A's two ports, offset", offset);
        }
    }

    // 8259A datasheet, "Initialization Command Words": ICW1 resets the edge sense, IMR, priorities and SMM.
    private void initialize(int icw1) {
        icw4Expected = (icw1 & ICW1_IC4) != 0;
        singleMode = (icw1 & ICW1_SNGL) != 0;
        levelTriggered = (icw1 & ICW1_LTIM) != 0;
        initStep = 2;
        imr = 0;
        isr = 0;
        irr = lineLevels & levelMask();
        lowestPriority = 7;
        specialMask = false;
        readIsr = false;
        pollPending = false;
        rotateOnAutoEoi = false;
        if (!icw4Expected) {
            mode8086 = false;
            autoEoi = false;
            bufferedMode = false;
            specialFullyNested = false;
        }
        updateOutput();
    }

    private int afterIcw3() {
        return icw4Expected ? 4 : OPERATIONAL;
    }

    private void initializationCommand4(int icw4) {
        mode8086 = (icw4 & ICW4_UPM) != 0;
        autoEoi = (icw4 & ICW4_AEOI) != 0;
        bufferedMode = (icw4 & ICW4_BUF) != 0;
        specialFullyNested = (icw4 & ICW4_SFNM) != 0;
        if (!mode8086) {
            errors.report("ICW4 selects MCS-80/85 mode, which a PC cannot use; vectors stay 8086-style", icw4);
        }
        initStep = OPERATIONAL;
        updateOutput();
    }

    // 8259A datasheet, "Operation Command Words", OCW2: R, SL, EOI select the command; L2-L0 the level.
    private void operationCommand2(int ocw2) {
        int level = ocw2 & 7;
        switch (ocw2 >>> 5) {
            case 0b001 -> endOfInterrupt(highestInService(), false);
            case 0b011 -> endOfInterrupt(level, false);
            case 0b101 -> endOfInterrupt(highestInService(), true);
            case 0b111 -> endOfInterrupt(level, true);
            case 0b100 -> rotateOnAutoEoi = true;
            case 0b000 -> rotateOnAutoEoi = false;
            case 0b110 -> lowestPriority = level;
            default -> { } // 0b010: no operation
        }
        updateOutput();
    }

    private void endOfInterrupt(int ir, boolean rotate) {
        if (ir < 0) {
            return;
        }
        isr &= ~(1 << ir);
        if (rotate) {
            lowestPriority = ir;
        }
    }

    // OCW3: poll (P) wins over the register read select (RR, RIS); ESMM gates the special mask mode bit (SMM).
    private void operationCommand3(int ocw3) {
        if ((ocw3 & 0x04) != 0) {
            pollPending = true;
        }
        if ((ocw3 & 0x02) != 0) {
            readIsr = (ocw3 & 0x01) != 0;
        }
        if ((ocw3 & 0x40) != 0) {
            specialMask = (ocw3 & 0x20) != 0;
        }
        updateOutput();
    }

    // 8259A datasheet, "The Poll Command": the read acts as INTA and returns I (bit 7) and the level W2-W0.
    private int poll() {
        pollPending = false;
        int ir = highestRequest();
        if (ir < 0) {
            return 0;
        }
        startService(ir);
        updateOutput();
        return 0x80 | ir;
    }

    private void startService(int ir) {
        int bit = 1 << ir;
        if ((levelMask() & bit) == 0) {
            irr &= ~bit;
        }
        if (autoEoi) {
            if (rotateOnAutoEoi) {
                lowestPriority = ir;
            }
        } else {
            isr |= bit;
        }
    }

    private Pic8259 cascadeSlave(int ir) {
        return isCascadeInput(ir) ? slaveAt[ir] : null;
    }

    private boolean isCascadeInput(int ir) {
        return !singleMode && (icw3 & (1 << ir)) != 0 && slaveAt[ir] != null;
    }

    private int levelMask() {
        return levelTriggered ? 0xFF : elcr;
    }

    /**
     * The input whose request would interrupt now, or -1. A request must outrank everything in service; in special
     * mask mode masked in-service levels do not block; in special fully nested mode a slave's input may interrupt
     * its own in-service level (8259A datasheet, "Special Fully Nest Mode").
     */
    private int highestRequest() {
        int requests = irr & ~imr;
        if (requests == 0) {
            return -1;
        }
        int requestPriority = priorityOf(requests);
        int servicePriority = priorityOf(specialMask ? isr & ~imr : isr);
        int ir = inputAt(requestPriority);
        if (requestPriority < servicePriority
                || requestPriority == servicePriority && specialFullyNested && isCascadeInput(ir)) {
            return ir;
        }
        return -1;
    }

    private int highestInService() {
        return isr == 0 ? -1 : inputAt(priorityOf(isr));
    }

    /** Priority 0 is the highest; it belongs to the input after the lowest-priority one (rotation). */
    private int priorityOf(int bits) {
        int highestInput = (lowestPriority + 1) & 7;
        int rotated = ((bits >>> highestInput) | (bits << (8 - highestInput))) & 0xFF;
        return rotated == 0 ? NO_PRIORITY : Integer.numberOfTrailingZeros(rotated);
    }

    private int inputAt(int priority) {
        return (priority + lowestPriority + 1) & 7;
    }

    private void updateOutput() {
        boolean request = highestRequest() >= 0;
        if (request != output) {
            output = request;
            intOutput.set(request);
        }
    }

    public State state() {
        return new State(irr, isr, imr, lineLevels, elcr, lowestPriority, vectorBase, icw3, initStep, icw4Expected,
                singleMode, levelTriggered, mode8086, autoEoi, rotateOnAutoEoi, specialFullyNested, bufferedMode,
                specialMask, readIsr, pollPending, output);
    }

    /** Restores a captured state; the INT pin is driven to the restored level. */
    public void restore(State s) {
        irr = s.irr();
        isr = s.isr();
        imr = s.imr();
        lineLevels = s.lineLevels();
        elcr = s.elcr();
        lowestPriority = s.lowestPriority();
        vectorBase = s.vectorBase();
        icw3 = s.icw3();
        initStep = s.initStep();
        icw4Expected = s.icw4Expected();
        singleMode = s.singleMode();
        levelTriggered = s.levelTriggered();
        mode8086 = s.mode8086();
        autoEoi = s.autoEoi();
        rotateOnAutoEoi = s.rotateOnAutoEoi();
        specialFullyNested = s.specialFullyNested();
        bufferedMode = s.bufferedMode();
        specialMask = s.specialMask();
        readIsr = s.readIsr();
        pollPending = s.pollPending();
        output = s.output();
        intOutput.set(output);
    }
}

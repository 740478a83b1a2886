package hvlab.hw.device.pic;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Intel 8259A datasheet (order no. 231468), one part in single mode, driven through its two ports. */
class Pic8259Test {
    private static final int COMMAND = 0;
    private static final int DATA = 1;

    private boolean intr;
    private Pic8259 pic;

    @BeforeEach
    void initializeSingleWithVectorBase0x40() {
        pic = new Pic8259(high -> intr = high);
        pic.writeByte(COMMAND, 0x13); // ICW1: edge, single, ICW4 needed
        pic.writeByte(DATA, 0x40);    // ICW2: vectors 0x40-0x47
        pic.writeByte(DATA, 0x01);    // ICW4: 8086 mode
    }

    private int readIsr() {
        pic.writeByte(COMMAND, 0x0B);
        return pic.readByte(COMMAND);
    }

    private int readIrr() {
        pic.writeByte(COMMAND, 0x0A);
        return pic.readByte(COMMAND);
    }

    private void nonSpecificEoi() {
        pic.writeByte(COMMAND, 0x20);
    }

    @Test
    void icw2SuppliesVectorBitsT7ToT3AndTheInputSuppliesTheLowThree() {
        // "Initialization Command Words", ICW2; "Interrupt Sequence": 8086 mode vector = T7-T3 | IR
        pic.input(5).raise();
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x45);
        assertThat(readIsr()).isEqualTo(0x20);
        assertThat(intr).isFalse();
    }

    @Test
    void icw1ClearsTheMaskAndTheEdgeSenseSoAHighLineNeedsANewRisingEdge() {
        // "Initialization Command Words": ICW1 clears IMR and resets the edge sense circuit
        pic.writeByte(DATA, 0xFF);
        pic.input(3).raise();
        pic.writeByte(COMMAND, 0x13);
        pic.writeByte(DATA, 0x40);
        pic.writeByte(DATA, 0x01);
        assertThat(pic.readByte(DATA)).isZero();
        assertThat(intr).isFalse();
        pic.input(3).lower();
        pic.input(3).raise();
        assertThat(intr).isTrue();
    }

    @Test
    void ocw1MaskBitInhibitsItsInputAndUnmaskingReleasesTheLatchedRequest() {
        // "Operation Command Words", OCW1: a set mask bit inhibits the channel; IRR still latches the request
        pic.writeByte(DATA, 0x08);
        pic.input(3).raise();
        assertThat(intr).isFalse();
        assertThat(readIrr()).isEqualTo(0x08);
        assertThat(pic.readByte(DATA)).isEqualTo(0x08);
        pic.writeByte(DATA, 0x00);
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x43);
    }

    @Test
    void fullyNestedModeServesIr0FirstAndBlocksLowerLevelsUntilEoi() {
        // "Fully Nested Mode": IR0 highest, IR7 lowest; in-service levels block equal and lower requests
        pic.input(6).raise();
        pic.input(2).raise();
        assertThat(pic.acknowledge()).isEqualTo(0x42);
        assertThat(intr).isFalse();
        assertThat(readIrr()).isEqualTo(0x40);
        nonSpecificEoi();
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x46);
    }

    @Test
    void aHigherPriorityRequestInterruptsALowerOneInService() {
        // "Fully Nested Mode": a higher-priority request nests over the one in service
        pic.input(6).raise();
        assertThat(pic.acknowledge()).isEqualTo(0x46);
        pic.input(1).raise();
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x41);
        assertThat(readIsr()).isEqualTo(0x42);
    }

    @Test
    void nonSpecificEoiResetsTheHighestPriorityInServiceBit() {
        // "End of Interrupt": non-specific EOI resets the highest IS bit
        pic.input(6).raise();
        pic.acknowledge();
        pic.input(1).raise();
        pic.acknowledge();
        nonSpecificEoi();
        assertThat(readIsr()).isEqualTo(0x40);
    }

    @Test
    void specificEoiResetsTheNamedLevel() {
        // "End of Interrupt": specific EOI (OCW2 011 L2-L0)
        pic.input(6).raise();
        pic.acknowledge();
        pic.input(1).raise();
        pic.acknowledge();
        pic.writeByte(COMMAND, 0x66);
        assertThat(readIsr()).isEqualTo(0x02);
    }

    @Test
    void rotateOnNonSpecificEoiMakesTheServedLevelTheLowest() {
        // "Automatic Rotation": rotate on non-specific EOI (OCW2 101) gives the served IR the lowest priority
        pic.input(1).raise();
        pic.acknowledge();
        pic.writeByte(COMMAND, 0xA0);
        pic.input(1).lower();
        pic.input(0).raise();
        pic.input(1).raise();
        pic.input(2).raise();
        assertThat(pic.acknowledge()).isEqualTo(0x42);
    }

    @Test
    void setPriorityCommandNamesTheLowestPriorityLevel() {
        // "Specific Rotation": OCW2 110 L2-L0 sets the lowest priority; L+1 becomes the highest
        pic.writeByte(COMMAND, 0xC4);
        pic.input(4).raise();
        pic.input(7).raise();
        pic.input(0).raise();
        assertThat(pic.acknowledge()).isEqualTo(0x47);
    }

    @Test
    void autoEoiLeavesNothingInService() {
        // "Automatic End of Interrupt (AEOI) Mode": the IS bit is reset at the end of the INTA sequence
        pic.writeByte(COMMAND, 0x13);
        pic.writeByte(DATA, 0x40);
        pic.writeByte(DATA, 0x03);
        pic.input(2).raise();
        assertThat(pic.acknowledge()).isEqualTo(0x42);
        assertThat(readIsr()).isZero();
        pic.input(5).raise();
        assertThat(intr).isTrue();
    }

    @Test
    void ocw3SelectsWhetherThePortReadsIrrOrIsr() {
        // "Reading the 8259A Status": OCW3 RR=1, RIS=0 reads IRR; RIS=1 reads ISR; the choice persists
        pic.input(3).raise();
        pic.input(4).raise();
        pic.acknowledge();
        pic.writeByte(COMMAND, 0x0A);
        assertThat(pic.readByte(COMMAND)).isEqualTo(0x10);
        assertThat(pic.readByte(COMMAND)).isEqualTo(0x10);
        pic.writeByte(COMMAND, 0x0B);
        assertThat(pic.readByte(COMMAND)).isEqualTo(0x08);
    }

    @Test
    void pollCommandReturnsTheLevelAndPutsItInService() {
        // "The Poll Command": the next read is the poll word I...W2W1W0 and acts as INTA
        pic.input(5).raise();
        pic.writeByte(COMMAND, 0x0C);
        assertThat(pic.readByte(COMMAND)).isEqualTo(0x85);
        assertThat(readIsr()).isEqualTo(0x20);
        pic.writeByte(COMMAND, 0x0C);
        assertThat(pic.readByte(COMMAND)).isZero();
    }

    @Test
    void specialMaskModeEnablesLowerLevelsWhileTheMaskedOneIsInService() {
        // "Special Mask Mode": masking the level in service enables all other unmasked levels, lower ones too
        pic.input(2).raise();
        pic.acknowledge();
        pic.input(5).raise();
        assertThat(intr).isFalse();
        pic.writeByte(DATA, 0x04);
        pic.writeByte(COMMAND, 0x68);
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x45);
        pic.writeByte(COMMAND, 0x48);
        assertThat(readIsr()).isEqualTo(0x24);
    }

    @Test
    void aLevelRequestWithdrawnBeforeIntaYieldsTheIr7VectorWithoutSettingIsr() {
        // "Edge and Level Triggered Modes": IR input going low before INTA gives a default IR7
        pic.writeByte(COMMAND, 0x1B); // ICW1 with LTIM
        pic.writeByte(DATA, 0x40);
        pic.writeByte(DATA, 0x01);
        pic.input(4).raise();
        assertThat(intr).isTrue();
        pic.input(4).lower();
        assertThat(intr).isFalse();
        assertThat(pic.acknowledge()).isEqualTo(0x47);
        assertThat(readIsr()).isZero();
    }

    @Test
    void anEdgeRequestMaskedAfterIntYieldsTheIr7Vector() {
        // "Edge and Level Triggered Modes": with no request left at INTA the part answers IR7, ISR untouched
        pic.input(3).raise();
        pic.writeByte(DATA, 0x08);
        assertThat(pic.acknowledge()).isEqualTo(0x47);
        assertThat(readIsr()).isZero();
    }

    @Test
    void aLevelInputStillHighAfterEoiInterruptsAgainAnEdgeInputDoesNot() {
        // "Edge and Level Triggered Modes": level mode re-requests while high; edge mode needs a new rising edge
        pic.setElcr(0x10);
        pic.input(3).raise();
        pic.input(4).raise();
        assertThat(pic.acknowledge()).isEqualTo(0x43);
        nonSpecificEoi();
        assertThat(pic.acknowledge()).isEqualTo(0x44);
        nonSpecificEoi();
        assertThat(pic.acknowledge()).isEqualTo(0x44);
        pic.input(4).lower();
        nonSpecificEoi();
        assertThat(intr).isFalse();
        assertThat(readIrr()).isZero();
    }

    @Test
    void anEdgePulseStaysLatchedInIrrAfterTheLineFalls() {
        // IrqLine contract: edge-triggered inputs latch on the low-to-high change
        pic.input(6).raise();
        pic.input(6).lower();
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x46);
    }

    @Test
    void stateRoundTripRestoresRegistersAndTheIntPin() {
        pic.input(2).raise();
        pic.input(6).raise();
        pic.acknowledge();
        pic.writeByte(DATA, 0x80);
        Pic8259.State saved = pic.state();
        boolean[] restoredIntr = {false};
        Pic8259 copy = new Pic8259(high -> restoredIntr[0] = high);
        copy.restore(saved);
        assertThat(copy.state()).isEqualTo(saved);
        assertThat(copy.readByte(DATA)).isEqualTo(0x80);
        assertThat(restoredIntr[0]).isFalse();
        copy.writeByte(COMMAND, 0x20);
        assertThat(restoredIntr[0]).isTrue();
        assertThat(copy.acknowledge()).isEqualTo(0x46);
    }
}

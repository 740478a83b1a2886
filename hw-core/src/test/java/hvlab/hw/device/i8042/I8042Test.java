package hvlab.hw.device.i8042;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.device.RecordingLine;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** IBM PC/AT Technical Reference, "Keyboard Controller"; IBM PS/2 keyboard commands. */
class I8042Test {
    private static final int DATA = I8042.DATA;
    private static final int COMMAND = I8042.STATUS_COMMAND;

    private RecordingLine irq1;
    private List<Boolean> a20Changes;
    private int resets;
    private I8042 kbc;

    @BeforeEach
    void powerUp() {
        irq1 = new RecordingLine();
        a20Changes = new ArrayList<>();
        resets = 0;
        kbc = new I8042(irq1, a20Changes::add, () -> resets++);
    }

    private int status() {
        return kbc.readByte(COMMAND);
    }

    @Test
    void selfTestAnswers0x55InTheOutputBuffer() {
        // Command 0xAA "Self-Test": 0x55 is placed in the output buffer if no errors are detected
        kbc.writeByte(COMMAND, 0xAA);
        assertThat(status() & 0x01).isEqualTo(0x01);
        assertThat(kbc.readByte(DATA)).isEqualTo(0x55);
        assertThat(status() & 0x01).isZero();
        assertThat(status() & 0x04).isEqualTo(0x04);
    }

    @Test
    void interfaceTestAnswers0x00() {
        // Command 0xAB "Interface Test": 00 = no error
        kbc.writeByte(COMMAND, 0xAB);
        assertThat(kbc.readByte(DATA)).isZero();
    }

    @Test
    void commandByteIsReadWith0x20AndWrittenWith0x60() {
        // Commands 0x20 "Read Keyboard Controller's Command Byte" and 0x60 "Write ..."
        kbc.writeByte(COMMAND, 0x20);
        assertThat(kbc.readByte(DATA)).isEqualTo(0x45);
        kbc.writeByte(COMMAND, 0x60);
        kbc.writeByte(DATA, 0x61);
        kbc.writeByte(COMMAND, 0x20);
        assertThat(kbc.readByte(DATA)).isEqualTo(0x61);
        assertThat(status() & 0x04).isZero(); // system flag follows command byte bit 2
    }

    @Test
    void statusBit3TellsWhetherTheLastWriteWasACommand() {
        // Status register bit 3 "Command/Data"
        kbc.writeByte(COMMAND, 0x60);
        assertThat(status() & 0x08).isEqualTo(0x08);
        kbc.writeByte(DATA, 0x45);
        assertThat(status() & 0x08).isZero();
    }

    @Test
    void outputPortBit1GatesA20() {
        // Command 0xD1 "Write Output Port": bit 1 = gate A20; 0xD0 reads it back
        assertThat(kbc.a20Enabled()).isTrue();
        kbc.writeByte(COMMAND, 0xD1);
        kbc.writeByte(DATA, 0xDD);
        assertThat(a20Changes).containsExactly(false);
        assertThat(kbc.a20Enabled()).isFalse();
        kbc.writeByte(COMMAND, 0xD0);
        assertThat(kbc.readByte(DATA) & 0x03).isEqualTo(0x01);
        kbc.writeByte(COMMAND, 0xD1);
        kbc.writeByte(DATA, 0xDF);
        assertThat(a20Changes).containsExactly(false, true);
        assertThat(resets).isZero();
    }

    @Test
    void commands0xDdAnd0xDfSwitchA20OffAndOn() {
        // The HP Vectra-style A20 commands that PC firmware also uses
        kbc.writeByte(COMMAND, 0xDD);
        kbc.writeByte(COMMAND, 0xDD);
        kbc.writeByte(COMMAND, 0xDF);
        assertThat(a20Changes).containsExactly(false, true);
    }

    @Test
    void pulsingOutputPortBit0With0xFeResetsTheSystem() {
        // Commands 0xF0-0xFF "Pulse Output Port": bit 0 low pulses the CPU reset line
        kbc.writeByte(COMMAND, 0xFE);
        assertThat(resets).isEqualTo(1);
        kbc.writeByte(COMMAND, 0xFF);
        assertThat(resets).isEqualTo(1);
    }

    @Test
    void writingOutputPortBit0LowResetsTheSystem() {
        // Output port bit 0 = system reset, active low
        kbc.writeByte(COMMAND, 0xD1);
        kbc.writeByte(DATA, 0xCE);
        assertThat(resets).isEqualTo(1);
    }

    @Test
    void keyboardResetAnswersAckThenSelfTestPassedEachWithAnIrq1Edge() {
        // Keyboard command 0xFF "Reset": ACK (0xFA), then BAT completion code 0xAA
        kbc.writeByte(DATA, 0xFF);
        assertThat(irq1.level()).isTrue();
        assertThat(kbc.readByte(DATA)).isEqualTo(0xFA);
        assertThat(irq1.level()).isTrue();
        assertThat(kbc.readByte(DATA)).isEqualTo(0xAA);
        assertThat(irq1.level()).isFalse();
        assertThat(irq1.risingEdges()).isEqualTo(2);
    }

    @Test
    void keyboardIdentifyAnswersAckAnd0xAb0x83() {
        // Keyboard command 0xF2 "Read ID": ACK, then 0xAB 0x83 for an MF2 keyboard
        kbc.writeByte(DATA, 0xF2);
        assertThat(kbc.readByte(DATA)).isEqualTo(0xFA);
        assertThat(kbc.readByte(DATA)).isEqualTo(0xAB);
        assertThat(kbc.readByte(DATA)).isEqualTo(0x83);
        assertThat(status() & 0x01).isZero();
    }

    @Test
    void disableAndEnableScanningDropOrPassScanCodes() {
        // Keyboard commands 0xF5 "Default Disable" and 0xF4 "Enable"
        kbc.writeByte(DATA, 0xF5);
        assertThat(kbc.readByte(DATA)).isEqualTo(0xFA);
        kbc.keyboardInput(0x1E);
        assertThat(status() & 0x01).isZero();
        kbc.writeByte(DATA, 0xF4);
        assertThat(kbc.readByte(DATA)).isEqualTo(0xFA);
        kbc.keyboardInput(0x1E);
        assertThat(kbc.readByte(DATA)).isEqualTo(0x1E);
    }

    @Test
    void otherKeyboardCommandsAndTheirArgumentsAreAcknowledged() {
        // Keyboard command 0xED "Set/Reset Mode Indicators" takes an argument byte; each is acknowledged
        kbc.writeByte(DATA, 0xED);
        kbc.writeByte(DATA, 0x07);
        assertThat(kbc.readByte(DATA)).isEqualTo(0xFA);
        assertThat(kbc.readByte(DATA)).isEqualTo(0xFA);
        kbc.writeByte(DATA, 0xF0);
        kbc.writeByte(DATA, 0x00);
        assertThat(kbc.readByte(DATA)).isEqualTo(0xFA);
        assertThat(kbc.readByte(DATA)).isEqualTo(0xFA);
        assertThat(kbc.readByte(DATA)).isEqualTo(0x02);
    }

    @Test
    void irq1FollowsOutputBufferFullOnlyWhenTheCommandByteEnablesIt() {
        // Command byte bit 0 "Enable Output-Buffer-Full Interrupt"
        kbc.writeByte(COMMAND, 0x60);
        kbc.writeByte(DATA, 0x44);
        kbc.keyboardInput(0x1C);
        assertThat(status() & 0x01).isEqualTo(0x01);
        assertThat(irq1.level()).isFalse();
        kbc.writeByte(COMMAND, 0x60);
        kbc.writeByte(DATA, 0x45);
        assertThat(irq1.level()).isTrue();
    }

    @Test
    void disabledKeyboardInterfaceHoldsKeysButControllerRepliesStillPass() {
        // Command 0xAD "Disable Keyboard Feature" sets command byte bit 4; 0xAE clears it
        kbc.writeByte(COMMAND, 0xAD);
        kbc.keyboardInput(0x2A);
        assertThat(status() & 0x01).isZero();
        kbc.writeByte(COMMAND, 0x20);
        assertThat(kbc.readByte(DATA)).isEqualTo(0x55);
        kbc.writeByte(COMMAND, 0xAE);
        assertThat(kbc.readByte(DATA)).isEqualTo(0x2A);
    }

    @Test
    void portViewsMapDataAndCommandAtOffsetZeroEach() {
        kbc.commandPort().write(0, 1, 0xAA);
        assertThat(kbc.commandPort().read(0, 1) & 0x01).isEqualTo(0x01);
        assertThat(kbc.dataPort().read(0, 1)).isEqualTo(0x55);
    }

    @Test
    void stateRoundTripKeepsQueuedBytes() {
        kbc.writeByte(DATA, 0xF2);
        kbc.readByte(DATA);
        I8042.State saved = kbc.state();
        RecordingLine otherIrq1 = new RecordingLine();
        I8042 copy = new I8042(otherIrq1, a20 -> { }, () -> { });
        copy.restore(saved);
        assertThat(otherIrq1.level()).isTrue();
        assertThat(copy.readByte(DATA)).isEqualTo(0xAB);
        assertThat(copy.readByte(DATA)).isEqualTo(0x83);
    }
}

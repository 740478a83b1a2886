package hvlab.hv.vtx.devices;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** MOV and MOVZX forms that reach a device page, decoded as SDM Vol. 2B "MOV" and "MOVZX" encode them. */
class DeviceMoveTest {
    private static DeviceMove decode(boolean code32, int... bytes) {
        byte[] code = new byte[15];
        for (int i = 0; i < bytes.length; i++) {
            code[i] = (byte) bytes[i];
        }
        return DeviceMove.decode(code, code32);
    }

    @Test
    void movMoffs32FromEaxIsAFourByteStoreOfEax() { // A3 /moffs32
        DeviceMove move = decode(true, 0xA3, 0x80, 0x00, 0xE0, 0xFE);
        assertThat(move).isEqualTo(new DeviceMove(5, true, 4, 0, 4, 0));
        assertThat(move.storedValue(new int[] {0x10, 0, 0, 0, 0, 0, 0, 0})).isEqualTo(0x10);
    }

    @Test
    void movImmediateToDisp32TakesTheLastFourBytesAsTheValue() { // C7 /0 id, ModRM 05 = disp32
        DeviceMove move = decode(true, 0xC7, 0x05, 0xF0, 0x00, 0xE0, 0xFE, 0xFF, 0x01, 0x00, 0x00);
        assertThat(move).isEqualTo(new DeviceMove(10, true, 4, -1, 4, 0x1FF));
    }

    @Test
    void movRegisterFromMemoryWithSibAndDisp8LoadsTheRegister() { // 8B /r: mov ecx, [eax+ebx*1+8]
        DeviceMove move = decode(true, 0x8B, 0x4C, 0x18, 0x08);
        assertThat(move).isEqualTo(new DeviceMove(4, false, 4, 1, 4, 0));
        int[] registers = {0, 0x11111111, 0, 0, 0, 0, 0, 0};
        move.load(registers, 0xCAFE);
        assertThat(registers[1]).isEqualTo(0xCAFE);
    }

    @Test
    void anEightBitLoadIntoAhReplacesBitsFifteenToEightOfEax() { // 8A /r, reg 4 = AH (Table 2-2)
        DeviceMove move = decode(true, 0x8A, 0x25, 0x20, 0x00, 0xE0, 0xFE);
        int[] registers = {0x12345678, 0, 0, 0, 0, 0, 0, 0};
        move.load(registers, 0xAB);
        assertThat(registers[0]).isEqualTo(0x1234AB78);
    }

    @Test
    void anOperandSizePrefixMakesItSixteenBitsAndMovzxZeroExtends() {
        assertThat(decode(true, 0x66, 0x89, 0x03)).isEqualTo(new DeviceMove(3, true, 2, 0, 2, 0));
        DeviceMove movzx = decode(true, 0x0F, 0xB7, 0x03); // movzx eax, word [ebx]
        int[] registers = {-1, 0, 0, 0, 0, 0, 0, 0};
        movzx.load(registers, 0x8001);
        assertThat(registers[0]).isEqualTo(0x8001);
    }

    @Test
    void registerFormsAndOtherInstructionsAreNotEmulated() {
        assertThat(decode(true, 0x89, 0xC3)).as("mov ebx, eax: no memory operand").isNull();
        assertThat(decode(true, 0x01, 0x03)).as("add [ebx], eax").isNull();
        assertThat(decode(true, 0xC7, 0x0D, 0, 0, 0, 0, 0, 0, 0, 0)).as("C7 /1 is undefined").isNull();
    }
}

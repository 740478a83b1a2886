package hvlab.hv.vtx.devices;

import hvlab.hw.cpu.InstructionLength;

/**
 * A MOV between a register (or an immediate) and a device register in memory, decoded from the bytes of the
 * instruction whose access exited (an EPT violation or a #PF on a device page, for which VMX reports neither the
 * instruction nor its length: SDM Vol. 3C 27.2.5). The forms are the ones kernels use on the APICs (SDM Vol. 2B
 * "MOV", "MOVZX"): 88/89/8A/8B with a memory ModRM, C6/C7 /0, A0-A3, 0F B6/B7. Its length comes from hw-core's
 * {@link InstructionLength}; anything else is not emulated ({@link #decode} returns null).
 *
 * @param length     bytes of the instruction, prefixes included
 * @param write      a store to the device (else a load)
 * @param size       bytes the device sees (1, 2 or 4)
 * @param register   the general register loaded or stored (0-7, by the SDM's encoding), or -1 for an immediate
 * @param registerSize bytes of that register (1 names AL..BH, 2 AX..DI, 4 EAX..EDI)
 * @param immediate  the immediate stored, when {@code register} is -1
 */
public record DeviceMove(int length, boolean write, int size, int register, int registerSize, int immediate) {
    private static final int MAX_LENGTH = 15;

    /** The MOV at {@code code[0]} in 16- or 32-bit code, or null when it is not one of the forms above. */
    public static DeviceMove decode(byte[] code, boolean code32) {
        int length = InstructionLength.length(code, 0, Math.min(code.length, MAX_LENGTH), code32);
        if (length < 0) {
            return null;
        }
        int at = 0;
        boolean operand32 = code32;
        int op;
        while (isPrefix(op = code[at++] & 0xFF)) {
            if (op == 0x66) {
                operand32 = !code32;
            }
        }
        int wide = operand32 ? 4 : 2;
        int modrm = at < length ? code[at] & 0xFF : 0;
        int reg = modrm >>> 3 & 7;
        boolean memory = modrm >>> 6 != 3;
        return switch (op) {
            case 0x88 -> memory ? new DeviceMove(length, true, 1, reg, 1, 0) : null;
            case 0x89 -> memory ? new DeviceMove(length, true, wide, reg, wide, 0) : null;
            case 0x8A -> memory ? new DeviceMove(length, false, 1, reg, 1, 0) : null;
            case 0x8B -> memory ? new DeviceMove(length, false, wide, reg, wide, 0) : null;
            case 0xC6 -> memory && reg == 0 ? new DeviceMove(length, true, 1, -1, 1, immediate(code, length, 1)) : null;
            case 0xC7 -> memory && reg == 0
                    ? new DeviceMove(length, true, wide, -1, wide, immediate(code, length, wide)) : null;
            case 0xA0 -> new DeviceMove(length, false, 1, 0, 1, 0);
            case 0xA1 -> new DeviceMove(length, false, wide, 0, wide, 0);
            case 0xA2 -> new DeviceMove(length, true, 1, 0, 1, 0);
            case 0xA3 -> new DeviceMove(length, true, wide, 0, wide, 0);
            case 0x0F -> movzx(code, at, length, wide);
            default -> null;
        };
    }

    /** MOVZX r, r/m8 (0F B6) and r, r/m16 (0F B7): a load, zero-extended into the register. */
    private static DeviceMove movzx(byte[] code, int at, int length, int wide) {
        int op = code[at] & 0xFF, modrm = code[at + 1] & 0xFF;
        if (modrm >>> 6 == 3 || op != 0xB6 && op != 0xB7) {
            return null;
        }
        return new DeviceMove(length, false, op == 0xB6 ? 1 : 2, modrm >>> 3 & 7, wide, 0);
    }

    private static int immediate(byte[] code, int length, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            value |= (code[length - size + i] & 0xFF) << 8 * i;
        }
        return value;
    }

    private static boolean isPrefix(int op) {
        return switch (op) {
            case 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3 -> true;
            default -> false;
        };
    }

    /** The value a store sends the device, from the register file ({@code registers[0..7]} = EAX..EDI). */
    public int storedValue(int[] registers) {
        if (register < 0) {
            return immediate;
        }
        return registerSize == 1 && register >= 4 ? registers[register - 4] >>> 8 & 0xFF
                : registers[register] & mask(size);
    }

    /** Writes what a load read from the device into the register file, merging the bytes it does not replace. */
    public void load(int[] registers, int value) {
        value &= mask(size);
        if (registerSize == 1) {
            int r = register & 3, shift = register >= 4 ? 8 : 0;
            registers[r] = registers[r] & ~(0xFF << shift) | value << shift;
        } else if (registerSize == 2) {
            registers[register] = registers[register] & 0xFFFF0000 | value & 0xFFFF;
        } else {
            registers[register] = value; // zero-extended (MOVZX) or the whole register
        }
    }

    private static int mask(int bytes) {
        return bytes == 4 ? -1 : (1 << 8 * bytes) - 1;
    }
}

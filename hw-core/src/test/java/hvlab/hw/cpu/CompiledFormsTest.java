package hvlab.hw.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forms {@link BlockCompiler} writes as bytecode of their own ({@link InlineForms}), in loops that run long enough
 * to be compiled, so the first passes run interpreted and the later ones compiled: Jcc right after CMP or TEST (which
 * tests the compare's operands directly) on every condition code and edge operands must branch as SDM Vol. 1,
 * Appendix B ("EFLAGS Condition Codes") and Vol. 2 "Jcc" define, and the memory forms must compute what they define.
 */
class CompiledFormsTest {
    private static final int PASSES = 4 * BlockCache.COMPILE_THRESHOLD;
    private static final int[] EDGES = {0, 1, -1, 2, 0x7FFFFFFF, 0x80000000, 0x80000001, 0x12345678};

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (int cc = 0; cc < 16; cc++) {
            for (int a : EDGES) {
                for (int b : new int[] {0, 1, -1, 0x7FFFFFFF, 0x80000000}) {
                    all.add(Arguments.of(cc, a, b));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "cmp 0x{1}, 0x{2}; j{0}")
    @MethodSource("cases")
    void jccAfterCmpBranchesAsTheSdmSays(int cc, int a, int b) {
        assertThat(notTakenPasses(cc, a, 0x3D, b)).as("passes where j%d fell through", cc)
                .isEqualTo(afterSubtract(cc, a, b) ? 0 : PASSES);
    }

    @ParameterizedTest(name = "test 0x{1}, 0x{2}; j{0}")
    @MethodSource("cases")
    void jccAfterTestBranchesAsTheSdmSays(int cc, int a, int b) {
        assertThat(notTakenPasses(cc, a, 0xA9, b)).as("passes where j%d fell through", cc)
                .isEqualTo(afterLogic(cc, a & b) ? 0 : PASSES);
    }

    /**
     * Memory forms in a loop that gets compiled: a byte store from AH, MOVSX from memory, ADD to memory, a load, SUB
     * of an immediate from memory and CMP with memory, then JL (SDM Vol. 2: "MOV", "MOVSX", "ADD", "SUB", "CMP",
     * "Jcc"). The branch changes direction at pass 23, after compilation, and every result must be the same as a
     * plain evaluation of the same steps.
     */
    @org.junit.jupiter.api.Test
    void memoryFormsInACompiledLoopComputeWhatTheInstructionsDefine() {
        String code = "bb 00 00 02 00  b9 " + imm32(PASSES) + " c7 43 08 " + imm32(-2000) // mov [ebx+8],-2000
                + " b8 c3 a5 34 12  88 23  0f be 13  01 53 04  8b 73 04  83 6b 08 03  3b 73 08  7c 01  47  49  75 e3"
                + " f4";
        CpuBench bench = new CpuBench().flatProtectedMode().code(code);
        Cpu cpu = bench.run();

        int sum = 0, limit = -2000, notTaken = 0;
        for (int pass = 0; pass < PASSES; pass++) {
            sum += (byte) 0xA5; // movsx edx, byte [ebx] after mov [ebx], ah (AH = 0xA5)
            limit -= 3;
            if (!(sum < limit)) {
                notTaken++;
            }
        }
        assertThat(cpu.isHalted()).as("reached HLT").isTrue();
        assertThat(bench.memory.readU8(0x20000)).isEqualTo(0xA5);
        assertThat(cpu.register(Cpu.EDX)).isEqualTo(-91);
        assertThat(bench.memory.readU32(0x20004)).isEqualTo(sum);
        assertThat(cpu.register(Cpu.ESI)).isEqualTo(sum);
        assertThat(bench.memory.readU32(0x20008)).isEqualTo(limit);
        assertThat(cpu.register(Cpu.EDI)).as("passes where JL fell through").isEqualTo(notTaken).isEqualTo(22);
    }

    /**
     * {@code xor esi,esi; mov ecx,PASSES; L: mov eax,a; <op> eax,b; jcc S; inc esi; S: dec ecx; jnz L; hlt}: the
     * number of passes in which the branch was not taken.
     */
    private static int notTakenPasses(int cc, int a, int opcode, int b) {
        String code = "31 f6  b9 " + imm32(PASSES) + " b8 " + imm32(a) + String.format(" %02x ", opcode) + imm32(b)
                + String.format(" %02x 01", 0x70 | cc) + " 46  49  75 " + String.format("%02x", -16 & 0xFF) + " f4";
        Cpu cpu = new CpuBench().flatProtectedMode().code(code).run();
        assertThat(cpu.isHalted()).as("reached HLT").isTrue();
        return cpu.register(Cpu.ESI);
    }

    private static String imm32(int value) {
        return String.format("%02x %02x %02x %02x", value & 0xFF, value >>> 8 & 0xFF, value >>> 16 & 0xFF,
                value >>> 24);
    }

    /** The condition after a - b, from the flags as the SDM defines them. */
    private static boolean afterSubtract(int cc, int a, int b) {
        int res = a - b;
        boolean cf = Integer.compareUnsigned(a, b) < 0;
        boolean of = ((a ^ b) & (a ^ res)) < 0;
        return condition(cc, cf, res == 0, res < 0, of, Integer.bitCount(res & 0xFF) % 2 == 0);
    }

    /** The condition after a logical operation: CF = OF = 0. */
    private static boolean afterLogic(int cc, int res) {
        return condition(cc, false, res == 0, res < 0, false, Integer.bitCount(res & 0xFF) % 2 == 0);
    }

    private static boolean condition(int cc, boolean cf, boolean zf, boolean sf, boolean of, boolean pf) {
        boolean holds = switch (cc >>> 1) {
            case 0 -> of;
            case 1 -> cf;
            case 2 -> zf;
            case 3 -> cf || zf;
            case 4 -> sf;
            case 5 -> pf;
            case 6 -> sf != of;
            default -> zf || sf != of;
        };
        return holds ^ (cc & 1) != 0;
    }
}

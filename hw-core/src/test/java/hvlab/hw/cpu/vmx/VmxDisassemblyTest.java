package hvlab.hw.cpu.vmx;

import hvlab.hw.cpu.Disassembler;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The VMX instructions in the opcode table (SDM Vol. 3C ch. 30 encodings; Vol. 2D Tables ): lengths and
 * the text ndisasm prints for the same bytes.
 */
class VmxDisassemblyTest {
    private static Disassembler.Instruction disassemble(String hex) {
        byte[] bytes = HexFormat.of().parseHex(hex.replace(" ", ""));
        return Disassembler.disassemble(bytes, 0, 0, true);
    }

    @Test
    void eachVmxInstructionHasItsLengthAndNasmText_30_3() {
        String[][] cases = {
            {"0f 01 c1", "vmcall"}, {"0f 01 c2", "vmlaunch"}, {"0f 01 c3", "vmresume"}, {"0f 01 c4", "vmxoff"},
            {"0f 01 d4", "vmfunc"}, {"f3 0f c7 30", "vmxon [eax]"}, {"66 0f c7 30", "vmclear [eax]"},
            {"0f c7 30", "vmptrld [eax]"}, {"0f c7 38", "vmptrst [eax]"}, {"0f 78 c3", "vmread ebx,eax"},
            {"0f 79 c3", "vmwrite eax,ebx"}, {"66 0f 38 80 0b", "invept ecx,[ebx]"},
            {"66 0f 38 81 4b 08", "invvpid ecx,[ebx+8]"},
        };
        for (String[] c : cases) {
            Disassembler.Instruction insn = disassemble(c[0] + " 90");
            assertThat(insn.text()).as(c[0]).isEqualTo(c[1]);
            assertThat(insn.length()).as(c[0]).isEqualTo(c[0].split(" ").length);
        }
    }

    @Test
    void theRegisterFormsOfGroup9AreNotVmxInstructions_30_3() {
        assertThat(disassemble("0f c7 f0").text()).isEqualTo("(bad)"); // RDRAND: not on this processor
    }
}

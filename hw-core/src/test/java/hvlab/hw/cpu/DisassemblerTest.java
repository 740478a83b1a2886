package hvlab.hw.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** Known encodings (SDM Vol. 2D, Appendix A opcode maps; Vol. 2A, Tables 2-1 to 2-3 for ModRM and SIB). */
class DisassemblerTest {
    @ParameterizedTest(name = "{0} in 32-bit code: {1}")
    @CsvSource(delimiter = '|', value = {
        "01d8             | add eax,ebx",                       // Table A-2 row 0: ADD Ev,Gv
        "005f0e           | add [edi+0Eh],bl",
        "8b4c2404         | mov ecx,[esp+4]",                    // SIB base ESP, default SS shown only if overridden
        "8b048d00100000   | mov eax,[ecx*4+1000h]",              // SIB with no base: disp32
        "8d443a10         | lea eax,[edx+edi+10h]",
        "c7050010000001000000 | mov dword [1000h],1",            // group 11, Ev,Iz with no register: size shown
        "66c7001000       | mov word [eax],10h",
        "83c0ff           | add eax,0FFFFFFFFh",                  // group 1, Ibs sign-extended
        "f30fb8c0         | (bad)",                               // POPCNT: not in the P6 map
        "0f22d8           | mov cr3,eax",                         // Table A-3: MOV Cd,Rd
        "0f20c0           | mov eax,cr0",
        "0fb6c1           | movzx eax,cl",
        "0fb601           | movzx eax,byte [ecx]",
        "0f011d00200000   | lidt [2000h]",                        // group 7
        "f00fc10e         | lock xadd [esi],ecx",
        "f3a5             | rep movsd",
        "66a5             | movsw",
        "2ea4             | cs movsb",
        "e6e9             | out 0E9h,al",
        "ec               | in al,dx",
        "ea001000000800   | jmp 8:1000h",                         // far pointer: selector:offset
        "ff1500300000     | call dword [3000h]",
        "ff2d00300000     | jmp far [3000h]",
        "0fc8             | bswap eax",
        "0fc70e           | cmpxchg8b [esi]",
        "648b0d00000000   | mov ecx,[fs:0]",
        "678b07           | mov eax,[bx]",                         // 67: 16-bit addressing in 32-bit code
        "d9c9             | fxch st1",                            // Table A-10: D9 with ModRM C0-FF
        "d8c3             | fadd st3",                            // Table A-8: D8, ST(0) implied
        "d8d1             | fcom",                                // FCOM ST(1), written bare
        "dce9             | fsub to st1",                         // Table A-16: DC E8+i is FSUB ST(i),ST(0)
        "dee9             | fsubp st1",
        "ded9             | fcompp",
        "dd1e             | fstp qword [esi]",                    // Table A-15: DD /3 m64fp
        "db2e             | fld tword [esi]",                     // Table A-11: DB /5 m80fp
        "df6e04           | fild qword [esi+4]",
        "d93e             | fnstcw word [esi]",
        "dd36             | fnsave [esi]",
        "dfe0             | fnstsw ax",
        "dbe3             | fninit",
        "dbf1             | fcomi st0,st1",
        "d9d1             | (bad)",                               // reserved: #UD
        "0fae06           | fxsave [esi]",
        "9b               | wait",
        "f4               | hlt",
    })
    void decodes32BitCode(String hex, String text) {
        assertThat(disassemble(hex.replace(" ", ""), 0x1000, true)).isEqualTo(text);
    }

    @ParameterizedTest(name = "{0} in 32-bit code at 1000h: {1}")
    @CsvSource(delimiter = '|', value = {
        "ebfe             | jmp short 00001000h",                 // relative targets are absolute
        "e8fbffffff       | call 00001000h",
        "0f84fa0f0000     | je 00002000h",
        "e2fe             | loop 00001000h",
    })
    void resolvesRelativeTargets(String hex, String text) {
        assertThat(disassemble(hex.replace(" ", ""), 0x1000, true)).isEqualTo(text);
    }

    @ParameterizedTest(name = "{0} in 16-bit code: {1}")
    @CsvSource(delimiter = '|', value = {
        "005f0e           | add [bx+0Eh],bl",                     // the SingleStepTests' own example
        "83412dd3         | add word [bx+di+2Dh],0FFD3h",
        "8c97fe75         | mov [bx+75FEh],ss",
        "26c4b706f8       | les si,[es:bx-7FAh]",
        "9a0cdcf2fd       | call 0FDF2h:0DC0Ch",
        "6689d8           | mov eax,ebx",                           // 66: 32-bit operands in 16-bit code
        "eb02             | jmp short 4",                         // NASM: below ten, a plain digit
        "eb10             | jmp short 0012h",
        "e30b             | jcxz 000Dh",
        "cd21             | int 21h",
        "8fc2             | pop dx",
        "8f08             | (bad)",                                  // group 1A: /1 is undefined
    })
    void decodes16BitCode(String hex, String text) {
        assertThat(disassemble(hex.replace(" ", ""), 0, false)).isEqualTo(text);
    }

    private static String disassemble(String hex, int eip, boolean code32) {
        byte[] bytes = HexFormat.of().parseHex(hex);
        Disassembler.Instruction insn = Disassembler.disassemble(bytes, 0, eip, code32);
        if (!insn.text().equals("(bad)")) {
            assertThat(insn.length()).as("length").isEqualTo(bytes.length)
                    .isEqualTo(InstructionLength.length(bytes, 0, bytes.length, code32));
        }
        return insn.text();
    }
}

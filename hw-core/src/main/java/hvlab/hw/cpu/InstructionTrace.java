package hvlab.hw.cpu;

import java.io.PrintStream;

/**
 * Prints each instruction before it runs as {@code cs:eip  bytes  disassembly}, up to a number of lines, reading the
 * code without side effects: no fault, no accessed bit, no TLB fill. Code it cannot read shows as "??".
 */
public final class InstructionTrace implements Cpu.InstructionTracer {
    private static final int MAX_LENGTH = 15;

    private final PrintStream out;
    private final long limit;
    private final boolean registers;
    private final byte[] code = new byte[MAX_LENGTH];
    private long lines;

    public InstructionTrace(PrintStream out, long limit, boolean registers) {
        this.out = out;
        this.limit = limit;
        this.registers = registers;
    }

    @Override
    public void beforeInstruction(Cpu cpu) {
        if (lines >= limit) {
            return;
        }
        lines++;
        int readable = readCode(cpu);
        String line;
        if (readable == 0) {
            line = String.format("%04x:%08x  ??", cpu.segSel[Cpu.CS], cpu.eip);
        } else {
            Disassembler.Instruction insn = Disassembler.disassemble(java.util.Arrays.copyOf(code, readable), 0,
                    cpu.eip, cpu.code32);
            StringBuilder hex = new StringBuilder();
            for (int i = 0; i < insn.length(); i++) {
                hex.append(String.format("%02x", code[i]));
            }
            line = String.format("%04x:%08x  %-20s  %s", cpu.segSel[Cpu.CS], cpu.eip, hex, insn.text());
        }
        out.println(registers ? line + "  " + registers(cpu) : line);
        if (lines == limit) {
            out.println("(trace limit of " + limit + " lines reached; the run goes on)");
        }
    }

    /** Lines printed so far. */
    public long lines() {
        return lines;
    }

    private static String registers(Cpu cpu) {
        return String.format("eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x ebp=%08x esp=%08x efl=%08x",
                cpu.reg[Cpu.EAX], cpu.reg[Cpu.EBX], cpu.reg[Cpu.ECX], cpu.reg[Cpu.EDX], cpu.reg[Cpu.ESI],
                cpu.reg[Cpu.EDI], cpu.reg[Cpu.EBP], cpu.reg[Cpu.ESP], cpu.eflags());
    }

    /** Copies up to 15 code bytes at CS:EIP into {@link #code}; returns how many could be read. */
    private int readCode(Cpu cpu) {
        int count = 0;
        while (count < MAX_LENGTH) {
            int offset = cpu.eip + count;
            if (!cpu.code32) {
                offset &= 0xFFFF;
            }
            int physical = physical(cpu, cpu.segBase[Cpu.CS] + offset);
            if (physical == -1 || !plainMemory(cpu, physical)) {
                break;
            }
            code[count++] = (byte) cpu.memory.readU8(physical);
        }
        return count;
    }

    /** RAM, or the firmware ROM at the top of the address space: never a device, whose reads may have effects. */
    private static boolean plainMemory(Cpu cpu, int physical) {
        return Integer.toUnsignedLong(physical) < cpu.memory.ramSize()
                || Integer.compareUnsigned(physical, 0xFFF00000) >= 0;
    }

    /** The page walk of SDM 4.3 read-only, or -1 when the page is not present. */
    private static int physical(Cpu cpu, int linear) {
        int a20 = cpu.memory.a20Mask();
        if ((cpu.cr0 & Cpu.CR0_PG) == 0) {
            return linear & a20;
        }
        int pde = cpu.memory.readU32(((cpu.cr3 & 0xFFFFF000) | (linear >>> 22) << 2) & a20);
        if ((pde & 1) == 0) {
            return -1;
        }
        if ((pde & 0x80) != 0 && (cpu.cr4 & Cpu.CR4_PSE) != 0) {
            return ((pde & 0xFFC00000) | (linear & 0x003FFFFF)) & a20;
        }
        int pte = cpu.memory.readU32(((pde & 0xFFFFF000) | ((linear >>> 12) & 0x3FF) << 2) & a20);
        return (pte & 1) == 0 ? -1 : ((pte & 0xFFFFF000) | (linear & 0xFFF)) & a20;
    }
}

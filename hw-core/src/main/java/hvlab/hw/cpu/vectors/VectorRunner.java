package hvlab.hw.cpu.vectors;

import hvlab.hw.bus.MmioBus;
import hvlab.hw.bus.PortBus;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.CpuHost;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.cpu.Exceptions;
import hvlab.hw.irq.InterruptController;
import hvlab.hw.memory.PhysicalMemory;

import java.util.Arrays;
import java.util.List;

import static hvlab.hw.cpu.vectors.VectorTest.AX;
import static hvlab.hw.cpu.vectors.VectorTest.BP;
import static hvlab.hw.cpu.vectors.VectorTest.BX;
import static hvlab.hw.cpu.vectors.VectorTest.CX;
import static hvlab.hw.cpu.vectors.VectorTest.DI;
import static hvlab.hw.cpu.vectors.VectorTest.DS;
import static hvlab.hw.cpu.vectors.VectorTest.DX;
import static hvlab.hw.cpu.vectors.VectorTest.ES;
import static hvlab.hw.cpu.vectors.VectorTest.FLAGS;
import static hvlab.hw.cpu.vectors.VectorTest.IP;
import static hvlab.hw.cpu.vectors.VectorTest.SI;
import static hvlab.hw.cpu.vectors.VectorTest.SP;
import static hvlab.hw.cpu.vectors.VectorTest.SS;

/**
 * Runs single-instruction tests on one real-mode CPU with 16 MiB + 64 KiB of RAM (the 80286 reaches 0x10FFEF, and
 * nothing wraps). Each test resets the CPU, loads the initial registers through {@link Cpu#restoreState}, writes
 * the initial RAM, runs until the HLT that ends the test, compares, and clears the bytes it touched.
 */
final class VectorRunner {
    static final int MEMORY_BYTES = (16 << 20) + (64 << 10);
    /** Enough for a REP string instruction (CX is at most 127 in this set, one count per iteration) and a HLT. */
    static final int INSTRUCTION_BUDGET = 256;
    private static final int IVT_SS = Exceptions.SS * 4, IVT_GP = Exceptions.GP * 4;

    enum Outcome { PASSED, FAILED, EXCLUDED }

    private final PhysicalMemory memory = new PhysicalMemory(MEMORY_BYTES, new MmioBus());
    private final byte[] ram = memory.ram();
    private final Cpu cpu = new Cpu(memory, new PortBus(), new VirtualClock());
    private String shutdownReason;
    private final long[] exceptionsBefore = new long[32];

    /** The rules the last test needed, one bit per {@link Exclusions.Rule} ordinal. */
    int applied;
    /** What differed in the last failed test. */
    final StringBuilder difference = new StringBuilder();

    VectorRunner() {
        cpu.connect(InterruptController.NONE, new CpuHost() {
            @Override
            public void shutdown(String reason) {
                shutdownReason = reason;
                cpu.requestStop();
            }
        });
    }

    Outcome run(VectorTest t, int undefinedFlagsMask) {
        applied = 0;
        difference.setLength(0);
        Exclusions.Rule excluded = Exclusions.exclusion(t);
        if (excluded != null) {
            apply(excluded);
            return Outcome.EXCLUDED;
        }
        int flagsMask = undefinedFlagsMask & Exclusions.sdmFlagsMask(t) & Exclusions.FLAGS_286;
        int skippedRegisters = 0;
        if (Exclusions.masksStringRegisters(t)) {
            skippedRegisters = 1 << CX | 1 << SI | 1 << DI;
            apply(Exclusions.Rule.STRING_FAULT_REGISTERS);
        }
        load(t);
        int codeBase = t.initialRegs[VectorTest.CS] << 4;
        int ip = t.initialRegs[IP];
        int lockSubstitute = -1;
        if (Exclusions.lockRaisesUndefinedOpcode(t)) {
            lockSubstitute = Exclusions.neutralPrefixFor(t);
            for (int i = 0; Exclusions.isPrefix(t.bytes[i]); i++) {
                if (t.bytes[i] == 0xF0) {
                    ram[codeBase + ((ip + i) & 0xFFFF)] = (byte) lockSubstitute;
                }
            }
            apply(Exclusions.Rule.LOCK_PREFIX);
        }
        boolean aliasedSsVector = false;
        if (t.exception == Exceptions.GP && !touches(t.initialRam, IVT_SS, 4)) {
            System.arraycopy(ram, IVT_GP, ram, IVT_SS, 4);
            aliasedSsVector = true;
        }

        shutdownReason = null;
        for (int v = 0; v < 32; v++) {
            exceptionsBefore[v] = cpu.counters().exceptions(v);
        }
        cpu.run(INSTRUCTION_BUDGET);

        if (lockSubstitute >= 0) {
            for (int i = 0; Exclusions.isPrefix(t.bytes[i]); i++) {
                int a = codeBase + ((ip + i) & 0xFFFF);
                if (t.bytes[i] == 0xF0 && (ram[a] & 0xFF) == lockSubstitute) {
                    ram[a] = (byte) 0xF0;
                }
            }
        }
        if (aliasedSsVector && raised(Exceptions.SS)) {
            apply(Exclusions.Rule.STACK_LIMIT_INT13);
        }
        boolean passed = compare(t, flagsMask, skippedRegisters);
        clear(t, aliasedSsVector, passed);
        return passed ? Outcome.PASSED : Outcome.FAILED;
    }

    private void apply(Exclusions.Rule rule) {
        applied |= 1 << rule.ordinal();
    }

    private void load(VectorTest t) {
        int[] r = t.initialRegs;
        cpu.reset();
        cpu.restoreState(realModeState(r));
        VectorTest.Ram init = t.initialRam;
        for (int i = 0; i < init.count; i++) {
            ram[init.address[i]] = (byte) init.value[i];
        }
    }

    /** The real-mode state of the format's registers: base = selector * 16, limit 0xFFFF, data 0x93, code 0x9B. */
    static CpuState realModeState(int[] r) {
        CpuState.GeneralRegisters general = new CpuState.GeneralRegisters(r[AX], r[CX], r[DX], r[BX], r[SP], r[BP],
                r[SI], r[DI], r[IP], r[FLAGS] & Exclusions.FLAGS_286);
        List<CpuState.SegmentRegister> segments = List.of(realModeSegment(r[ES], 0x93),
                realModeSegment(r[VectorTest.CS], 0x9B), realModeSegment(r[SS], 0x93), realModeSegment(r[DS], 0x93),
                realModeSegment(0, 0x93), realModeSegment(0, 0x93));
        // GDT, LDT and TR as after RESET; the real-mode IVT at 0 with 256 entries.
        CpuState.SystemRegisters system = new CpuState.SystemRegisters(0, 0, 0, 0,
                new CpuState.TableRegister(0, 0xFFFF), new CpuState.TableRegister(0, 0x3FF),
                new CpuState.SegmentRegister(0, 0, 0xFFFF, 0x82), new CpuState.SegmentRegister(0, 0, 0xFFFF, 0x8B),
                0, false);
        return new CpuState(general, segments, system, CpuState.FpuState.RESET, 0);
    }

    private static CpuState.SegmentRegister realModeSegment(int selector, int attributes) {
        return new CpuState.SegmentRegister(selector, selector << 4, 0xFFFF, attributes);
    }

    private boolean raised(int vector) {
        return cpu.counters().exceptions(vector) != exceptionsBefore[vector];
    }

    private static boolean touches(VectorTest.Ram ram, int address, int length) {
        for (int i = 0; i < ram.count; i++) {
            if (ram.address[i] >= address && ram.address[i] < address + length) {
                return true;
            }
        }
        return false;
    }

    // ---- comparison ----

    private boolean compare(VectorTest t, int flagsMask, int skippedRegisters) {
        boolean ok = true;
        if (shutdownReason != null) {
            difference.append("shutdown (").append(shutdownReason).append("); ");
            ok = false;
        } else if (!cpu.isHalted()) {
            difference.append("no HLT within ").append(INSTRUCTION_BUDGET).append(" instructions; ");
            ok = false;
        }
        ok &= compareRegister(t, AX, cpu.register(Cpu.EAX), -1);
        ok &= compareRegister(t, BX, cpu.register(Cpu.EBX), -1);
        ok &= (skippedRegisters & 1 << CX) != 0 || compareRegister(t, CX, cpu.register(Cpu.ECX), -1);
        ok &= compareRegister(t, DX, cpu.register(Cpu.EDX), -1);
        ok &= compareSegment(t, VectorTest.CS, Cpu.CS);
        ok &= compareSegment(t, SS, Cpu.SS);
        ok &= compareSegment(t, DS, Cpu.DS);
        ok &= compareSegment(t, ES, Cpu.ES);
        ok &= compareRegister(t, SP, cpu.register(Cpu.ESP), -1);
        ok &= compareRegister(t, BP, cpu.register(Cpu.EBP), -1);
        ok &= (skippedRegisters & 1 << SI) != 0 || compareRegister(t, SI, cpu.register(Cpu.ESI), -1);
        ok &= (skippedRegisters & 1 << DI) != 0 || compareRegister(t, DI, cpu.register(Cpu.EDI), -1);
        ok &= compareRegister(t, IP, cpu.eip(), -1);
        ok &= compareRegister(t, FLAGS, cpu.eflags(), 0xFFFF0000 | flagsMask);
        ok &= compareRam(t, flagsMask);
        if (!ok && raisedAny()) {
            difference.append("cpu raised");
            for (int v = 0; v < 32; v++) {
                if (raised(v)) {
                    difference.append(' ').append(Exceptions.name(v));
                }
            }
            if (t.exception >= 0) {
                difference.append(", expected int ").append(t.exception);
            }
            difference.append("; ");
        } else if (!ok && t.exception >= 0) {
            difference.append("expected int ").append(t.exception).append("; ");
        }
        if (!ok && difference.length() >= 2) {
            difference.setLength(difference.length() - 2);
        }
        return ok;
    }

    private boolean raisedAny() {
        for (int v = 0; v < 32; v++) {
            if (raised(v)) {
                return true;
            }
        }
        return false;
    }

    private boolean compareRegister(VectorTest t, int r, int actual, int mask) {
        int expected = t.expectedRegister(r);
        if ((actual & mask) == (expected & mask)) {
            return true;
        }
        difference.append(VectorTest.REGISTERS[r]).append(" expected ").append(hex(expected & mask, 4)).append(" got ")
                .append(hex(actual & mask, 4)).append("; ");
        return false;
    }

    private boolean compareSegment(VectorTest t, int r, int seg) {
        boolean ok = compareRegister(t, r, cpu.segmentSelector(seg), -1);
        int base = cpu.segmentBase(seg);
        if (ok && base != cpu.segmentSelector(seg) << 4) {
            difference.append(VectorTest.REGISTERS[r]).append(".base expected ")
                    .append(hex(cpu.segmentSelector(seg) << 4, 5)).append(" got ").append(hex(base, 5)).append("; ");
            return false;
        }
        return ok;
    }

    /** Every byte the test names, initial or final, must hold its expected value. */
    private boolean compareRam(VectorTest t, int flagsMask) {
        boolean ok = true;
        int reported = 0;
        VectorTest.Ram fin = t.finalRam, init = t.initialRam;
        for (int i = 0; i < fin.count; i++) {
            if (!compareByte(t, fin.address[i], fin.value[i], flagsMask)) {
                ok = false;
                if (reported++ < 4) {
                    reportByte(t, fin.address[i], fin.value[i], flagsMask);
                }
            }
        }
        for (int i = 0; i < init.count; i++) {
            int a = init.address[i];
            if (fin.indexOf(a) < 0 && !compareByte(t, a, init.value[i], flagsMask)) {
                ok = false;
                if (reported++ < 4) {
                    reportByte(t, a, init.value[i], flagsMask);
                }
            }
        }
        if (reported > 4) {
            difference.append("... ").append(reported - 4).append(" more bytes; ");
        }
        return ok;
    }

    private boolean compareByte(VectorTest t, int address, int expected, int flagsMask) {
        int mask = byteMask(t, address, flagsMask);
        return ((ram[address] ^ expected) & mask) == 0;
    }

    private void reportByte(VectorTest t, int address, int expected, int flagsMask) {
        int mask = byteMask(t, address, flagsMask);
        difference.append("ram[").append(hex(address, 6)).append("] expected ").append(hex(expected & mask, 2))
                .append(" got ").append(hex(ram[address] & mask, 2)).append("; ");
    }

    /** The FLAGS word an exception pushed is compared under the same mask as FLAGS. */
    private static int byteMask(VectorTest t, int address, int flagsMask) {
        if (t.exception >= 0) {
            int flagsWord = t.flagsWordAddress();
            if (address == flagsWord) {
                return flagsMask & 0xFF;
            }
            if (address == flagsWord + 1) {
                return flagsMask >>> 8 & 0xFF;
            }
        }
        return 0xFF;
    }

    private static String hex(int value, int digits) {
        String s = Integer.toHexString(value).toUpperCase(java.util.Locale.ROOT);
        return s.length() >= digits ? s : "0".repeat(digits - s.length()) + s;
    }

    // ---- clean-up ----

    /** Zeroes what the test wrote; after a failure the CPU may have written anywhere, so all of RAM. */
    private void clear(VectorTest t, boolean aliasedSsVector, boolean passed) {
        if (!passed) {
            Arrays.fill(ram, (byte) 0);
            return;
        }
        VectorTest.Ram init = t.initialRam, fin = t.finalRam;
        for (int i = 0; i < init.count; i++) {
            ram[init.address[i]] = 0;
        }
        for (int i = 0; i < fin.count; i++) {
            ram[fin.address[i]] = 0;
        }
        if (aliasedSsVector) {
            Arrays.fill(ram, IVT_SS, IVT_SS + 4, (byte) 0);
        }
    }
}

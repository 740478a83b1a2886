package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static hvlab.hw.cpu.X87Bench.A;
import static hvlab.hw.cpu.X87Bench.B;
import static hvlab.hw.cpu.X87Bench.SW;
import static hvlab.hw.cpu.X87Bench.mem;
import static org.assertj.core.api.Assertions.assertThat;

/** Compares and classification: SDM Vol. 2A "FCOM", "FUCOM", "FCOMI/FUCOMI", "FTST", "FXAM", "FCMOVcc". */
class X87CompareTest {
    private static final int IE = 1, DE = 2, SF = 64, C0 = 1 << 8, C1 = 1 << 9, C2 = 1 << 10, C3 = 1 << 14,
            CODES = C0 | C1 | C2 | C3;
    private static final long QNAN = 0xC000_0000_0000_0001L, SNAN = 0x8000_0000_0000_0001L;

    /** fld tword [B]; fld tword [A]; (op: ST(0) = A against ST(1) = B); fnstsw [SW]. */
    private static X87Bench compare(String op) {
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, B) + "db " + mem(5, A) + op + " dd "
                + mem(7, SW) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        return x;
    }

    @Test
    void fcomSetsC3C2C0ByOrder_sdmFcomTable() {
        X87Bench x = compare("d8 d1"); // fcom st1
        String[][] cases = {{"2", "1"}, {"1", "2"}, {"-0", "0"}, {"-3", "-2"}};
        int[] expected = {0, C0, C3, C0};
        for (int k = 0; k < cases.length; k++) {
            x.extended(A, new BigDecimal(cases[k][0]));
            x.extended(B, new BigDecimal(cases[k][1]));
            if (cases[k][0].equals("-0")) {
                x.extended(A, 0x8000, 0);
            }
            x.run();
            assertThat(x.status() & CODES).as(cases[k][0] + " vs " + cases[k][1]).isEqualTo(expected[k]);
        }
    }

    @Test
    void fcomWithAQnanIsInvalidButFucomIsNot_sdmFucom() {
        X87Bench x = compare("d8 d1");
        x.extended(A, 0x7FFF, QNAN);
        x.extended(B, new BigDecimal(1));
        x.run();
        assertThat(x.status() & (CODES | IE)).isEqualTo(C3 | C2 | C0 | IE);
        x = compare("dd e1"); // fucom st1
        x.extended(A, 0x7FFF, QNAN);
        x.extended(B, new BigDecimal(1));
        x.run();
        assertThat(x.status() & (CODES | IE)).isEqualTo(C3 | C2 | C0);
        x.extended(A, 0x7FFF, SNAN);
        x.run();
        assertThat(x.status() & IE).isEqualTo(IE);
    }

    @Test
    void fcomppComparesAndPopsTwice_sdmFcom() {
        X87Bench x = compare("de d9");
        x.extended(A, new BigDecimal(5));
        x.extended(B, new BigDecimal(7));
        x.run();
        assertThat(x.status() & CODES).isEqualTo(C0);
        assertThat(x.status() >>> 11 & 7).as("TOP back to 0").isZero();
        assertThat(x.cpu.x87.empty).isEqualTo(0xFF);
    }

    @Test
    void fcomiSetsZfPfCfAndClearsOfSfAf_sdmFcomi() {
        // fld tword [B]; fld tword [A]; fcomi st0,st1; pushfd-free check through EFLAGS
        X87Bench x = compare("db f1");
        int[][] values = {{3, 2}, {2, 3}, {4, 4}};
        int[] flags = {0, Cpu.CF, Cpu.ZF};
        for (int k = 0; k < values.length; k++) {
            x.extended(A, new BigDecimal(values[k][0]));
            x.extended(B, new BigDecimal(values[k][1]));
            x.cpu.setEflags(Cpu.OF | Cpu.SF | Cpu.AF | Cpu.PF, Cpu.OF | Cpu.SF | Cpu.AF | Cpu.PF);
            x.run();
            int eflags = x.cpu.eflags() & (Cpu.ZF | Cpu.PF | Cpu.CF | Cpu.OF | Cpu.SF | Cpu.AF);
            assertThat(eflags).as(values[k][0] + " vs " + values[k][1]).isEqualTo(flags[k]);
        }
        x.extended(A, 0x7FFF, QNAN);
        x.run();
        assertThat(x.cpu.eflags() & (Cpu.ZF | Cpu.PF | Cpu.CF)).isEqualTo(Cpu.ZF | Cpu.PF | Cpu.CF);
        assertThat(x.status() & IE).isEqualTo(IE);
        x = compare("db e9"); // fucomi: a QNaN is no invalid operation
        x.extended(A, 0x7FFF, QNAN);
        x.extended(B, new BigDecimal(1));
        x.run();
        assertThat(x.cpu.eflags() & (Cpu.ZF | Cpu.PF | Cpu.CF)).isEqualTo(Cpu.ZF | Cpu.PF | Cpu.CF);
        assertThat(x.status() & IE).isZero();
    }

    @Test
    void fcomipPops_sdmFcomi() {
        X87Bench x = compare("df f1");
        x.extended(A, new BigDecimal(1));
        x.extended(B, new BigDecimal(1));
        x.run();
        assertThat(x.cpu.eflags() & Cpu.ZF).isEqualTo(Cpu.ZF);
        assertThat(x.status() >>> 11 & 7).isEqualTo(7);
    }

    @Test
    void ftstComparesWithZero_sdmFtst() {
        X87Bench x = compare("d9 e4");
        x.extended(A, new BigDecimal("-0.5"));
        x.run();
        assertThat(x.status() & CODES).isEqualTo(C0);
        x.extended(A, 0x8000, 0);
        x.run();
        assertThat(x.status() & CODES).isEqualTo(C3);
    }

    @Test
    void fxamReportsEveryClassAndTheSign_sdmFxam() {
        X87Bench x = compare("d9 e5");
        Object[][] cases = { // sign/exponent, significand, C3 C2 C0
                {0x4000, 1L << 63, C2}, // normal
                {0x8000, 0L, C3 | C1}, // -0
                {0x0000, 1L << 40, C3 | C2}, // denormal
                {0xFFFF, 1L << 63, C2 | C0 | C1}, // -infinity
                {0x7FFF, QNAN, C0}, // NaN
                {0x4000, 1L << 62, 0}, // unnormal: unsupported
        };
        for (Object[] c : cases) {
            x.extended(A, (Integer) c[0], (Long) c[1]);
            x.run();
            assertThat(x.status() & CODES).as(Integer.toHexString((Integer) c[0])).isEqualTo((int) c[2]);
        }
        X87Bench empty = new X87Bench().code(X87Bench.init() + "d9 e5  dd " + mem(7, SW) + "f4");
        empty.control(X87Bench.RC_NEAREST, 3, 0x3F).run();
        assertThat(empty.status() & (C3 | C2 | C0)).isEqualTo(C3 | C0);
    }

    @Test
    void fcomOfADenormalRaisesDe_sdmFcom() {
        X87Bench x = compare("d8 d1");
        x.extended(A, 0, 1L << 40);
        x.extended(B, new BigDecimal(1));
        x.run();
        assertThat(x.status() & (DE | CODES)).isEqualTo(DE | C0);
    }

    @Test
    void fcomOfAnEmptyRegisterIsUnorderedWithAStackFault_sdmFcom() {
        X87Bench x = new X87Bench().code(X87Bench.init() + "d9 e8  d8 d1  dd " + mem(7, SW) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F).run();
        assertThat(x.status() & (CODES | IE | SF)).isEqualTo(C3 | C2 | C0 | IE | SF);
    }

    @Test
    void fcmovMovesOnlyWhenTheConditionHolds_sdmFcmovcc() {
        // fld tword [B]; fld tword [A]; stc; fcmovb st0,st1; fstp tword [R]
        X87Bench x = new X87Bench().code(X87Bench.init() + "db " + mem(5, B) + "db " + mem(5, A) + "f9  da c1  db "
                + mem(7, X87Bench.R) + "f4");
        x.control(X87Bench.RC_NEAREST, 3, 0x3F);
        x.extended(A, new BigDecimal(1));
        x.extended(B, new BigDecimal(2));
        x.run();
        assertThat(X87Bench.value(x.signExponent(X87Bench.R), x.significand(X87Bench.R))).isEqualByComparingTo("2");
        x.bench.code(X87Bench.init() + "db " + mem(5, B) + "db " + mem(5, A) + "f9  db c1  db " + mem(7, X87Bench.R)
                + "f4"); // fcmovnb: CF = 1, no move
        x.run();
        assertThat(X87Bench.value(x.signExponent(X87Bench.R), x.significand(X87Bench.R))).isEqualByComparingTo("1");
    }
}

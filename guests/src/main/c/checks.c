/* The selftest's checks that any ring can run, so the lab kernel and its PV port (pv/pvselftest.c) link the same
   ones: instruction results and flags, CPUID and RDTSC, exceptions of the running ring, and what ring 3 may not
   do. Inputs are chosen so that every checked result is architecturally defined; undefined flags are masked out.
   The kernel provides kprintf, the fault record (frec, expect_armed, fixup_eip), test3_*, user_call and uc_stack_top. */
#include "lab.h"

void t_enter(u32 out[8]);
void t_enter0(u32 out[4]);
extern u32 fake_frame[3];
extern void u_ret(void), u_cli(void), u_hlt(void), u_movcr3(void), u_lgdt(void), u_in(void), u_out(void),
    u_int20(void), u_int3(void), u_int81(void), u_int81_after(void), u_popf(void), u_lar(void), u_wbinvd(void),
    u_read(void), u_read_insn(void), u_write(void), u_write_insn(void), u_jump(void), u_callgate(void),
    u_callgate_ret(void), t_gate_target(void);
extern u32 gate_rec[7];

u32 checks_passed, checks_failed;
char check_detail[160];

u64 seg_desc(u32 base, u32 limit, u32 access, u32 flags) {
    return (limit & 0xFFFF) | ((u64)(base & 0xFFFFFF) << 16) | ((u64)access << 40)
         | ((u64)((limit >> 16) & 0xF) << 48) | ((u64)(flags & 0xF) << 52) | ((u64)(base >> 24) << 56);
}

u64 gate_desc(u32 offset, u32 access) {
    return (offset & 0xFFFF) | ((u64)SEL_KCODE << 16) | ((u64)access << 40) | ((u64)(offset >> 16) << 48);
}

/* The kernel's printf, over its kputs (the serial port on a PC, console_io under Xen). */
void kprintf(const char *f, ...) {
    char buf[256];
    __builtin_va_list ap;
    __builtin_va_start(ap, f);
    fmt(buf, sizeof buf, f, ap);
    __builtin_va_end(ap);
    kputs(buf);
}

void report(const char *name, int ok) {
    if (ok) { checks_passed++; kprintf("PASS %s\n", name); }
    else { checks_failed++; kprintf("FAIL %s %s\n", name, check_detail); }
    check_detail[0] = 0;
}


/* ---------------------------------------------------------------- flags: reference model (SDM Vol. 2) */

#define CF EFLAGS_CF
#define PF EFLAGS_PF
#define AF EFLAGS_AF
#define ZF EFLAGS_ZF
#define SF EFLAGS_SF
#define OF EFLAGS_OF
#define ALL EFLAGS_ARITH

static u32 parity(u32 r) { r &= 0xFF; r ^= r >> 4; r ^= r >> 2; r ^= r >> 1; return (r & 1) ? 0 : PF; }
static u32 szp32(u32 r) { return (r ? 0 : ZF) | (r & 0x80000000u ? SF : 0) | parity(r); }
static u32 szp8(u32 r) { r &= 0xFF; return (r ? 0 : ZF) | (r & 0x80 ? SF : 0) | parity(r); }

static u32 ref_add(u32 a, u32 b, u32 c, u32 *f) {
    u32 r = a + b + c;
    u64 wide = (u64)a + b + c;
    *f = szp32(r) | (wide >> 32 ? CF : 0) | ((((a ^ r) & (b ^ r)) >> 31) ? OF : 0) | ((a ^ b ^ r) & AF);
    return r;
}
static u32 ref_sub(u32 a, u32 b, u32 c, u32 *f) {
    u32 r = a - b - c;
    *f = szp32(r) | ((u64)a < (u64)b + c ? CF : 0) | ((((a ^ b) & (a ^ r)) >> 31) ? OF : 0) | ((a ^ b ^ r) & AF);
    return r;
}
static u32 ref_add8(u32 a, u32 b, u32 c, u32 *f) {
    u32 r = (a + b + c) & 0xFF;
    *f = szp8(r) | (a + b + c > 0xFF ? CF : 0) | (((a ^ r) & (b ^ r) & 0x80) ? OF : 0) | ((a ^ b ^ r) & AF);
    return r;
}
static u32 ref_sub8(u32 a, u32 b, u32 c, u32 *f) {
    u32 r = (a - b - c) & 0xFF;
    *f = szp8(r) | (a < b + c ? CF : 0) | (((a ^ b) & (a ^ r) & 0x80) ? OF : 0) | ((a ^ b ^ r) & AF);
    return r;
}

/* ---------------------------------------------------------------- flags: the instructions */

#define BINOP(name, insn)                                                                    \
    static u32 op_##name(u32 a, u32 b, u32 fin, u32 *fout) {                                 \
        u32 f;                                                                               \
        __asm__ volatile("pushl %[fin]\n\tpopfl\n\t" insn " %[b], %[a]\n\tpushfl\n\tpopl %[f]" \
                         : [a] "+r"(a), [f] "=&r"(f) : [b] "r"(b), [fin] "r"(fin) : "cc");   \
        *fout = f;                                                                           \
        return a;                                                                            \
    }
#define BINOP8(name, insn)                                                                     \
    static u32 op_##name(u32 a, u32 b, u32 fin, u32 *fout) {                                   \
        u32 f;                                                                                 \
        __asm__ volatile("pushl %[fin]\n\tpopfl\n\t" insn " %b[b], %b[a]\n\tpushfl\n\tpopl %[f]" \
                         : [a] "+q"(a), [f] "=&r"(f) : [b] "q"(b), [fin] "r"(fin) : "cc");     \
        *fout = f;                                                                             \
        return a & 0xFF;                                                                       \
    }
#define SHOP(name, insn)                                                                     \
    static u32 op_##name(u32 a, u32 c, u32 fin, u32 *fout) {                                 \
        u32 f;                                                                               \
        __asm__ volatile("pushl %[fin]\n\tpopfl\n\t" insn " %%cl, %[a]\n\tpushfl\n\tpopl %[f]" \
                         : [a] "+r"(a), [f] "=&r"(f) : "c"(c), [fin] "r"(fin) : "cc");       \
        *fout = f;                                                                           \
        return a;                                                                            \
    }
#define UNOP(name, insn)                                                                     \
    static u32 op_##name(u32 a, u32 b, u32 fin, u32 *fout) {                                 \
        u32 f;                                                                               \
        __asm__ volatile("pushl %[fin]\n\tpopfl\n\t" insn " %[a]\n\tpushfl\n\tpopl %[f]"      \
                         : [a] "+r"(a), [f] "=&r"(f) : [fin] "r"(fin) : "cc");               \
        *fout = f;                                                                           \
        return a;                                                                            \
    }

BINOP(add, "addl") BINOP(adc, "adcl") BINOP(sub, "subl") BINOP(sbb, "sbbl") BINOP(and, "andl") BINOP(or, "orl")
BINOP(xor, "xorl") BINOP(imul2, "imull")
BINOP8(add8, "addb") BINOP8(sub8, "subb") BINOP8(adc8, "adcb") BINOP8(sbb8, "sbbb")
SHOP(shl, "shll") SHOP(shr, "shrl") SHOP(sar, "sarl") SHOP(rol, "roll") SHOP(ror, "rorl") SHOP(rcl, "rcll")
SHOP(rcr, "rcrl")
UNOP(inc, "incl") UNOP(dec, "decl") UNOP(neg, "negl") UNOP(not, "notl")

static u32 op_cmp(u32 a, u32 b, u32 fin, u32 *fout) {
    u32 f;
    __asm__ volatile("pushl %[fin]\n\tpopfl\n\tcmpl %[b], %[a]\n\tpushfl\n\tpopl %[f]"
                     : [f] "=&r"(f) : [a] "r"(a), [b] "r"(b), [fin] "r"(fin) : "cc");
    *fout = f;
    return a;
}

static const u32 vals[] = { 0, 1, 2, 0x0F, 0x10, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0x7FFFFFFF, 0x80000000,
                            0x80000001, 0xFFFFFFFE, 0xFFFFFFFF, 0x12345678, 0xFEDCBA98, 0x0F0F0F0F };
#define NVALS (sizeof vals / sizeof vals[0])
static const u32 counts[] = { 0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63 };
#define NCOUNTS (sizeof counts / sizeof counts[0])

typedef u32 (*opfn)(u32, u32, u32, u32 *);
typedef u32 (*reffn)(u32 a, u32 b, u32 fin, u32 *f, u32 *mask);

/* Runs op over all value pairs with both carry-in states and with all arithmetic flags clear or set before. */
static void check_binop(const char *name, opfn op, reffn ref, const u32 *bs, u32 nb) {
    for (u32 i = 0; i < NVALS; i++)
        for (u32 j = 0; j < nb; j++)
            for (u32 k = 0; k < 4; k++) {
                u32 fin = 0x2 | ((k & 1) ? CF : 0) | ((k & 2) ? (ALL & ~CF) : 0);
                u32 a = vals[i], b = bs[j], gotf, expf, mask;
                u32 got = op(a, b, fin, &gotf);
                u32 exp = ref(a, b, fin, &expf, &mask);
                if (got != exp || ((gotf ^ expf) & mask)) {
                    DETAIL("a=0x%x b=0x%x flags_in=0x%x got=0x%x/0x%x want=0x%x/0x%x mask=0x%x", a, b, fin, got,
                           gotf & ALL, exp, expf & mask, mask);
                    report(name, 0);
                    return;
                }
            }
    report(name, 1);
}

static u32 r_add(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_add(a, b, 0, f); }
static u32 r_adc(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_add(a, b, fin & CF, f); }
static u32 r_sub(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_sub(a, b, 0, f); }
static u32 r_sbb(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_sub(a, b, fin & CF, f); }
static u32 r_cmp(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; ref_sub(a, b, 0, f); return a; }
static u32 r_add8(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_add8(a & 0xFF, b & 0xFF, 0, f); }
static u32 r_adc8(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_add8(a & 0xFF, b & 0xFF, fin & CF, f); }
static u32 r_sub8(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_sub8(a & 0xFF, b & 0xFF, 0, f); }
static u32 r_sbb8(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_sub8(a & 0xFF, b & 0xFF, fin & CF, f); }
/* AND/OR/XOR: CF = OF = 0, SF ZF PF from the result, AF undefined. */
static u32 r_and(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL & ~AF; *f = szp32(a & b); return a & b; }
static u32 r_or(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL & ~AF; *f = szp32(a | b); return a | b; }
static u32 r_xor(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL & ~AF; *f = szp32(a ^ b); return a ^ b; }
/* INC/DEC: like ADD/SUB 1 but CF unchanged. NEG: CF = (a != 0). NOT: no flags. */
static u32 r_inc(u32 a, u32 b, u32 fin, u32 *f, u32 *m) {
    *m = ALL; u32 r = ref_add(a, 1, 0, f); *f = (*f & ~CF) | (fin & CF); return r;
}
static u32 r_dec(u32 a, u32 b, u32 fin, u32 *f, u32 *m) {
    *m = ALL; u32 r = ref_sub(a, 1, 0, f); *f = (*f & ~CF) | (fin & CF); return r;
}
static u32 r_neg(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; return ref_sub(0, a, 0, f); }
static u32 r_not(u32 a, u32 b, u32 fin, u32 *f, u32 *m) { *m = ALL; *f = fin; return ~a; }
/* IMUL r32, r/m32: CF = OF = (the product does not fit in 32 bits, signed); SF ZF AF PF undefined. */
static u32 r_imul2(u32 a, u32 b, u32 fin, u32 *f, u32 *m) {
    i64 p = (i64)(i32)a * (i32)b;
    *m = CF | OF;
    *f = p != (i64)(i32)p ? CF | OF : 0;
    return (u32)p;
}

/* Shifts (count masked to 5 bits): count 0 leaves all flags; otherwise CF, SF, ZF, PF defined, OF only for
   count 1, AF undefined. */
static u32 r_shl(u32 a, u32 n, u32 fin, u32 *f, u32 *m) {
    u32 c = n & 31;
    if (!c) { *m = ALL; *f = fin; return a; }
    u32 r = a << c, cf = (a >> (32 - c)) & 1;
    *f = szp32(r) | (cf ? CF : 0) | (((r >> 31) ^ cf) ? OF : 0);
    *m = CF | SF | ZF | PF | (c == 1 ? OF : 0);
    return r;
}
static u32 r_shr(u32 a, u32 n, u32 fin, u32 *f, u32 *m) {
    u32 c = n & 31;
    if (!c) { *m = ALL; *f = fin; return a; }
    u32 r = a >> c, cf = (a >> (c - 1)) & 1;
    *f = szp32(r) | (cf ? CF : 0) | ((a >> 31) ? OF : 0);
    *m = CF | SF | ZF | PF | (c == 1 ? OF : 0);
    return r;
}
static u32 r_sar(u32 a, u32 n, u32 fin, u32 *f, u32 *m) {
    u32 c = n & 31;
    if (!c) { *m = ALL; *f = fin; return a; }
    u32 r = (u32)((i32)a >> c), cf = ((u32)((i32)a >> (c - 1))) & 1;
    *f = szp32(r) | (cf ? CF : 0);
    *m = CF | SF | ZF | PF | (c == 1 ? OF : 0);
    return r;
}
/* Rotates: SF ZF AF PF never change; CF defined for a nonzero masked count; OF only for count 1. */
static u32 r_rol(u32 a, u32 n, u32 fin, u32 *f, u32 *m) {
    u32 c = n & 31;
    *m = ALL & ~(c == 1 ? 0 : OF);
    if (!c) { *f = fin; *m = ALL; return a; }
    u32 r = (a << c) | (a >> (32 - c)), cf = r & 1;
    *f = (fin & ~(CF | OF)) | (cf ? CF : 0) | (((r >> 31) ^ cf) ? OF : 0);
    return r;
}
static u32 r_ror(u32 a, u32 n, u32 fin, u32 *f, u32 *m) {
    u32 c = n & 31;
    *m = ALL & ~(c == 1 ? 0 : OF);
    if (!c) { *f = fin; *m = ALL; return a; }
    u32 r = (a >> c) | (a << (32 - c)), cf = r >> 31;
    *f = (fin & ~(CF | OF)) | (cf ? CF : 0) | ((((r >> 31) ^ (r >> 30)) & 1) ? OF : 0);
    return r;
}
static u32 r_rcl(u32 a, u32 n, u32 fin, u32 *f, u32 *m) {
    u32 c = n & 31, cf = fin & CF ? 1 : 0, r = a;
    *m = ALL & ~(c == 1 ? 0 : OF);
    if (!c) { *f = fin; *m = ALL; return a; }
    for (u32 i = 0; i < c; i++) { u32 out = r >> 31; r = (r << 1) | cf; cf = out; }
    *f = (fin & ~(CF | OF)) | (cf ? CF : 0) | (((r >> 31) ^ cf) ? OF : 0);
    return r;
}
static u32 r_rcr(u32 a, u32 n, u32 fin, u32 *f, u32 *m) {
    u32 c = n & 31, cf = fin & CF ? 1 : 0, r = a;
    *m = ALL & ~(c == 1 ? 0 : OF);
    if (!c) { *f = fin; *m = ALL; return a; }
    u32 of = (a >> 31) ^ cf;
    for (u32 i = 0; i < c; i++) { u32 out = r & 1; r = (r >> 1) | (cf << 31); cf = out; }
    *f = (fin & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
    return r;
}

static void test_alu_flags(void) {
    check_binop("flags_add", op_add, r_add, vals, NVALS);
    check_binop("flags_adc", op_adc, r_adc, vals, NVALS);
    check_binop("flags_sub", op_sub, r_sub, vals, NVALS);
    check_binop("flags_sbb", op_sbb, r_sbb, vals, NVALS);
    check_binop("flags_cmp", op_cmp, r_cmp, vals, NVALS);
    check_binop("flags_add8", op_add8, r_add8, vals, NVALS);
    check_binop("flags_adc8", op_adc8, r_adc8, vals, NVALS);
    check_binop("flags_sub8", op_sub8, r_sub8, vals, NVALS);
    check_binop("flags_sbb8", op_sbb8, r_sbb8, vals, NVALS);
    check_binop("flags_and", op_and, r_and, vals, NVALS);
    check_binop("flags_or", op_or, r_or, vals, NVALS);
    check_binop("flags_xor", op_xor, r_xor, vals, NVALS);
    check_binop("flags_inc", op_inc, r_inc, vals, 1);
    check_binop("flags_dec", op_dec, r_dec, vals, 1);
    check_binop("flags_neg", op_neg, r_neg, vals, 1);
    check_binop("flags_not", op_not, r_not, vals, 1);
    check_binop("flags_shl", op_shl, r_shl, counts, NCOUNTS);
    check_binop("flags_shr", op_shr, r_shr, counts, NCOUNTS);
    check_binop("flags_sar", op_sar, r_sar, counts, NCOUNTS);
    check_binop("flags_rol", op_rol, r_rol, counts, NCOUNTS);
    check_binop("flags_ror", op_ror, r_ror, counts, NCOUNTS);
    check_binop("flags_rcl", op_rcl, r_rcl, counts, NCOUNTS);
    check_binop("flags_rcr", op_rcr, r_rcr, counts, NCOUNTS);
    check_binop("flags_imul", op_imul2, r_imul2, vals, NVALS);
}

/* MUL/IMUL one-operand forms, DIV/IDIV results (their flags are undefined except CF/OF of the multiplies). */
static void test_muldiv(void) {
    int ok = 1;
    for (u32 i = 0; i < NVALS && ok; i++)
        for (u32 j = 0; j < NVALS && ok; j++) {
            u32 a = vals[i], b = vals[j], lo, hi, f;
            __asm__ volatile("mull %[b]\n\tpushfl\n\tpopl %[f]" : "=a"(lo), "=d"(hi), [f] "=r"(f) : "a"(a), [b] "r"(b) : "cc");
            u64 p = (u64)a * b;
            u32 ef = (p >> 32) ? CF | OF : 0;
            if (lo != (u32)p || hi != (u32)(p >> 32) || (f & (CF | OF)) != ef) {
                DETAIL("mul a=0x%x b=0x%x got=0x%x:%x f=0x%x", a, b, hi, lo, f & ALL);
                ok = 0;
            }
        }
    report("mul", ok);
    ok = 1;
    for (u32 i = 0; i < NVALS && ok; i++)
        for (u32 j = 0; j < NVALS && ok; j++) {
            u32 a = vals[i], b = vals[j], lo, hi, f;
            __asm__ volatile("imull %[b]\n\tpushfl\n\tpopl %[f]" : "=a"(lo), "=d"(hi), [f] "=r"(f) : "a"(a), [b] "r"(b) : "cc");
            i64 p = (i64)(i32)a * (i32)b;
            u32 ef = p != (i64)(i32)p ? CF | OF : 0;
            if (lo != (u32)p || hi != (u32)((u64)p >> 32) || (f & (CF | OF)) != ef) {
                DETAIL("imul a=0x%x b=0x%x got=0x%x:%x f=0x%x", a, b, hi, lo, f & ALL);
                ok = 0;
            }
        }
    /* three-operand form with an immediate */
    {
        u32 r, f;
        __asm__ volatile("imull $-3, %[s], %[r]\n\tpushfl\n\tpopl %[f]" : [r] "=r"(r), [f] "=r"(f) : [s] "r"(0x40000000u) : "cc");
        if (r != 0x40000000u || (f & (CF | OF)) != (CF | OF)) { DETAIL("imul3 got=0x%x f=0x%x", r, f); ok = 0; }
    }
    report("imul", ok);
    ok = 1;
    for (u32 i = 0; i < NVALS && ok; i++)
        for (u32 j = 0; j < NVALS && ok; j++) {
            u32 d = vals[j];
            if (!d) continue;
            u32 hi = vals[i] % d, lo = vals[(i + j) % NVALS], q, r;   /* hi < d: no overflow */
            __asm__ volatile("divl %[d]" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), [d] "r"(d) : "cc");
            u32 er;
            u64 eq = udiv64(((u64)hi << 32) | lo, d, &er);
            if (q != (u32)eq || r != er) { DETAIL("div 0x%x:%x/0x%x got q=0x%x r=0x%x", hi, lo, d, q, r); ok = 0; }
        }
    report("div", ok);
    ok = 1;
    for (u32 i = 0; i < NVALS && ok; i++)
        for (u32 j = 0; j < NVALS && ok; j++) {
            i32 n = (i32)vals[i], d = (i32)vals[j];
            if (!d || (n == (i32)0x80000000 && d == -1)) continue;
            i32 q, r;
            __asm__ volatile("cltd\n\tidivl %[d]" : "=a"(q), "=d"(r) : "a"(n), [d] "r"(d) : "cc");
            /* reference: truncate toward zero, remainder has the dividend's sign */
            u32 un = n < 0 ? -(u32)n : (u32)n, ud = d < 0 ? -(u32)d : (u32)d;
            u32 eq = un / ud, er = un % ud;
            i32 sq = (n < 0) != (d < 0) ? -(i32)eq : (i32)eq, sr = n < 0 ? -(i32)er : (i32)er;
            if (q != sq || r != sr) { DETAIL("idiv %d/%d got q=%d r=%d", n, d, q, r); ok = 0; }
        }
    report("idiv", ok);
}

/* ---------------------------------------------------------------- BCD (SDM pseudo-code, valid BCD inputs) */

static u32 ref_daa(u32 al, u32 fin, u32 *f) {
    u32 old_al = al, old_cf = fin & CF, cf = 0, af = 0;
    if ((al & 0xF) > 9 || (fin & AF)) { cf = old_cf || al + 6 > 0xFF; al = (al + 6) & 0xFF; af = 1; }
    if (old_al > 0x99 || old_cf) { al = (al + 0x60) & 0xFF; cf = 1; } else cf = 0;
    *f = szp8(al) | (cf ? CF : 0) | (af ? AF : 0);
    return al;
}
static u32 ref_das(u32 al, u32 fin, u32 *f) {
    u32 old_al = al, old_cf = fin & CF, cf = 0, af = 0;
    if ((al & 0xF) > 9 || (fin & AF)) { cf = old_cf || al < 6; al = (al - 6) & 0xFF; af = 1; }
    if (old_al > 0x99 || old_cf) { al = (al - 0x60) & 0xFF; cf = 1; }
    *f = szp8(al) | (cf ? CF : 0) | (af ? AF : 0);
    return al;
}

static void test_bcd(void) {
    int ok = 1;
    /* DAA after ADD and DAS after SUB of every pair of packed BCD bytes 00..99 */
    for (u32 x = 0; x < 100 && ok; x++)
        for (u32 y = 0; y < 100 && ok; y++) {
            u32 bx = (x / 10) << 4 | (x % 10), by = (y / 10) << 4 | (y % 10);
            u32 fa, fd, r, e, ef, fadd;
            __asm__ volatile("addb %b[y], %b[a]\n\tpushfl\n\tpopl %[fa]\n\tdaa\n\tpushfl\n\tpopl %[fd]"
                             : [a] "=a"(r), [fa] "=&r"(fa), [fd] "=&r"(fd) : "a"(bx), [y] "q"(by) : "cc");
            ref_add8(bx, by, 0, &fadd);
            e = ref_daa((bx + by) & 0xFF, fadd, &ef);
            u32 dec = (x + y) % 100;
            if ((r & 0xFF) != e || ((fd ^ ef) & (ALL & ~OF)) || e != ((dec / 10) << 4 | (dec % 10)) ||
                !!(ef & CF) != (x + y >= 100)) {
                DETAIL("daa 0x%x+0x%x got=0x%x f=0x%x want=0x%x f=0x%x", bx, by, r & 0xFF, fd & ALL, e, ef);
                ok = 0;
            }
        }
    report("bcd_daa", ok);
    ok = 1;
    for (u32 x = 0; x < 100 && ok; x++)
        for (u32 y = 0; y < 100 && ok; y++) {
            u32 bx = (x / 10) << 4 | (x % 10), by = (y / 10) << 4 | (y % 10);
            u32 fa, fd, r, e, ef, fsub;
            __asm__ volatile("subb %b[y], %b[a]\n\tpushfl\n\tpopl %[fa]\n\tdas\n\tpushfl\n\tpopl %[fd]"
                             : [a] "=a"(r), [fa] "=&r"(fa), [fd] "=&r"(fd) : "a"(bx), [y] "q"(by) : "cc");
            ref_sub8(bx, by, 0, &fsub);
            e = ref_das((bx - by) & 0xFF, fsub, &ef);
            u32 dec = (x + 100 - y) % 100;
            if ((r & 0xFF) != e || ((fd ^ ef) & (ALL & ~OF)) || e != ((dec / 10) << 4 | (dec % 10)) ||
                !!(ef & CF) != (x < y)) {
                DETAIL("das 0x%x-0x%x got=0x%x f=0x%x want=0x%x f=0x%x", bx, by, r & 0xFF, fd & ALL, e, ef);
                ok = 0;
            }
        }
    report("bcd_das", ok);
    /* AAA after ADD and AAS after SUB of unpacked digits; AAM after MUL; AAD before DIV */
    ok = 1;
    for (u32 x = 0; x < 10 && ok; x++)
        for (u32 y = 0; y < 10 && ok; y++) {
            u32 r, f;
            __asm__ volatile("addb %b[y], %%al\n\taaa\n\tpushfl\n\tpopl %[f]" : "=a"(r), [f] "=r"(f) : "a"(x), [y] "q"(y) : "cc");
            u32 s = x + y, want = ((s / 10) << 8) | (s % 10);
            if ((r & 0xFFFF) != want || !!(f & CF) != (s >= 10) || !!(f & AF) != (s >= 10)) {
                DETAIL("aaa %u+%u got=0x%x f=0x%x", x, y, r & 0xFFFF, f & ALL);
                ok = 0;
            }
            __asm__ volatile("subb %b[y], %%al\n\taas\n\tpushfl\n\tpopl %[f]" : "=a"(r), [f] "=r"(f) : "a"(0x500 | x), [y] "q"(y) : "cc");
            u32 borrow = x < y;
            want = ((5 - borrow) << 8) | ((x + 10 - y) % 10);
            if ((r & 0xFFFF) != want || !!(f & CF) != borrow || !!(f & AF) != borrow) {
                DETAIL("aas %u-%u got=0x%x f=0x%x", x, y, r & 0xFFFF, f & ALL);
                ok = 0;
            }
            __asm__ volatile("mulb %b[y]\n\taam\n\tpushfl\n\tpopl %[f]" : "=a"(r), [f] "=r"(f) : "a"(x), [y] "q"(y) : "cc");
            u32 p = x * y;
            want = ((p / 10) << 8) | (p % 10);
            if ((r & 0xFFFF) != want || ((f ^ szp8(p % 10)) & (SF | ZF | PF))) {
                DETAIL("aam %u*%u got=0x%x f=0x%x", x, y, r & 0xFFFF, f & ALL);
                ok = 0;
            }
            __asm__ volatile("aad\n\tpushfl\n\tpopl %[f]" : "=a"(r), [f] "=r"(f) : "a"((x << 8) | y) : "cc");
            want = x * 10 + y;
            if ((r & 0xFFFF) != want || ((f ^ szp8(want)) & (SF | ZF | PF))) {
                DETAIL("aad %u,%u got=0x%x f=0x%x", x, y, r & 0xFFFF, f & ALL);
                ok = 0;
            }
        }
    report("bcd_aaa_aas_aam_aad", ok);
}

/* ---------------------------------------------------------------- string instructions */

static u8 sbuf_a[64], sbuf_b[64];

static void fill(u8 *p, u32 n, u32 seed) { for (u32 i = 0; i < n; i++) p[i] = (u8)(seed + i * 7); }

static void test_strings(void) {
    int ok = 1;
    u32 si, di, cx;
    /* REP MOVSB forward and backward */
    fill(sbuf_a, 64, 1); memset(sbuf_b, 0, 64);
    __asm__ volatile("cld\n\trep movsb" : "=S"(si), "=D"(di), "=c"(cx) : "S"(sbuf_a + 3), "D"(sbuf_b + 5), "c"(37) : "memory");
    if (si != (u32)sbuf_a + 40 || di != (u32)sbuf_b + 42 || cx || memcmp(sbuf_b + 5, sbuf_a + 3, 37) || sbuf_b[42] || sbuf_b[4]) {
        DETAIL("movsb df=0"); ok = 0;
    }
    memset(sbuf_b, 0, 64);
    __asm__ volatile("std\n\trep movsb\n\tcld" : "=S"(si), "=D"(di), "=c"(cx) : "S"(sbuf_a + 39), "D"(sbuf_b + 41), "c"(37) : "memory");
    if (si != (u32)sbuf_a + 2 || di != (u32)sbuf_b + 4 || cx || memcmp(sbuf_b + 5, sbuf_a + 3, 37) || sbuf_b[4] || sbuf_b[42]) {
        DETAIL("movsb df=1"); ok = 0;
    }
    /* REP MOVSD forward and backward */
    memset(sbuf_b, 0, 64);
    __asm__ volatile("cld\n\trep movsl" : "=S"(si), "=D"(di), "=c"(cx) : "S"(sbuf_a), "D"(sbuf_b + 8), "c"(9) : "memory");
    if (si != (u32)sbuf_a + 36 || di != (u32)sbuf_b + 44 || cx || memcmp(sbuf_b + 8, sbuf_a, 36)) { DETAIL("movsd df=0"); ok = 0; }
    memset(sbuf_b, 0, 64);
    __asm__ volatile("std\n\trep movsl\n\tcld" : "=S"(si), "=D"(di), "=c"(cx) : "S"(sbuf_a + 32), "D"(sbuf_b + 40), "c"(9) : "memory");
    if (si != (u32)sbuf_a - 4 || di != (u32)sbuf_b + 4 || cx || memcmp(sbuf_b + 8, sbuf_a, 36) || sbuf_b[7]) { DETAIL("movsd df=1"); ok = 0; }
    report("string_rep_movs", ok);

    /* REP STOSB both ways; ECX = 0 does nothing */
    ok = 1;
    memset(sbuf_b, 0, 64);
    __asm__ volatile("cld\n\trep stosb" : "=D"(di), "=c"(cx) : "D"(sbuf_b + 10), "c"(20), "a"(0xA5) : "memory");
    if (di != (u32)sbuf_b + 30 || cx || sbuf_b[9] || sbuf_b[10] != 0xA5 || sbuf_b[29] != 0xA5 || sbuf_b[30]) { DETAIL("stosb df=0"); ok = 0; }
    __asm__ volatile("std\n\trep stosb\n\tcld" : "=D"(di), "=c"(cx) : "D"(sbuf_b + 50), "c"(5), "a"(0x3C) : "memory");
    if (di != (u32)sbuf_b + 45 || cx || sbuf_b[45] || sbuf_b[46] != 0x3C || sbuf_b[50] != 0x3C || sbuf_b[51]) { DETAIL("stosb df=1"); ok = 0; }
    __asm__ volatile("cld\n\trep stosb" : "=D"(di), "=c"(cx) : "D"(sbuf_b), "c"(0), "a"(0xFF) : "memory");
    if (di != (u32)sbuf_b || sbuf_b[0]) { DETAIL("stosb ecx=0"); ok = 0; }
    report("string_rep_stos", ok);

    /* REPE CMPSB stops after the first difference; flags are those of that compare */
    ok = 1;
    fill(sbuf_a, 64, 9); memcpy(sbuf_b, sbuf_a, 64);
    sbuf_b[20] = sbuf_a[20] + 1;   /* a < b there: CF = 1 */
    u32 f;
    __asm__ volatile("cld\n\trepe cmpsb\n\tpushfl\n\tpopl %[f]" : "=S"(si), "=D"(di), "=c"(cx), [f] "=r"(f) : "S"(sbuf_a), "D"(sbuf_b), "c"(37) : "memory", "cc");
    if (si != (u32)sbuf_a + 21 || di != (u32)sbuf_b + 21 || cx != 16 || (f & (ZF | CF)) != CF) { DETAIL("cmpsb df=0 cx=%u f=0x%x", cx, f); ok = 0; }
    __asm__ volatile("std\n\trepe cmpsb\n\tpushfl\n\tpopl %[f]\n\tcld" : "=S"(si), "=D"(di), "=c"(cx), [f] "=r"(f) : "S"(sbuf_b + 36), "D"(sbuf_a + 36), "c"(37) : "memory", "cc");
    if (si != (u32)sbuf_b + 19 || di != (u32)sbuf_a + 19 || cx != 20 || (f & (ZF | CF))) { DETAIL("cmpsb df=1 cx=%u f=0x%x", cx, f); ok = 0; }
    __asm__ volatile("cld\n\trepe cmpsb\n\tpushfl\n\tpopl %[f]" : "=S"(si), "=D"(di), "=c"(cx), [f] "=r"(f) : "S"(sbuf_a), "D"(sbuf_b), "c"(20) : "memory", "cc");
    if (cx || !(f & ZF)) { DETAIL("cmpsb equal cx=%u f=0x%x", cx, f); ok = 0; }
    report("string_repe_cmpsb", ok);

    /* REPNE SCASB finds a byte; not found runs ECX down to 0 */
    ok = 1;
    memset(sbuf_b, 0x11, 64);
    sbuf_b[13] = 0x77;
    __asm__ volatile("cld\n\trepne scasb\n\tpushfl\n\tpopl %[f]" : "=D"(di), "=c"(cx), [f] "=r"(f) : "D"(sbuf_b), "c"(37), "a"(0x77) : "memory", "cc");
    if (di != (u32)sbuf_b + 14 || cx != 23 || !(f & ZF)) { DETAIL("scasb df=0 cx=%u", cx); ok = 0; }
    __asm__ volatile("std\n\trepne scasb\n\tpushfl\n\tpopl %[f]\n\tcld" : "=D"(di), "=c"(cx), [f] "=r"(f) : "D"(sbuf_b + 40), "c"(37), "a"(0x77) : "memory", "cc");
    if (di != (u32)sbuf_b + 12 || cx != 9 || !(f & ZF)) { DETAIL("scasb df=1 cx=%u", cx); ok = 0; }
    __asm__ volatile("cld\n\trepne scasb\n\tpushfl\n\tpopl %[f]" : "=D"(di), "=c"(cx), [f] "=r"(f) : "D"(sbuf_b + 20), "c"(30), "a"(0x77) : "memory", "cc");
    if (di != (u32)sbuf_b + 50 || cx || (f & ZF)) { DETAIL("scasb miss cx=%u", cx); ok = 0; }
    report("string_repne_scasb", ok);
}

/* ---------------------------------------------------------------- bit instructions, SHLD/SHRD */

static void test_bits(void) {
    int ok = 1;
    for (u32 i = 0; i < NVALS; i++) {
        u32 v = vals[i], r1 = 0xDEAD, r2 = 0xDEAD, f1, f2;
        __asm__ volatile("bsfl %[v], %[r]\n\tpushfl\n\tpopl %[f]" : [r] "+r"(r1), [f] "=r"(f1) : [v] "r"(v) : "cc");
        __asm__ volatile("bsrl %[v], %[r]\n\tpushfl\n\tpopl %[f]" : [r] "+r"(r2), [f] "=r"(f2) : [v] "r"(v) : "cc");
        if (!v) { if (!(f1 & ZF) || !(f2 & ZF)) { DETAIL("bsf/bsr 0: ZF clear"); ok = 0; } continue; }
        u32 lo = 0, hi = 31;
        while (!(v >> lo & 1)) lo++;
        while (!(v >> hi & 1)) hi--;
        if (r1 != lo || r2 != hi || (f1 & ZF) || (f2 & ZF)) { DETAIL("bsf/bsr 0x%x got %u %u", v, r1, r2); ok = 0; }
    }
    report("bsf_bsr", ok);

    /* BT/BTS/BTR/BTC: CF = the old bit, ZF unchanged; register form masks the offset, memory form does not */
    ok = 1;
    static const u32 offs[] = { 0, 1, 5, 31, 32, 37, 63 };
    for (u32 i = 0; i < NVALS; i++)
        for (u32 j = 0; j < sizeof offs / sizeof offs[0]; j++) {
            u32 v = vals[i], o = offs[j], bit = (v >> (o & 31)) & 1, m = 1u << (o & 31);
            for (u32 zf = 0; zf <= ZF; zf += ZF) {
                u32 fin = 0x2 | zf, r, f;
                __asm__ volatile("pushl %[fin]\n\tpopfl\n\tbtl %[o], %[v]\n\tpushfl\n\tpopl %[f]" : [f] "=r"(f) : [v] "r"(v), [o] "r"(o), [fin] "r"(fin) : "cc");
                if (!!(f & CF) != bit || (f & ZF) != zf) { DETAIL("bt 0x%x,%u f=0x%x", v, o, f); ok = 0; }
                r = v;
                __asm__ volatile("pushl %[fin]\n\tpopfl\n\tbtsl %[o], %[v]\n\tpushfl\n\tpopl %[f]" : [v] "+r"(r), [f] "=r"(f) : [o] "r"(o), [fin] "r"(fin) : "cc");
                if (r != (v | m) || !!(f & CF) != bit || (f & ZF) != zf) { DETAIL("bts 0x%x,%u", v, o); ok = 0; }
                r = v;
                __asm__ volatile("pushl %[fin]\n\tpopfl\n\tbtrl %[o], %[v]\n\tpushfl\n\tpopl %[f]" : [v] "+r"(r), [f] "=r"(f) : [o] "r"(o), [fin] "r"(fin) : "cc");
                if (r != (v & ~m) || !!(f & CF) != bit || (f & ZF) != zf) { DETAIL("btr 0x%x,%u", v, o); ok = 0; }
                r = v;
                __asm__ volatile("pushl %[fin]\n\tpopfl\n\tbtcl %[o], %[v]\n\tpushfl\n\tpopl %[f]" : [v] "+r"(r), [f] "=r"(f) : [o] "r"(o), [fin] "r"(fin) : "cc");
                if (r != (v ^ m) || !!(f & CF) != bit || (f & ZF) != zf) { DETAIL("btc 0x%x,%u", v, o); ok = 0; }
            }
        }
    /* memory operand with a register offset beyond 32 bits addresses the following dwords */
    {
        static u32 words[4] = { 0, 0, 0x10, 0 };
        u32 f, o = 68;   /* dword 2, bit 4 */
        __asm__ volatile("btsl %[o], %[m]\n\tpushfl\n\tpopl %[f]" : [m] "+m"(words), [f] "=r"(f) : [o] "r"(o) : "cc");
        if (!(f & CF) || words[2] != 0x10) { DETAIL("bts mem +68 f=0x%x", f); ok = 0; }
        o = 97;          /* dword 3, bit 1 */
        __asm__ volatile("btcl %[o], %[m]\n\tpushfl\n\tpopl %[f]" : [m] "+m"(words), [f] "=r"(f) : [o] "r"(o) : "cc");
        if ((f & CF) || words[3] != 2 || words[0] || words[1]) { DETAIL("btc mem +97"); ok = 0; }
        o = -31;         /* negative offsets reach below the operand: dword -1, bit 1 */
        __asm__ volatile("btl %[o], %[m]\n\tpushfl\n\tpopl %[f]" : [f] "=r"(f) : [m] "m"(words[1]), [o] "r"(o) : "cc");
        if (f & CF) { DETAIL("bt mem -31"); ok = 0; }
    }
    report("bt_bts_btr_btc", ok);

    /* SHLD/SHRD by CL: count 0 changes nothing; CF SF ZF PF defined, OF for count 1, AF undefined */
    ok = 1;
    for (u32 i = 0; i < NVALS; i++)
        for (u32 j = 0; j < NCOUNTS; j++) {
            u32 d = vals[i], s = vals[(i * 7 + 3) % NVALS], n = counts[j], c = n & 31;
            for (u32 k = 0; k < 2; k++) {
                u32 fin = 0x2 | (k ? ALL : 0), r = d, f, er, ef, m;
                if (!k) {
                    __asm__ volatile("pushl %[fin]\n\tpopfl\n\tshldl %%cl, %[s], %[r]\n\tpushfl\n\tpopl %[f]" : [r] "+r"(r), [f] "=&r"(f) : [s] "r"(s), "c"(n), [fin] "r"(fin) : "cc");
                    if (!c) { er = d; ef = fin; m = ALL; }
                    else {
                        er = (d << c) | (s >> (32 - c));
                        ef = szp32(er) | (((d >> (32 - c)) & 1) ? CF : 0) | (((er ^ d) >> 31) ? OF : 0);
                        m = CF | SF | ZF | PF | (c == 1 ? OF : 0);
                    }
                } else {
                    __asm__ volatile("pushl %[fin]\n\tpopfl\n\tshrdl %%cl, %[s], %[r]\n\tpushfl\n\tpopl %[f]" : [r] "+r"(r), [f] "=&r"(f) : [s] "r"(s), "c"(n), [fin] "r"(fin) : "cc");
                    if (!c) { er = d; ef = fin; m = ALL; }
                    else {
                        er = (d >> c) | (s << (32 - c));
                        ef = szp32(er) | (((d >> (c - 1)) & 1) ? CF : 0) | (((er ^ d) >> 31) ? OF : 0);
                        m = CF | SF | ZF | PF | (c == 1 ? OF : 0);
                    }
                }
                if (r != er || ((f ^ ef) & m)) {
                    DETAIL("%s d=0x%x s=0x%x c=%u got=0x%x f=0x%x want=0x%x f=0x%x", k ? "shrd" : "shld", d, s, n, r, f & ALL, er, ef & m);
                    ok = 0;
                }
            }
        }
    report("shld_shrd", ok);
}

/* ---------------------------------------------------------------- XADD, CMPXCHG, CMPXCHG8B, CMOVcc, SETcc */

static void test_atomics(void) {
    int ok = 1;
    for (u32 i = 0; i < NVALS; i++)
        for (u32 j = 0; j < NVALS; j++) {
            u32 a = vals[i], b = vals[j], src = b, dst = a, f, ef;
            __asm__ volatile("xaddl %[s], %[d]\n\tpushfl\n\tpopl %[f]" : [s] "+r"(src), [d] "+m"(dst), [f] "=r"(f) : : "cc");
            u32 er = ref_add(a, b, 0, &ef);
            if (dst != er || src != a || ((f ^ ef) & ALL)) { DETAIL("xadd 0x%x+0x%x", a, b); ok = 0; }
        }
    report("xadd", ok);
    ok = 1;
    for (u32 i = 0; i < NVALS; i++)
        for (u32 j = 0; j < NVALS; j++) {
            u32 mem = vals[i], acc = vals[j], f, ef, nv = 0xC0FFEE;
            __asm__ volatile("lock cmpxchgl %[n], %[m]\n\tpushfl\n\tpopl %[f]" : [m] "+m"(mem), "+a"(acc), [f] "=r"(f) : [n] "r"(nv) : "cc");
            ref_sub(vals[j], vals[i], 0, &ef);
            u32 eq = vals[i] == vals[j];
            if (((f ^ ef) & ALL) || (eq ? (mem != nv || acc != vals[j]) : (mem != vals[i] || acc != vals[i]))) {
                DETAIL("cmpxchg mem=0x%x eax=0x%x", vals[i], vals[j]); ok = 0;
            }
        }
    report("cmpxchg", ok);
    ok = 1;
    {
        static u64 q;
        for (u32 k = 0; k < 2; k++) {
            q = 0x1122334455667788ull;
            u32 lo = k ? 0x55667788 : 0x55667789, hi = 0x11223344, f;
            for (u32 zf = 0; zf <= ZF; zf += ZF) {
                u32 fin = 0x2 | CF | SF | (zf ^ ZF), l = lo, h = hi;
                q = 0x1122334455667788ull;
                __asm__ volatile("pushl %[fin]\n\tpopfl\n\tlock cmpxchg8b %[m]\n\tpushfl\n\tpopl %[f]"
                                 : [m] "+m"(q), "+a"(l), "+d"(h), [f] "=r"(f) : "b"(0xAAAABBBB), "c"(0xCCCCDDDD), [fin] "r"(fin) : "cc");
                if (k) {   /* equal: store ECX:EBX, ZF = 1 */
                    if (!(f & ZF) || q != 0xCCCCDDDDAAAABBBBull || l != lo || h != hi) { DETAIL("cmpxchg8b equal"); ok = 0; }
                } else {   /* different: load into EDX:EAX, ZF = 0 */
                    if ((f & ZF) || q != 0x1122334455667788ull || l != 0x55667788 || h != 0x11223344) { DETAIL("cmpxchg8b differ"); ok = 0; }
                }
                if ((f & (CF | SF | OF | AF | PF)) != (CF | SF)) { DETAIL("cmpxchg8b changed other flags f=0x%x", f); ok = 0; }
            }
        }
    }
    report("cmpxchg8b", ok);

    /* SETcc and CMOVcc for every combination of CF PF ZF SF OF */
    ok = 1;
    for (u32 combo = 0; combo < 32; combo++) {
        u32 fin = 0x2 | ((combo & 1) ? CF : 0) | ((combo & 2) ? PF : 0) | ((combo & 4) ? ZF : 0) |
                  ((combo & 8) ? SF : 0) | ((combo & 16) ? OF : 0);
        u32 cf = !!(fin & CF), pf = !!(fin & PF), zf = !!(fin & ZF), sf = !!(fin & SF), of = !!(fin & OF);
        u32 want = 0;
        u32 conds[16] = { of, !of, cf, !cf, zf, !zf, cf | zf, !(cf | zf), sf, !sf, pf, !pf, sf != of, sf == of,
                          zf | (sf != of), !zf && sf == of };
        for (int i = 0; i < 16; i++) want |= conds[i] << i;
        u32 set = 0, mov = 0;
#define SETCC(cc, bit) { u32 b; __asm__ volatile("pushl %[fin]\n\tpopfl\n\tset" cc " %b[b]" : [b] "=q"(b) : [fin] "r"(fin) : "cc"); set |= (b & 1) << bit; }
#define CMOVCC(cc, bit) { u32 b = 0; __asm__ volatile("pushl %[fin]\n\tpopfl\n\tcmov" cc "l %[one], %[b]" : [b] "+r"(b) : [one] "r"(1), [fin] "r"(fin) : "cc"); mov |= b << bit; }
        SETCC("o", 0) SETCC("no", 1) SETCC("b", 2) SETCC("ae", 3) SETCC("e", 4) SETCC("ne", 5) SETCC("be", 6) SETCC("a", 7)
        SETCC("s", 8) SETCC("ns", 9) SETCC("p", 10) SETCC("np", 11) SETCC("l", 12) SETCC("ge", 13) SETCC("le", 14) SETCC("g", 15)
        CMOVCC("o", 0) CMOVCC("no", 1) CMOVCC("b", 2) CMOVCC("ae", 3) CMOVCC("e", 4) CMOVCC("ne", 5) CMOVCC("be", 6) CMOVCC("a", 7)
        CMOVCC("s", 8) CMOVCC("ns", 9) CMOVCC("p", 10) CMOVCC("np", 11) CMOVCC("l", 12) CMOVCC("ge", 13) CMOVCC("le", 14) CMOVCC("g", 15)
        if (set != want || mov != want) { DETAIL("flags=0x%x setcc=0x%x cmovcc=0x%x want=0x%x", fin, set, mov, want); ok = 0; break; }
    }
    report("setcc_cmovcc", ok);
}

void test_enter_leave(void) {
    u32 o[8], z[4];
    t_enter(o);
    u32 sp = o[0], fp = sp - 4;
    int ok = o[2] == fp && o[1] == sp - 20 && o[3] == (u32)&fake_frame[2] && o[4] == fake_frame[1] && o[5] == fp &&
             o[6] == (u32)&fake_frame[2] && o[7] == sp;
    if (!ok) DETAIL("level2 esp=-%u ebp=-%u words=0x%x,0x%x,0x%x", sp - o[1], sp - o[2], o[3], o[4], o[5]);
    t_enter0(z);
    if (z[2] != z[0] - 4 || z[1] != z[0] - 20 || z[3] != 0x13572468) { DETAIL("level0"); ok = 0; }
    report("enter_leave", ok);
}

/* ---------------------------------------------------------------- CPUID, RDTSC */

void test_cpuid_tsc(void) {
    u32 a, b, c, d;
    cpuid(0, &a, &b, &c, &d);
    if (a < 1) DETAIL("max leaf %u", a);
    report("cpuid_max_leaf", a >= 1);
    cpuid(1, &a, &b, &c, &d);
    const u32 need = (1u << 3) | (1u << 4) | (1u << 8) | (1u << 15);   /* PSE TSC CX8 CMOV: what the kernel uses */
    if ((d & need) != need) DETAIL("missing 0x%x", need & ~d);
    report("cpuid_features", (d & need) == need);
    u64 t0 = rdtsc();
    for (volatile int i = 0; i < 1000; i++) {}
    u64 t1 = rdtsc();
    u64 t2 = rdtsc();
    report("rdtsc_increases", t1 > t0 && t2 >= t1);
}

/* ---------------------------------------------------------------- exceptions of the running ring (CPL 0 on a PC) */

int expect(const char *what, u32 at, u32 vector, u32 err, u32 eip) {
    if (frec.count == 1 && frec.vector == vector && frec.err == err && frec.eip == eip) return 1;
    DETAIL("%s: got count=%u vector=%u err=0x%x eip=0x%x; want vector=%u err=0x%x eip=0x%x (insn 0x%x)", what,
           frec.count, frec.vector, frec.err, frec.eip, vector, err, eip, at);
    expect_armed = 0;
    fixup_eip = 0;
    return 0;
}

void test_exceptions(void) {
    u32 at, after;
    ARM(); FAULT_AT(at, "xorl %%edx, %%edx\n\tmovl $7, %%eax\n\txorl %%ecx, %%ecx", "divl %%ecx", "eax", "ecx", "edx");
    report("de_divide_by_zero", expect("div 0", at, 0, 0, at));
    ARM(); FAULT_AT(at, "movl $2, %%edx\n\txorl %%eax, %%eax\n\tmovl $2, %%ecx", "divl %%ecx", "eax", "ecx", "edx");
    report("de_quotient_overflow", expect("div overflow", at, 0, 0, at));
    ARM(); FAULT_AT(at, "movl $-1, %%edx\n\tmovl $0x80000000, %%eax\n\tmovl $-1, %%ecx", "idivl %%ecx", "eax", "ecx", "edx");
    report("de_idiv_overflow", expect("idiv overflow", at, 0, 0, at));
    ARM(); FAULT_AT(at, "movl $0x1000, %%eax\n\tmovl $0x10, %%ecx", "divb %%cl", "eax", "ecx");
    report("de_div8_overflow", expect("divb overflow", at, 0, 0, at));
    ARM(); FAULT_AT(at, "", "ud2");
    report("ud_ud2", expect("ud2", at, 6, 0, at));
    /* INT3 and INTO are traps: the saved EIP follows the instruction */
    ARM();
    __asm__ volatile("movl $2f, %[af]\n\tmovl $0, fixup_eip\n1:\tint3\n2:\n" : [af] "=m"(after) : : "memory");
    report("bp_int3", expect("int3", after, 3, 0, after));
    ARM();
    __asm__ volatile("movl $2f, %[af]\n\tmovl $0, fixup_eip\n\tmovl $0x7FFFFFFF, %%eax\n\taddl $1, %%eax\n1:\tinto\n2:\n"
                     : [af] "=m"(after) : : "eax", "memory", "cc");
    report("of_into", expect("into", after, 4, 0, after));
    {
        static i32 bounds[2] = { 10, 20 };
        ARM();
        __asm__ volatile("movl $1f, %[at]\n\tmovl $2f, fixup_eip\n1:\tboundl %[v], %[b]\n2:\n"
                         : [at] "=m"(at) : [v] "r"(21), [b] "m"(bounds) : "memory");
    }
    report("br_bound", expect("bound", at, 5, 0, at));

    /* #GP(selector) for bad segment loads: beyond the GDT limit, a system segment, execute-only code into DS,
       RPL != CPL into SS, read-only data into SS; null into SS at CPL 0 is #GP(0) */
    ARM(); FAULT_AT(at, "movl $0x100, %%eax", "movw %%ax, %%ds", "eax");
    report("gp_selector_beyond_limit", expect("ds<-0x100", at, 13, 0x100, at));
    ARM(); FAULT_AT(at, "movl $0x28, %%eax", "movw %%ax, %%ds", "eax");
    report("gp_selector_system_segment", expect("ds<-tss", at, 13, 0x28, at));
    ARM(); FAULT_AT(at, "movl $0x38, %%eax", "movw %%ax, %%ds", "eax");
    report("gp_selector_execute_only", expect("ds<-xonly", at, 13, 0x38, at));
    ARM(); FAULT_AT(at, "movl $0x23, %%eax", "movw %%ax, %%ss", "eax");
    report("gp_selector_ss_rpl", expect("ss<-0x23", at, 13, 0x20, at));
    ARM(); FAULT_AT(at, "movl $0x40, %%eax", "movw %%ax, %%ss", "eax");
    report("gp_selector_ss_readonly", expect("ss<-ronly", at, 13, 0x40, at));
    ARM(); FAULT_AT(at, "xorl %%eax, %%eax", "movw %%ax, %%ss", "eax");
    report("gp_selector_ss_null", expect("ss<-0", at, 13, 0, at));
}

/* The instruction checks, run with interrupts (events) off: they load EFLAGS with IF = 0. */
void test_instructions(void) {
    test_alu_flags();
    test_muldiv();
    test_bcd();
    test_strings();
    test_bits();
    test_atomics();
}

/* ---------------------------------------------------------------- CPL 3 */

u32 ucall(void (*fn)(void), u32 arg) {
    frec.count = 0;
    frec.vector = 0xFFFFFFFFu;
    expect_armed = 1;
    u32 r = user_call(fn, uc_stack_top, arg);
    expect_armed = 0;
    return r;
}

int ufault(const char *what, void (*fn)(void), u32 arg, u32 vector, u32 err, u32 eip) {
    u32 r = ucall(fn, arg);
    if (r == UC_FAULTED && frec.count == 1 && frec.vector == vector && frec.err == err && frec.eip == eip &&
        (frec.cs & 3) == 3)
        return 1;
    DETAIL("%s: ret=0x%x count=%u vector=%u err=0x%x eip=0x%x cs=0x%x; want vector=%u err=0x%x eip=0x%x", what, r,
           frec.count, frec.vector, frec.err, frec.eip, frec.cs, vector, err, eip);
    return 0;
}

/* Privilege changes and sensitive-but-unprivileged instructions at CPL 3 (Robin & Irvine): the selftest and
   lab:robin-irvine run these */
void test_ring3_sensitive(void) {
    u32 r;
    int ok;
    /* a DPL 0 gate from CPL 3: #GP with error code (vector << 3) | 2 (IDT bit) */
    report("ring3_int_dpl0_gate_gp", ufault("int 0x20", u_int20, 0, 13, (0x20 << 3) | 2, (u32)u_int20));
    report("ring3_int3_dpl0_gate_gp", ufault("int3", u_int3, 0, 13, (3 << 3) | 2, (u32)u_int3));

    /* int 0x81 (DPL 3): the frame lands on TSS.ESP0 (EIP slot at ESP0 - 20, no error code); IRET goes back
       to CPL 3, and the snippet returns its CPL */
    test3_frame = 0;
    r = ucall(u_int81, 0);
    ok = r == 3 && test3_frame == test3_esp0 - 20 && test3_words[0] == (u32)u_int81_after && test3_words[1] == SEL_UCODE &&
         test3_words[3] == test3_words[5] && test3_words[4] == SEL_UDATA && (test3_words[2] & EFLAGS_IF);
    if (!ok) DETAIL("ret=%u slot=esp0-%u eip=0x%x cs=0x%x esp=0x%x ss=0x%x", r, test3_esp0 - test3_frame, test3_words[0],
                    test3_words[1], test3_words[3], test3_words[4]);
    report("ring3_interrupt_tss_stack_and_iret", ok);

    /* POPF at CPL 3 with IOPL 0: IF and IOPL silently unchanged */
    r = ucall(u_popf, 0);
    ok = r != UC_FAULTED && (r & EFLAGS_IF) && !(r & 0x3000);
    if (!ok) DETAIL("eflags=0x%x", r);
    report("ring3_popf_if_iopl_unchanged", ok);

    r = ucall(u_lar, 0);
    if (r != 0x00C0FB02) DETAIL("got 0x%x want 0xc0fb02", r);
    report("ring3_lar_privilege", r == 0x00C0FB02);
}

/* What ring 3 may not do: each raises #GP(0), the exit system call comes back. */
void test_ring3_privileged(void) {
    u32 r = ucall(u_ret, 0x1234);
    report("ring3_syscall_exit", r == 0x1234 && frec.count == 0);

    report("ring3_cli_gp0", ufault("cli", u_cli, 0, 13, 0, (u32)u_cli));
    report("ring3_hlt_gp0", ufault("hlt", u_hlt, 0, 13, 0, (u32)u_hlt));
    report("ring3_mov_cr3_gp0", ufault("mov cr3", u_movcr3, 0, 13, 0, (u32)u_movcr3));
    report("ring3_lgdt_gp0", ufault("lgdt", u_lgdt, 0, 13, 0, (u32)u_lgdt));
    report("ring3_wbinvd_gp0", ufault("wbinvd", u_wbinvd, 0, 13, 0, (u32)u_wbinvd));
    report("ring3_in_iopl0_gp0", ufault("in", u_in, 0, 13, 0, (u32)u_in));
    report("ring3_out_iopl0_gp0", ufault("out", u_out, 0, 13, 0, (u32)u_out));
    /* the frame of a fault with an error code: EIP at the ring-0 stack's top - 20, the error code below it */
    ucall(u_cli, 0);
    u32 esp0 = ring3_trap_stack();
    int ok = frec.frame_addr == esp0 - 20;
    if (!ok) DETAIL("eip slot at esp0-%u", esp0 - frec.frame_addr);
    report("ring3_fault_frame_on_tss_esp0", ok);
}

/* ---------------------------------------------------------------- paging: the kernel maps, the CPU checks */

#define PAGE(n) (test_base + (n) * 4096)

static u32 peek(u32 va) { return *(volatile u32 *)va; }

/* A MOV to CR0 at label 1; a fault there resumes at label 2 (a PV kernel's is Xen's to emulate or refuse). */
#define MOV_CR0_AT(at, v) \
    __asm__ volatile("movl $1f, %[at]\n\tmovl $2f, fixup_eip\n1:\tmovl %[val], %%cr0\n2:\n" : [at] "=m"(at) : [val] "r"(v) : "memory")

/* #PF error code: P (bit 0) = protection violation, W/R (bit 1) = write, U/S (bit 2) = CPL 3 (SDM 4.7); the
   kernel's ring is supervisor. Pages of the scratch region at test_base, mapped through the kernel's hooks. */
void test_paging_kernel(u32 test_base) {
    u32 at;
    test_frame_write(0, 0, 0x11111111);
    test_frame_write(1, 0, 0x22222222);

    ARM(); FAULT_ADDR(at, "movl (%%ecx), %%eax", PAGE(1) + 0x10);
    int ok = expect("read", at, 14, 0, at) && frec.cr2 == PAGE(1) + 0x10;
    if (ok == 0 && !check_detail[0]) DETAIL("cr2=0x%x", frec.cr2);
    report("pf_read_not_present", ok);

    ARM(); FAULT_ADDR(at, "movl $1, (%%ecx)", PAGE(1) + 0xFFC);
    ok = expect("write", at, 14, 2, at) && frec.cr2 == PAGE(1) + 0xFFC;
    if (ok == 0 && !check_detail[0]) DETAIL("cr2=0x%x", frec.cr2);
    report("pf_write_not_present", ok);

    scratch_map(2, 0, PTE_P);                 /* read-only, supervisor */
    tlb_invlpg(PAGE(2));
    ARM(); FAULT_ADDR(at, "movl $1, (%%ecx)", PAGE(2) + 8);
    ok = expect("write ro", at, 14, 3, at) && frec.cr2 == PAGE(2) + 8 && peek(PAGE(2)) == 0x11111111;
    if (ok == 0 && !check_detail[0]) DETAIL("cr2=0x%x", frec.cr2);
    report("pf_supervisor_write_read_only_wp1", ok);

    /* CR0.WP = 0: supervisor writes ignore R/W. Each step may fault (Xen lets a PV kernel change only CR0.TS) */
    u32 cr0 = read_cr0(), gp[3], pf[3];
    ARM(); MOV_CR0_AT(at, cr0 & ~0x10000u);
    gp[0] = frec.count; gp[1] = frec.vector; gp[2] = frec.err;
    ARM(); FAULT_ADDR(at, "movl $0x33, (%%ecx)", PAGE(2) + 4);
    pf[0] = frec.count; pf[1] = frec.vector; pf[2] = frec.err;
    ARM(); MOV_CR0_AT(at, cr0 | 0x10000u);
    expect_armed = 0;
    fixup_eip = 0;
    ok = test_frame_read(0, 4) == 0x33;
    if (!ok) DETAIL("mov to cr0 (WP=0): faults=%u vector=%u err=0x%x; the write then: faults=%u vector=%u err=0x%x", gp[0],
                    gp[1], gp[2], pf[0], pf[1], pf[2]);
    report("wp0_supervisor_write_read_only", ok);

    /* Accessed and Dirty: the CPU sets A on the PDE and PTE on a read, D on the PTE on a write */
    scratch_map(5, 1, PTE_P | PTE_W);
    scratch_pde_clear_accessed();
    tlb_reload();
    u32 pte0 = scratch_pte(5);
    (void)peek(PAGE(5));
    u32 pte1 = scratch_pte(5), pde1 = scratch_pde();
    *(volatile u32 *)(PAGE(5) + 12) = 5;
    u32 pte2 = scratch_pte(5);
    ok = !(pte0 & (PTE_A | PTE_D)) && (pte1 & (PTE_A | PTE_D)) == PTE_A && (pde1 & PTE_A) && (pte2 & (PTE_A | PTE_D)) == (PTE_A | PTE_D);
    if (!ok) DETAIL("pte before=0x%x after read=0x%x pde=0x%x after write=0x%x", pte0, pte1, pde1, pte2);
    report("accessed_dirty_bits", ok);

    /* INVLPG makes a changed PTE visible; so does MOV CR3 for a non-global entry */
    scratch_map(6, 0, PTE_P | PTE_W);
    tlb_invlpg(PAGE(6));
    u32 v0 = peek(PAGE(6));
    scratch_map(6, 1, PTE_P | PTE_W);
    tlb_invlpg(PAGE(6));
    u32 v1 = peek(PAGE(6));
    ok = v0 == 0x11111111 && v1 == 0x22222222;
    if (!ok) DETAIL("before=0x%x after=0x%x", v0, v1);
    report("invlpg", ok);
    scratch_map(7, 0, PTE_P | PTE_W);
    tlb_invlpg(PAGE(7));
    v0 = peek(PAGE(7));
    scratch_map(7, 1, PTE_P | PTE_W);
    tlb_reload();
    v1 = peek(PAGE(7));
    ok = v0 == 0x11111111 && v1 == 0x22222222;
    if (!ok) DETAIL("before=0x%x after=0x%x", v0, v1);
    report("mov_cr3_flushes_tlb", ok);
    scratch_map(6, 0, 0);                     /* a freshly unmapped page faults after INVLPG */
    tlb_invlpg(PAGE(6));
    ARM(); FAULT_ADDR(at, "movl (%%ecx), %%eax", PAGE(6));
    report("invlpg_unmap_faults", expect("read unmapped", at, 14, 0, at));
}

/* Page faults from CPL 3: page 10 not present, 11 user read-only, 12 supervisor, 13 user writable. */
void test_user_paging(u32 test_base) {
    scratch_map(10, 0, 0);
    scratch_map(11, 0, PTE_P | PTE_U);
    scratch_map(12, 1, PTE_P | PTE_W);
    scratch_map(13, 2, PTE_P | PTE_W | PTE_U);
    tlb_reload();
    test_user_page_faults(test_base);
    u32 r = ucall(u_write, PAGE(13) + 4);
    int ok = r == 0 && test_frame_read(2, 4) == 0x5A5A5A5A && (scratch_pte(13) & (PTE_A | PTE_D)) == (PTE_A | PTE_D);
    if (!ok) DETAIL("ret=0x%x pte=0x%x", r, scratch_pte(13));
    report("user_write_user_page", ok);
}

/* Page faults from CPL 3 on the scratch pages at test_base the kernel mapped: page 10 not present, 11 user
   read-only, 12 supervisor (SDM 4.7: the error code's U/S bit says CPL 3). */
void test_user_page_faults(u32 test_base) {
    int ok = ufault("read np", u_read, PAGE(10) + 4, 14, 4, (u32)u_read_insn) && frec.cr2 == PAGE(10) + 4;
    if (!ok && !check_detail[0]) DETAIL("cr2=0x%x", frec.cr2);
    report("pf_user_read_not_present", ok);
    ok = ufault("write ro", u_write, PAGE(11) + 8, 14, 7, (u32)u_write_insn) && frec.cr2 == PAGE(11) + 8;
    if (!ok && !check_detail[0]) DETAIL("cr2=0x%x", frec.cr2);
    report("pf_user_write_read_only", ok);
    ok = ufault("read sup", u_read, PAGE(12), 14, 5, (u32)u_read_insn) && frec.cr2 == PAGE(12);
    if (!ok && !check_detail[0]) DETAIL("cr2=0x%x", frec.cr2);
    report("pf_user_read_supervisor", ok);
    ok = ufault("write sup", u_write, PAGE(12) + 16, 14, 7, (u32)u_write_insn) && frec.cr2 == PAGE(12) + 16;
    if (!ok && !check_detail[0]) DETAIL("cr2=0x%x", frec.cr2);
    report("pf_user_write_supervisor", ok);
    ok = ufault("fetch np", u_jump, PAGE(10) + 0x20, 14, 4, PAGE(10) + 0x20) && frec.cr2 == PAGE(10) + 0x20;
    if (!ok && !check_detail[0]) DETAIL("cr2=0x%x", frec.cr2);
    report("pf_user_fetch_not_present", ok);
}

/* ---------------------------------------------------------------- descriptor tables, call gates */

/* LAR, LSL, VERR, VERW over the lab GDT; SGDT and SIDT show the kernel's own tables, at gdt_base and idt_base; SMSW
   shows CR0, STR the kernel's TSS. */
void test_descriptors(u32 gdt_base, u32 idt_base) {
    struct lar_probe a;
    int ok = lar_as_loaded(&a);
    if (!ok) DETAIL("kcode=%u/0x%x tss=%u/0x%x limit=%u/0x%x null=%u beyond=%u udata=%u/0x%x", a.z[0], a.a[0], a.z[1],
                    a.a[1], a.z[2], a.a[2], a.z[3], a.z[4], a.z[5], a.a[5]);
    report("lar", ok);
    struct lsl_probe l;
    ok = lsl_as_loaded(&l, sizeof(struct tss) - 1);
    if (!ok) DETAIL("kcode=%u/0x%x tss=%u/0x%x limit=%u/0x%x null=%u", l.z[0], l.l[0], l.z[1], l.l[1], l.z[2], l.l[2],
                    l.z[3]);
    report("lsl", ok);
    u32 v = verr_verw_bits();
    if (v != VERR_VERW_WANT) DETAIL("got 0x%x want 0x4d", v);
    report("verr_verw", v == VERR_VERW_WANT);

    struct { u16 limit; u32 base; } __attribute__((packed)) g, i;
    __asm__ volatile("sgdt %0" : "=m"(g));
    __asm__ volatile("sidt %0" : "=m"(i));
    ok = g.limit == sizeof(u64) * GDT_ENTRIES - 1 && g.base == gdt_base && i.limit == 256 * 8 - 1 && i.base == idt_base;
    if (!ok) DETAIL("gdt %x/%x idt %x/%x", g.base, g.limit, i.base, i.limit);
    report("sgdt_sidt", ok);
    u32 msw, tr;
    __asm__ volatile("smsw %0" : "=r"(msw));
    __asm__ volatile("str %0" : "=r"(tr));
    ok = (msw & 0xFFFF) == (read_cr0() & 0xFFFF) && (tr & 0xFFFF) == SEL_TSS;
    if (!ok) DETAIL("msw=0x%x cr0=0x%x tr=0x%x", msw & 0xFFFF, read_cr0(), tr & 0xFFFF);
    report("smsw_str", ok);
}

/* A call gate from CPL 3 to ring 0 and back (SDM 5.8.5, 5.8.6): the ring-0 routine runs on TSS.ESP0 with the
   caller's SS, ESP, the copied parameter, CS and EIP; RET 4 returns to CPL 3 releasing the parameter on both
   stacks. */
void test_call_gate(void) {
    gdt_set(SEL_CALLGATE, gate_desc((u32)t_gate_target, 0xEC) | 1ull << 32);   /* 32-bit, DPL 3, 1 parameter */
    u32 r = ucall(u_callgate, 0);
    u32 esp0 = ring3_trap_stack();
    int ok = gate_rec[0] == 0 && gate_rec[1] == esp0 - 20 && gate_rec[2] == (u32)u_callgate_ret &&
             gate_rec[3] == SEL_UCODE && gate_rec[4] == 0xABCD && gate_rec[5] == uc_stack_top - 4 &&
             gate_rec[6] == SEL_UDATA;
    if (!ok) DETAIL("cpl=%u esp=esp0-%u eip=0x%x cs=0x%x param=0x%x esp=0x%x ss=0x%x", gate_rec[0], esp0 - gate_rec[1],
                    gate_rec[2], gate_rec[3], gate_rec[4], gate_rec[5], gate_rec[6]);
    report("callgate_ring3_to_ring0_frame", ok);
    if (r != 0x13) DETAIL("ret=0x%x (CPL | 0x10 when ESP is balanced)", r);
    report("callgate_ret_to_ring3", r == 0x13);
}

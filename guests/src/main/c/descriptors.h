/* The lab GDT's selectors and the descriptor instructions Robin & Irvine list (LAR, LSL, VERR, VERW), shared by
   the lab kernel and its PV port, which installs the same GDT through set_gdt. Also serves the .S files. */
#ifndef DESCRIPTORS_H
#define DESCRIPTORS_H

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23
#define SEL_TSS   0x28
#define SEL_TEST_LIMIT 0x30   /* data, DPL 0, byte granular, limit 0x1234 */
#define SEL_TEST_XONLY 0x38   /* execute-only code, DPL 0 */
#define SEL_TEST_RONLY 0x40   /* read-only data, DPL 0 */
#define SEL_CALLGATE   0x48   /* selftest: 32-bit call gate, DPL 3, one parameter, to a ring-0 routine */
#define SEL_TASK       0x50   /* selftest: TSS of a test task */
#define SEL_TASKGATE   0x58   /* selftest: task gate to SEL_TASK */
#define SEL_DFTASK     0x60   /* selftest: TSS of the #DF handler task (IDT vector 8 is a task gate to it) */
#define SEL_BADTSS     0x68   /* selftest: a TSS descriptor whose limit is below 67H */
#define GDT_ENTRIES 14

#ifndef __ASSEMBLER__
#define DESC_ZF 0x40

static inline unsigned int lar(unsigned int sel, unsigned int *zf) {
    unsigned int r = 0xFFFFFFFF, f;
    __asm__ volatile("larl %[s], %[r]\n\tpushfl\n\tpopl %[f]" : [r] "+r"(r), [f] "=r"(f) : [s] "r"(sel) : "cc");
    *zf = !!(f & DESC_ZF);
    return r;
}

static inline unsigned int lsl(unsigned int sel, unsigned int *zf) {
    unsigned int r = 0xFFFFFFFF, f;
    __asm__ volatile("lsll %[s], %[r]\n\tpushfl\n\tpopl %[f]" : [r] "+r"(r), [f] "=r"(f) : [s] "r"(sel) : "cc");
    *zf = !!(f & DESC_ZF);
    return r;
}

static inline unsigned int verr(unsigned int sel) {
    unsigned int f;
    __asm__ volatile("verr %w[s]\n\tpushfl\n\tpopl %[f]" : [f] "=r"(f) : [s] "r"(sel) : "cc");
    return !!(f & DESC_ZF);
}

static inline unsigned int verw(unsigned int sel) {
    unsigned int f;
    __asm__ volatile("verw %w[s]\n\tpushfl\n\tpopl %[f]" : [f] "=r"(f) : [s] "r"(sel) : "cc");
    return !!(f & DESC_ZF);
}

/* VERR/VERW over the lab GDT, a bit each; 0x4D when the kernel's code, data and test selectors check as loaded. */
#define VERR_VERW_WANT 0x4D
static inline unsigned int verr_verw_bits(void) {
    return verr(SEL_KCODE) | verw(SEL_KCODE) << 1 | verr(SEL_KDATA) << 2 | verw(SEL_KDATA) << 3 |
           verr(SEL_TEST_XONLY) << 4 | verw(SEL_TEST_XONLY) << 5 | verr(SEL_TEST_RONLY) << 6 |
           verw(SEL_TEST_RONLY) << 7 | verr(SEL_TSS) << 8 | verr(0) << 9 | verr(0x100) << 10;
}

/* LAR keeps dword 2 of the descriptor masked by 00FxFF00H; bits 19:16 are left out of the compare. */
struct lar_probe { unsigned int z[6], a[6]; };
static inline int lar_as_loaded(struct lar_probe *p) {
    static const unsigned short sel[6] = { SEL_KCODE, SEL_TSS, SEL_TEST_LIMIT, 0, 0x100, SEL_UDATA };
    for (int i = 0; i < 6; i++) {
        p->a[i] = lar(sel[i], &p->z[i]);
        if (p->z[i]) p->a[i] &= 0x00F0FF00;
    }
    return p->z[0] && p->a[0] == 0x00C09B00 && p->z[1] && p->a[1] == 0x00008B00 && p->z[2] && p->a[2] == 0x00409300 &&
           !p->z[3] && p->a[3] == 0xFFFFFFFF && !p->z[4] && p->a[4] == 0xFFFFFFFF && p->z[5] && p->a[5] == 0x00C0F300;
}

struct lsl_probe { unsigned int z[4], l[4]; };
static inline int lsl_as_loaded(struct lsl_probe *p, unsigned int tss_limit) {
    static const unsigned short sel[4] = { SEL_KCODE, SEL_TSS, SEL_TEST_LIMIT, 0 };
    for (int i = 0; i < 4; i++) p->l[i] = lsl(sel[i], &p->z[i]);
    return p->z[0] && p->l[0] == 0xFFFFFFFF && p->z[1] && p->l[1] == tss_limit && p->z[2] && p->l[2] == 0x1234 &&
           !p->z[3] && p->l[3] == 0xFFFFFFFF;
}
#endif

#endif

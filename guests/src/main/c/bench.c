/* The Adams & Agesen (ASPLOS 2006) nanobenchmarks, forkwait and compute. Each prints one "result" line; only
   fields ending in "cycles" or "ticks" depend on time. */
#include "lab.h"
#include "user.h"
#include "callret.h"

/* The CRC every compute iteration must produce (each iteration starts from the same seeds). */
#define COMPUTE_ITER_CRC 0x291Au

extern u32 test_pt[1024];
extern u32 bench_pf_frame;

static int bench_syscall(u32 n) {
    u32 st;
    proc_spawn_and_wait(user_syscall_bench, n, 0, &st);
    u64 cycles = ((u64)report_vals[1] << 32) | report_vals[0];
    print_result("syscall", n, cycles, NULL);
    return st == 0 ? 0 : 1;
}

/* IN from the master PIC's interrupt mask register: a real device register on every PC, value known (0xFE). */
static int bench_in(u32 n) {
    u32 v = 0, bad = 0;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) {
        __asm__ volatile("inb $0x21, %%al" : "=a"(v) : "0"(0) : "memory");
        bad |= v ^ 0xFE;
    }
    u64 t = rdtsc() - t0;
    print_result("in", n, t, " port=0x21");
    if (bad) kprintf("in: FAIL read 0x%x, expected 0xfe\n", v);
    return bad ? 1 : 0;
}

/* Write the local APIC task-priority register (CR8 on x86-64 is the same register). */
static int bench_cr8wr(u32 n) {
    volatile u32 *tpr = (volatile u32 *)(LAPIC_BASE + 0x80);
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) *tpr = (i & 1) << 4;
    *tpr = 0;
    u64 t = rdtsc() - t0;
    print_result("cr8wr", n, t, NULL);
    return 0;
}

static int bench_callret(u32 n) {
    u64 t0 = rdtsc();
    u32 count = callret_loop(n);
    u64 t = rdtsc() - t0;
    print_result("callret", count, t, NULL);
    return 0;
}

/* Touch a not-present page at CPL 0; the #PF handler maps it and returns. Every 1024 pages the scratch
   table is emptied again and CR3 reloaded. */
static int bench_pgfault(u32 n) {
    bench_pf_frame = alloc_frame();
    memset(test_pt, 0, sizeof(u32) * 1024);
    write_cr3(read_cr3());
    u32 sum = 0;
    bench_pf_active = 1;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) {
        u32 slot = i & 1023;
        if (slot == 0 && i) {
            for (int j = 0; j < 1024; j++) test_pt[j] = 0;
            write_cr3(read_cr3());
        }
        sum += *(volatile u32 *)(TEST_BASE + slot * 4096);
    }
    u64 t = rdtsc() - t0;
    bench_pf_active = 0;
    memset(test_pt, 0, sizeof(u32) * 1024);
    write_cr3(read_cr3());
    free_frame(bench_pf_frame);
    print_result("pgfault", n, t, NULL);
    return sum == 0 ? 0 : 1;
}

/* DIV by zero at CPL 0; the #DE handler adds the DIV's length (2 bytes) to EIP. */
static int bench_divzero(u32 n) {
    u32 done = 0;
    bench_de_skip = 2;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) {
        __asm__ volatile("xorl %%edx, %%edx\n"
                         "movl $1, %%eax\n"
                         "xorl %%ecx, %%ecx\n"
                         ".byte 0xF7, 0xF1\n"        /* divl %ecx: 2 bytes */
                         "incl %0\n"
                         : "+r"(done) : : "eax", "ecx", "edx", "cc");
    }
    u64 t = rdtsc() - t0;
    bench_de_skip = 0;
    print_result("divzero", n, t, NULL);
    return done == n ? 0 : 1;
}

/* Store to a PTE of the current address space, then INVLPG it. */
static int bench_ptemod(u32 n) {
    u32 f0 = alloc_frame(), f1 = alloc_frame();
    *(u32 *)f0 = 0;
    *(u32 *)f1 = 1;
    volatile u32 *pte = &test_pt[0];
    *pte = f0 | PTE_P | PTE_W;
    invlpg(TEST_BASE);
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) {
        *pte = ((i & 1) ? f1 : f0) | PTE_P | PTE_W;
        invlpg(TEST_BASE);
    }
    u64 t = rdtsc() - t0;
    u32 last = *(volatile u32 *)TEST_BASE;   /* the mapping the last store installed */
    *pte = 0;
    invlpg(TEST_BASE);
    free_frame(f0);
    free_frame(f1);
    print_result("ptemod", n, t, NULL);
    return last == ((n - 1) & 1) ? 0 : 1;
}

static int bench_forkwait(u32 n) {
    u32 st;
    u64 t0 = rdtsc();
    proc_spawn_and_wait(user_forkwait, n, 0, &st);
    u64 t = rdtsc() - t0;
    print_result("forkwait", n, t, NULL);
    if (st) kprintf("forkwait: FAIL %u errors\n", report_vals[0]);
    return st == 0 ? 0 : 1;
}

static int bench_compute(u32 n) {
    u32 st;
    proc_spawn_and_wait(user_compute, n, 4, &st);
    u64 cycles = ((u64)report_vals[1] << 32) | report_vals[0];
    u32 iter_crc = report_vals[2] >> 16, checksum = report_vals[2] & 0xFFFF;
    char extra[64];
    snfmt(extra, sizeof extra, " checksum=0x%04x", checksum);
    print_result("compute", n, cycles, extra);
    int ok = st == 0 && iter_crc == COMPUTE_ITER_CRC;
    kprintf("compute: iteration_crc=0x%04x expected=0x%04x %s\n", iter_crc, COMPUTE_ITER_CRC, ok ? "OK" : "FAIL");
    return ok ? 0 : 1;
}

struct bench { const char *name; int (*run)(u32); u32 dflt; };
static const struct bench benches[] = {
    { "syscall", bench_syscall, 100000 },
    { "in", bench_in, 100000 },
    { "cr8wr", bench_cr8wr, 100000 },
    { "callret", bench_callret, 1000000 },
    { "pgfault", bench_pgfault, 20000 },
    { "divzero", bench_divzero, 20000 },
    { "ptemod", bench_ptemod, 100000 },
    { "forkwait", bench_forkwait, 500 },
    { "compute", bench_compute, 150 },
};

int bench_main(const char *name) {
    for (u32 i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        if (strcmp(name, benches[i].name)) continue;
        u32 n = opt_u32("iterations", benches[i].dflt);
        return benches[i].run(n);
    }
    return -1;
}

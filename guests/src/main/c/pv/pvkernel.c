/* The PV lab kernel (lab-pv): the lab kernel's workloads on Xen's x86_32 PV interface. No privileged instruction:
   console, traps, stacks and shutdown go through hypercalls (../shared/reference/xen-pv-abi.md). */
#include "pv.h"
#include "../callret.h"
#include "../descriptors.h"

#include "../syscalls.h"

#define TEST_BASE PV_TEST_BASE

extern char kstack_top[];
extern void syscall_return(void);
void swtch(u32 *save_esp, u32 new_esp);          /* ../swtch.S */
void user_forkwait(u32 iterations), user_compute(u32 iterations);   /* native's ring-3 programs (user_*.c) */
extern void syscall_entry(void), fault_entry_noerr(void), fault_entry_err(void), divide_entry(void),
    page_fault_entry(void), event_entry(void), int81_entry(void);
extern char shared_info_page[];
u32 user_call(void (*fn)(void), u32 user_esp, u32 arg);
extern char __user_start[], __user_end[];
extern void u_read(void), u_read_insn(void), u_write(void), u_write_insn(void);   /* native's utests.S */
void user_hello(u32 arg), user_syscall_bench(u32 iterations);
void user_return(u32 value) __attribute__((noreturn));

struct start_info *si;
struct shared_info *shared;
static u32 timer_port;
static volatile u32 timer_ticks;
static volatile u32 peer_port, peer_events;     /* the interdomain channel of ping and pong */

static u32 strlen(const char *s) { u32 n = 0; while (s[n]) n++; return n; }

static void puts(const char *s) { hypercall3(HYPERVISOR_console_io, CONSOLEIO_write, strlen(s), (u32)s); }

void console_write(const char *s) { puts(s); }

/* u64 by u32 with two DIVs (no libgcc): the high half first, its remainder carried into the low half. */
static u64 divide(u64 n, u32 d, u32 *rem) {
    u32 hi = (u32)(n >> 32), lo = (u32)n, qhi = hi / d, r = hi % d, qlo;
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    if (rem) *rem = r;
    return (u64)qhi << 32 | qlo;
}

static void put_dec(u64 v) {
    char buf[24];
    int n = 23;
    buf[n] = 0;
    do { u32 digit; v = divide(v, 10, &digit); buf[--n] = (char)('0' + digit); } while (v);
    puts(buf + n);
}

static u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return (u64)hi << 32 | lo; }

static void print_result(const char *workload, u32 iterations, u64 cycles, const char *extra) {
    puts("result workload=");
    puts(workload);
    puts(" iterations=");
    put_dec(iterations);
    puts(" total_cycles=");
    put_dec(cycles);
    puts(" per_op_cycles=");
    put_dec(divide(cycles, iterations ? iterations : 1, 0));
    puts(extra ? extra : "");
    puts("\n");
}

static void put_hex(u32 v) {
    char buf[11] = "0x";
    int n = 2, started = 0;
    for (int shift = 28; shift >= 0; shift -= 4) {
        u32 d = (v >> shift) & 15;
        if (d || started || shift == 0) { buf[n++] = "0123456789abcdef"[d]; started = 1; }
    }
    buf[n] = 0;
    puts(buf);
}

static void shutdown(u32 reason) __attribute__((noreturn));
static void shutdown(u32 reason) {
    u32 arg[1] = { reason };
    hypercall3(HYPERVISOR_sched_op, SCHEDOP_shutdown, (u32)arg, 0);
    for (;;) {}
}

static void panic(const char *why) __attribute__((noreturn));
static void panic(const char *why) {
    puts("PANIC ");
    puts(why);
    puts("\n");
    shutdown(SHUTDOWN_crash);
}

/* ---- events: the upcall scans the two-level pending bitmaps (Mini-OS's scheme, section 11) ---- */

void pv_events(void) {
    struct vcpu_info *v = &shared->vcpu[0];
    v->upcall_pending = 0;
    u32 words = __atomic_exchange_n(&v->pending_sel, 0, __ATOMIC_SEQ_CST);
    while (words) {
        u32 w = __builtin_ctz(words);
        words &= words - 1;
        u32 bits = shared->evtchn_pending[w] & ~shared->evtchn_mask[w];
        while (bits) {
            u32 b = __builtin_ctz(bits);
            bits &= bits - 1;
            __atomic_and_fetch(&shared->evtchn_pending[w], ~(1u << b), __ATOMIC_SEQ_CST);
            if (w * 32 + b == timer_port) timer_ticks++;
            if (peer_port && w * 32 + b == peer_port) peer_events++;
        }
    }
    v->upcall_mask = 0;   /* the IRET cannot restore the virtual IF: events on again by hand */
}

/* Events on: clear the mask, then take what arrived meanwhile (any hypercall delivers a pending upcall). */
void events_on(void) {
    shared->vcpu[0].upcall_mask = 0;
    if (shared->vcpu[0].upcall_pending) hypercall3(HYPERVISOR_xen_version, 0, 0, 0);
}

static void events_init(void) {
    long r = hypercall4(HYPERVISOR_update_va_mapping, (u32)shared_info_page, si->shared_info | 0x23, 0, 2);
    if (r != 0) panic("cannot map shared_info");
    shared = (struct shared_info *)shared_info_page;
    hypercall4(HYPERVISOR_set_callbacks, FLAT_KERNEL_CS, (u32)event_entry, FLAT_KERNEL_CS, (u32)fault_entry_noerr);
    u32 bind[3] = { VIRQ_TIMER, 0, 0 };
    if (hypercall3(HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (u32)bind, 0) != 0) panic("bind_virq refused");
    timer_port = bind[2];
    events_on();
}

/* ---- traps: int 0x80 from ring 3, everything else a panic ---- */

struct regs { u32 edi, esi, ebp, esp, ebx, edx, ecx, eax; };
struct proc;
struct fault_frame { struct regs r; u32 err, eip, cs, eflags; };

static u32 report_vals[4];
static void sys_exit(u32 status) __attribute__((noreturn));
static u32 sys_fork(struct regs *r), sys_wait(u32 pid);
static struct proc *current;

void pv_syscall(struct regs *r) {
    switch (r->eax) {
    case SYS_PUTS:   /* as native's: n bytes from a user pointer, which Xen reads through the current tables */
        if (r->ecx > 4096 || r->ebx < 0x1000 || r->ebx + r->ecx < r->ebx) { r->eax = (u32)-1; break; }
        r->eax = (u32)hypercall3(HYPERVISOR_console_io, CONSOLEIO_write, r->ecx, r->ebx);
        break;
    case SYS_EXIT: if (current) sys_exit(r->ebx); user_return(r->ebx);
    case SYS_FORK: r->eax = current ? sys_fork(r) : (u32)-1; break;
    case SYS_WAIT: r->eax = current ? sys_wait(r->ebx) : (u32)-1; break;
    case SYS_NOP: r->eax = 0; break;
    case SYS_REPORT:
        report_vals[0] = r->ebx; report_vals[1] = r->ecx; report_vals[2] = r->edx; report_vals[3] = r->esi;
        r->eax = 0;
        break;
    default: r->eax = (u32)-1;
    }
}

/* ---- page tables through hypercalls ---- */

static u32 *p2m;
u32 l2_mfn, scratch_l1_mfn;
static u32 pf_data_mfn;

u32 mfn_of(u32 pfn) { return p2m[pfn]; }

long mmu_update(struct mmu_update *req, u32 count) {
    u32 done;
    return hypercall4(HYPERVISOR_mmu_update, (u32)req, count, (u32)&done, DOMID_SELF);
}

long update_va_mapping(u32 va, u32 pte, u32 flags) {
    long r;
    u32 hi = 0;
    __asm__ volatile("int $0x82" : "=a"(r), "+b"(va), "+c"(pte), "+d"(hi), "+S"(flags)
                     : "0"(HYPERVISOR_update_va_mapping) : "memory");
    return r;
}

/* Expected faults (wildmem), recorded as native's selftest records them: a fault in ring 3 ends the user_call, one
   in ring 1 resumes at fixup_eip. */
#define UC_FAULTED 0xFFFFFFFFu
volatile u32 expect_armed, fixup_eip;
static volatile struct { u32 count, err, eip, cs, cr2; } frec;
struct pf_frame { u32 cr2, err, eip, cs, eflags; };

/* The #PF handler: an expected fault is recorded; pgfault's are mapped to the data frame read-only
   ([X32] update_va_mapping). */
void pv_page_fault(struct pf_frame *f) {
    u32 cr2 = f->cr2;
    if (expect_armed) {
        expect_armed = 0;
        frec.count++; frec.err = f->err; frec.eip = f->eip; frec.cs = f->cs; frec.cr2 = cr2;
        if ((f->cs & 3) == 3) user_return(UC_FAULTED);
        if (fixup_eip) { f->eip = fixup_eip; fixup_eip = 0; }
        return;
    }
    if ((cr2 - TEST_BASE) >= 0x400000u) panic("unexpected page fault");
    if (update_va_mapping(cr2 & ~0xFFFu, pf_data_mfn << 12 | 0x25, 2) != 0) panic("update_va_mapping refused");
}

void pv_fault(struct fault_frame *f) {
    if (expect_armed && (f->cs & 3) == 3) {   /* an expected fault in ring 3 ends the user_call */
        expect_armed = 0;
        frec.count++; frec.err = f->err; frec.eip = f->eip; frec.cs = f->cs; frec.cr2 = 0;
        user_return(UC_FAULTED);
    }
    if (expect_armed && fixup_eip) {   /* an expected #GP (or #UD) in ring 1 */
        expect_armed = 0;
        frec.count++; frec.err = f->err; frec.eip = f->eip; frec.cs = f->cs; frec.cr2 = 0;
        f->eip = fixup_eip;
        fixup_eip = 0;
        return;
    }
    puts("EXCEPTION err=");
    put_hex(f->err);
    puts(" eip=");
    put_hex(f->eip);
    puts("\n");
    panic("unexpected exception");
}

struct trap_info traps[] = {
    { 0, 0, FLAT_KERNEL_CS, (u32)divide_entry },
    { 3, 0, FLAT_KERNEL_CS, (u32)fault_entry_noerr },   /* the kernel's own: DPL 0, as native's IDT */
    { 6, 0, FLAT_KERNEL_CS, (u32)fault_entry_noerr },
    { 13, 0, FLAT_KERNEL_CS, (u32)fault_entry_err },
    { 14, 0, FLAT_KERNEL_CS, (u32)page_fault_entry },
    { 0x80, 3, FLAT_KERNEL_CS, (u32)syscall_entry },
    { 0x81, 3, FLAT_KERNEL_CS, (u32)int81_entry },      /* robin-irvine's DPL 3 gate */
    { 0, 0, 0, 0 },
};

/* ---- ring 3: native's programs (user_bench.c), in the .user pages ---- */

static u32 user_stack_top;   /* user_call's stack: a page of the scratch region mapped user-writable */

/* ---- workloads ---- */

static u32 spawn_and_wait(void (*entry)(u32), u32 arg, u32 heap_pages);

static int bench_syscall(u32 n) {
    u32 status = spawn_and_wait(user_syscall_bench, n, 0);
    print_result("syscall", n, (u64)report_vals[1] << 32 | report_vals[0], 0);
    return status == 0;
}

/* cr8wr's PV port: the domain's interrupt priority is its event mask. Native writes the local APIC's TPR, which a PV
   domain lacks; it raises and lowers its priority by writing evtchn_upcall_mask (what Linux's PV irq ops write),
   (i & 1) n times, then leaves events on as they were, taking any that arrived masked. */
static int bench_cr8wr(u32 n) {
    volatile u8 *mask = &shared->vcpu[0].upcall_mask;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) *mask = (u8)(i & 1);
    events_on();
    u64 t = rdtsc() - t0;
    print_result("cr8wr", n, t, 0);
    return 1;
}

static int bench_callret(u32 n) {
    u64 t0 = rdtsc();
    u32 count = callret_loop(n);
    print_result("callret", count, rdtsc() - t0, 0);
    return 1;
}

/* DIV by zero in the kernel; Xen bounces #DE to divide_entry, which skips the 2-byte DIV. */
static int bench_divzero(u32 n) {
    u32 done = 0;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) {
        __asm__ volatile("xorl %%edx, %%edx\n"
                         "movl $1, %%eax\n"
                         "xorl %%ecx, %%ecx\n"
                         ".byte 0xF7, 0xF1\n"
                         "incl %0\n"
                         : "+r"(done) : : "eax", "ecx", "edx", "cc");
    }
    print_result("divzero", n, rdtsc() - t0, 0);
    return done == n;
}

/* Touch a not-present page of the scratch region; Xen bounces #PF with CR2, the handler maps the page. Every
   1024 pages the scratch table is emptied again in one mmu_update batch (which flushes the TLB). */
static struct mmu_update clear_batch[1024];

static int bench_pgfault(u32 n) {
    u32 sum = 0;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) {
        u32 slot = i & 1023;
        if (slot == 0 && i) {
            if (mmu_update(clear_batch, 1024) != 0) panic("mmu_update refused");
        }
        sum += *(volatile u32 *)(TEST_BASE + slot * 4096);
    }
    u64 t = rdtsc() - t0;
    if (mmu_update(clear_batch, 1024) != 0) panic("mmu_update refused");
    print_result("pgfault", n, t, 0);
    return sum == 0;
}

/* Change the PTE of one page of the current address space and flush it: on Xen a checked update_va_mapping with
   UVMF_INVLPG, the store and the INVLPG in one hypercall. Two frames alternate; the last one must be mapped. */
static int bench_ptemod(u32 n) {
    u32 f0 = mfn_of((0x400000u >> 12) + 6), f1 = mfn_of((0x400000u >> 12) + 7);
    u32 *w = (u32 *)TEST_BASE;
    if (update_va_mapping(TEST_BASE, f0 << 12 | 0x27, 2) != 0) panic("update_va_mapping refused");
    *w = 0;
    if (update_va_mapping(TEST_BASE, f1 << 12 | 0x27, 2) != 0) panic("update_va_mapping refused");
    *w = 1;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) update_va_mapping(TEST_BASE, ((i & 1) ? f1 : f0) << 12 | 0x27, 2);
    u64 t = rdtsc() - t0;
    u32 last = *(volatile u32 *)TEST_BASE;
    update_va_mapping(TEST_BASE, 0, 2);
    print_result("ptemod", n, t, 0);
    return last == ((n - 1) & 1);
}

/* The scratch region's L1: a fresh frame of the domain (zero, so it validates), hooked into the L2. */
static void scratch_init(void) {
    p2m = (u32 *)si->mfn_list;
    l2_mfn = mfn_of(si->pt_base >> 12);
    u32 first_free = 0x400000u >> 12;      /* the boot region ends at 4 MiB */
    scratch_l1_mfn = mfn_of(first_free);
    pf_data_mfn = mfn_of(first_free + 1);
    struct mmu_update hook = { (u64)(l2_mfn << 12 | (TEST_BASE >> 22) * 4), scratch_l1_mfn << 12 | 0x27 };
    if (mmu_update(&hook, 1) != 0) panic("mmu_update refused the scratch table");
    for (u32 k = 0; k < 1024; k++) {
        clear_batch[k].ptr = scratch_l1_mfn << 12 | k * 4;
        clear_batch[k].val = 0;
    }
}

/* ---- processes (forkwait, compute): each has its own page directory, built in frames of the domain and handed
   to Xen as the paper has it: filled while still plain memory, pinned (Xen validates the tree once), switched to
   by MMUEXT_NEW_BASEPTR, unpinned when reaped. Run to completion: wait() runs the child. ---- */

#define USER_BASE        0x40000000u   /* as native's lab.h: one user page table per process */
#define USER_STACK_TOP   0x40400000u
#define USER_STACK_PAGES 4
#define MAX_USER_PAGES   8
#define FIRST_FREE_PFN   0x410u        /* after the frames scratch_init, ptemod and attacks use */
#define END_FREE_PFN     0x1000u       /* the balloon attack gives back pfn 0x1000 */
#define NPROC            4

static u32 free_pfns[END_FREE_PFN - FIRST_FREE_PFN], nfree;

static void frames_init(void) {
    for (u32 pfn = END_FREE_PFN; pfn > FIRST_FREE_PFN; pfn--) free_pfns[nfree++] = pfn - 1;
}

u32 alloc_pfn(void) {
    if (!nfree) panic("out of page frames");
    return free_pfns[--nfree];
}

void free_pfn(u32 pfn) { free_pfns[nfree++] = pfn; }

long mmuext(u32 cmd, u32 pfn) {
    struct mmuext_op op = { cmd, mfn_of(pfn), 0 };
    u32 done;
    return hypercall4(HYPERVISOR_mmuext_op, (u32)&op, 1, (u32)&done, DOMID_SELF);
}

/* Maps (or, with pfns NULL, unmaps) n frames at the windows, in one mmu_update batch. */
void windows(const u32 *pfns, u32 n) {
    struct mmu_update req[2 + MAX_USER_PAGES];
    for (u32 k = 0; k < n; k++) {
        req[k].ptr = scratch_l1_mfn << 12 | (WINDOW_SLOT + k) * 4;
        req[k].val = pfns ? mfn_of(pfns[k]) << 12 | 0x23 : 0;
    }
    if (mmu_update(req, n) != 0) panic("mmu_update refused a window");
}

enum { P_FREE, P_RUNNING, P_WAITING, P_ZOMBIE };
struct proc {
    u32 pid, state, status, kesp, kstack_top;
    u32 pd, upt;                                   /* pfns of the page directory and the user page table */
    u32 npages, slot[MAX_USER_PAGES], pfn[MAX_USER_PAGES];
    struct proc *parent;
};
static struct proc procs[NPROC];
static u8 kstacks[NPROC][4096] __attribute__((aligned(4096)));
static u32 boot_kesp, next_pid = 1;

static struct proc *proc_alloc(void) {
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = &procs[i];
        if (p->state != P_FREE) continue;
        *p = (struct proc){ .pid = next_pid++, .state = P_RUNNING, .kstack_top = (u32)kstacks[i] + 4096,
                            .pd = alloc_pfn(), .upt = alloc_pfn() };
        return p;
    }
    panic("out of process slots");
}

static void proc_page(struct proc *p, u32 slot) {
    p->slot[p->npages] = slot;
    p->pfn[p->npages++] = alloc_pfn();
}

/* Fills p's directory (the boot directory's kernel entries, its user table), the user table and its pages: copies
   of the current address space's pages at the same slots (fork), or zeroed with arg on the stack (spawn). Then
   the windows go and the directory is pinned. */
static void proc_address_space(struct proc *p, int copy, u32 arg) {
    u32 frames[2 + MAX_USER_PAGES] = { p->pd, p->upt };
    for (u32 k = 0; k < p->npages; k++) frames[2 + k] = p->pfn[k];
    windows(frames, 2 + p->npages);
    u32 *pd = (u32 *)WINDOW(0), *upt = (u32 *)WINDOW(1);
    const u32 *boot = (const u32 *)si->pt_base;     /* mapped read-only by the domain builder */
    for (u32 i = 0; i < 1024; i++) {
        pd[i] = i < 1008 ? boot[i] : 0;             /* Xen fills its own slots when it validates */
        upt[i] = 0;
    }
    pd[USER_BASE >> 22] = mfn_of(p->upt) << 12 | 0x27;
    for (u32 k = 0; k < p->npages; k++) {
        upt[p->slot[k]] = mfn_of(p->pfn[k]) << 12 | 0x27;
        u32 *dst = (u32 *)WINDOW(2 + k);
        const u32 *src = (const u32 *)(USER_BASE + p->slot[k] * 4096);
        for (u32 i = 0; i < 1024; i++) dst[i] = copy ? src[i] : 0;
        if (!copy && p->slot[k] == 1023) dst[1023] = arg;   /* entry(arg), return address 0 below it */
    }
    windows(0, 2 + p->npages);
    if (mmuext(MMUEXT_PIN_L2_TABLE, p->pd) != 0) panic("pin of a process directory refused");
}

/* The kernel stack of a new process: the syscall frame it leaves by (15 words, as syscall_entry pushes them) and a
   swtch frame returning to syscall_return. */
static void proc_set_frame(struct proc *p, const u32 *frame) {
    u32 *sp = (u32 *)(p->kstack_top - 15 * 4);
    for (int i = 0; i < 15; i++) sp[i] = frame[i];
    *--sp = (u32)syscall_return;
    for (int i = 0; i < 4; i++) *--sp = 0;      /* ebp, ebx, esi, edi */
    *--sp = 0x2;                                /* EFLAGS (popf in ring 1 leaves IF alone) */
    p->kesp = (u32)sp;
}

static void switch_to(u32 *save, struct proc *to, u32 stack_top, u32 pd) {
    current = to;
    if (to) to->state = P_RUNNING;
    hypercall3(HYPERVISOR_stack_switch, FLAT_KERNEL_DS, stack_top, 0);
    if (mmuext(MMUEXT_NEW_BASEPTR, pd) != 0) panic("new_baseptr refused");
    swtch(save, to ? to->kesp : boot_kesp);
}

static void proc_free(struct proc *p) {
    if (mmuext(MMUEXT_UNPIN_TABLE, p->pd) != 0) panic("unpin refused");
    for (u32 k = 0; k < p->npages; k++) free_pfn(p->pfn[k]);
    free_pfn(p->upt);
    free_pfn(p->pd);
    p->state = P_FREE;
}

static u32 spawn_and_wait(void (*entry)(u32), u32 arg, u32 heap_pages) {
    struct proc *p = proc_alloc();
    for (u32 i = 0; i < heap_pages; i++) proc_page(p, i);
    for (u32 i = 0; i < USER_STACK_PAGES; i++) proc_page(p, 1023 - i);
    proc_address_space(p, 0, arg);
    const u32 frame[15] = { 0, 0, 0, 0, 0, 0, 0, 0, FLAT_USER_DS, FLAT_USER_DS, (u32)entry, FLAT_USER_CS, 0x202,
                            USER_STACK_TOP - 8, FLAT_USER_DS };
    proc_set_frame(p, frame);
    switch_to(&boot_kesp, p, p->kstack_top, p->pd);
    u32 status = p->status;                         /* back here when p exits */
    proc_free(p);
    return status;
}

static void sys_exit(u32 status) {
    struct proc *p = current;
    p->status = status;
    p->state = P_ZOMBIE;
    if (p->parent && p->parent->state == P_WAITING) switch_to(&p->kesp, p->parent, p->parent->kstack_top,
                                                              p->parent->pd);
    else switch_to(&p->kesp, 0, (u32)trap_stack_top, si->pt_base >> 12);
    panic("zombie ran");
}

static u32 sys_fork(struct regs *r) {
    struct proc *parent = current, *c = proc_alloc();
    for (u32 k = 0; k < parent->npages; k++) proc_page(c, parent->slot[k]);
    proc_address_space(c, 1, 0);
    c->parent = parent;
    u32 frame[15];
    for (int i = 0; i < 15; i++) frame[i] = ((const u32 *)r)[i];
    frame[7] = 0;                                   /* the child's EAX: fork returns 0 */
    proc_set_frame(c, frame);
    return c->pid;
}

static u32 sys_wait(u32 pid) {
    struct proc *c = 0;
    for (int i = 0; i < NPROC; i++)
        if (procs[i].state != P_FREE && procs[i].pid == pid && procs[i].parent == current) c = &procs[i];
    if (!c) return (u32)-1;
    if (c->state == P_RUNNING) {
        struct proc *self = current;
        self->state = P_WAITING;
        switch_to(&self->kesp, c, c->kstack_top, c->pd);
        current = self;
        self->state = P_RUNNING;
    }
    u32 status = c->status;
    proc_free(c);
    return status;
}

static int bench_forkwait(u32 n) {
    u64 t0 = rdtsc();
    u32 status = spawn_and_wait(user_forkwait, n, 0);
    print_result("forkwait", n, rdtsc() - t0, 0);
    if (status) { puts("forkwait: FAIL "); put_dec(report_vals[0]); puts(" errors\n"); }
    return status == 0;
}

#define COMPUTE_ITER_CRC 0x291Au   /* as native's bench.c: every iteration starts from the same seeds */

static void put_hex4(char *out, u32 v) {
    for (int i = 0; i < 4; i++) out[i] = "0123456789abcdef"[(v >> (12 - 4 * i)) & 15];
}

static int bench_compute(u32 n) {
    u32 status = spawn_and_wait(user_compute, n, 4);
    u32 iter_crc = report_vals[2] >> 16, checksum = report_vals[2] & 0xFFFF;
    char extra[] = " checksum=0x????";
    put_hex4(extra + 12, checksum);
    print_result("compute", n, (u64)report_vals[1] << 32 | report_vals[0], extra);
    int ok = status == 0 && iter_crc == COMPUTE_ITER_CRC;
    char crcs[] = "compute: iteration_crc=0x???? expected=0x????";
    put_hex4(crcs + 25, iter_crc);
    put_hex4(crcs + 41, COMPUTE_ITER_CRC);
    puts(crcs);
    puts(ok ? " OK\n" : " FAIL\n");
    return ok;
}

/* in: IN from port 0x21 in ring 1. The domain asked for virtual IOPL 1 (PHYSDEVOP_set_iopl), so the #GP the CPU
   raises reaches Xen, which emulates the IN; the 8259s are Xen's, no domain is permitted their ports, so Xen reads
   all ones for it ([X32] traps.c guest_io_read). Native reads the IMR itself (0xFE). */
static int bench_in(u32 n) {
    u32 iopl[1] = { 1 };
    if (hypercall3(HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, (u32)iopl, 0) != 0) panic("set_iopl refused");
    u32 v = 0, bad = 0;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < n; i++) {
        __asm__ volatile("inb $0x21, %%al" : "=a"(v) : "0"(0) : "memory");
        bad |= v ^ 0xFF;
    }
    print_result("in", n, rdtsc() - t0, " port=0x21");
    if (bad) { puts("in: FAIL read "); put_hex(v); puts(", expected 0xff\n"); }
    return !bad;
}

/* ---- attacks: each must be refused with Xen's error code, and the domain goes on ---- */

static u32 passed, failed;

static void check(const char *name, long got, long want) {
    if (got == want) { passed++; puts("PASS "); puts(name); puts("\n"); return; }
    failed++;
    puts("FAIL "); puts(name); puts(" got "); put_hex((u32)got); puts(" want "); put_hex((u32)want); puts("\n");
}

#define EPERM  (-1)
#define ESRCH  (-3)
#define EFAULT (-14)
#define EINVAL (-22)

static int attacks(void) {
    u32 l1_mfn = mfn_of((si->pt_base >> 12) + 1);      /* the first bootstrap L1 */
    struct mmu_update req;
    /* map the page directory writable through a free slot of the bootstrap L1 */
    req.ptr = l1_mfn << 12 | 1023 * 4; req.val = l2_mfn << 12 | 0x27;
    check("map_page_table_writable", mmu_update(&req, 1), EINVAL);
    req.val = l2_mfn << 12 | 0x25;                       /* read-only is allowed */
    check("map_page_table_read_only", mmu_update(&req, 1), 0);
    req.val = 0;
    mmu_update(&req, 1);
    /* an L2 entry in Xen's slots (FC000000 up) */
    req.ptr = l2_mfn << 12 | 1008 * 4; req.val = scratch_l1_mfn << 12 | 0x27;
    check("write_xen_slot", mmu_update(&req, 1), EINVAL);
    /* map a frame that is not the domain's (below every domain's memory) */
    req.ptr = scratch_l1_mfn << 12; req.val = 0x100u << 12 | 0x25;
    check("map_foreign_frame", mmu_update(&req, 1), EINVAL);
    /* write into a frame that is not the domain's */
    req.ptr = 0x100u << 12; req.val = 0;
    check("update_foreign_frame", mmu_update(&req, 1), EINVAL);
    /* a trap-table entry with Xen's ring-0 code segment */
    struct trap_info ring0[] = { { 0x81, 3, 0xE008, (u32)syscall_entry }, { 0, 0, 0, 0 } };
    check("trap_table_ring0_cs", hypercall3(HYPERVISOR_set_trap_table, (u32)ring0, 0, 0), EPERM);
    /* batches whose pointers reach into Xen's area, or whose counts are absurd */
    check("mmu_update_pointer_into_xen", hypercall4(HYPERVISOR_mmu_update, 0xFC000000u, 1, 0, DOMID_SELF), EFAULT);
    req.ptr = 0x100u << 12; req.val = 0;
    check("mmu_update_huge_count", hypercall4(HYPERVISOR_mmu_update, (u32)&req, 0x7FFFFFFFu, 0, DOMID_SELF), EINVAL);
    check("mmu_update_negative_count", hypercall4(HYPERVISOR_mmu_update, (u32)&req, 0xFFFFFFFFu, 0, DOMID_SELF),
          EINVAL);
    /* a byte-granular data segment at FC350000 reaching into Xen's area (cannot be cut without G) */
    u32 desc_frame = mfn_of((0x400000u >> 12) + 3);
    check("descriptor_reaching_xen", hypercall4(10, desc_frame << 12, 0, 0x0000FFFFu, 0xFC0F9335u), EINVAL);
    check("descriptor_page_granular_cut", hypercall4(10, desc_frame << 12, 0, 0x0000FFFFu, 0x00CF9300u), 0);
    check("descriptor_into_page_table", hypercall4(10, l2_mfn << 12, 0, 0x0000FFFFu, 0x00CF9300u), EINVAL);
    /* the balloon: the reservation is fixed at creation; pages given back can be claimed again, no more */
    u32 extent[1] = { 0 };
    struct xen_memory_reservation r = { extent, 1, 0, 0, DOMID_SELF };
    check("balloon_past_maximum", hypercall3(HYPERVISOR_memory_op, XENMEM_increase_reservation, (u32)&r, 0), 0);
    extent[0] = 0x100;
    check("balloon_foreign_frame", hypercall3(HYPERVISOR_memory_op, XENMEM_decrease_reservation, (u32)&r, 0), 0);
    extent[0] = mfn_of(0x1000);
    check("balloon_out", hypercall3(HYPERVISOR_memory_op, XENMEM_decrease_reservation, (u32)&r, 0), 1);
    u16 self = DOMID_SELF;
    check("balloon_reservation_shrank", hypercall3(HYPERVISOR_memory_op, XENMEM_current_reservation, (u32)&self, 0),
          (long)si->nr_pages - 1);
    check("balloon_back_in", hypercall3(HYPERVISOR_memory_op, XENMEM_increase_reservation, (u32)&r, 0), 1);
    check("balloon_past_maximum_again", hypercall3(HYPERVISOR_memory_op, XENMEM_increase_reservation, (u32)&r, 0), 0);
    /* set_gdt: a frame with a descriptor reaching Xen is refused; a good one installs and its selectors load */
    u32 window = TEST_BASE + 0x3FF000u;
    u32 bad = mfn_of((0x400000u >> 12) + 4), good = mfn_of((0x400000u >> 12) + 5);
    u32 *d = (u32 *)window;
    update_va_mapping(window, bad << 12 | 0x27, 2);
    d[2] = 0x0000FFFFu; d[3] = 0xFC0F9335u;            /* entry 1: byte granular at FC350000 */
    update_va_mapping(window, good << 12 | 0x27, 2);
    d[2] = 0x0000FFFFu; d[3] = 0x00CF9B00u;            /* entry 1: flat ring-0 code (Xen makes it ring 1) */
    d[4] = 0x0000FFFFu; d[5] = 0x00CF9300u;            /* entry 2: flat ring-0 data */
    update_va_mapping(window, 0, 2);
    u32 frames[1] = { bad };
    check("set_gdt_reaching_xen", hypercall3(HYPERVISOR_set_gdt, (u32)frames, 3, 0), EINVAL);
    frames[0] = good;
    check("set_gdt_valid", hypercall3(HYPERVISOR_set_gdt, (u32)frames, 3, 0), 0);
    u32 ds;
    __asm__ volatile("movw $0x11, %%ax\n\tmovw %%ax, %%ds\n\tmovl (0), %%eax\n\tmovw %%ds, %%ax\n\tmovzwl %%ax, %0\n\t"
                     "movw $0xE021, %%ax\n\tmovw %%ax, %%ds" : "=r"(ds) : : "eax", "memory");
    check("gdt_selector_loads", ds, 0x11);
    check("map_gdt_frame_writable", update_va_mapping(window, good << 12 | 0x27, 2), EINVAL);
    /* port I/O from ring 1: without virtual IOPL Xen reflects the #GP; with it, Xen emulates the IN, and a port no
       domain is permitted reads as ones ([X32] traps.c emulate_privileged_op, guest_io_read) */
    u32 at, value = 0;
    frec.count = 0; expect_armed = 1;
    __asm__ volatile("movl $1f, %[at]\n\tmovl $2f, fixup_eip\n1:\tinb $0x21, %%al\n2:\n"
                     : [at] "=m"(at), "+a"(value) : : "memory");
    check("in_without_iopl_reflected_gp", frec.count == 1 && frec.eip == at && frec.err == 0, 1);
    expect_armed = 0;
    u32 iopl[1] = { 4 };
    check("set_iopl_past_3", hypercall3(HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, (u32)iopl, 0), EINVAL);
    iopl[0] = 1;
    check("set_iopl_1", hypercall3(HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, (u32)iopl, 0), 0);
    __asm__ volatile("inb $0x21, %%al" : "+a"(value) : : "memory");
    check("in_with_iopl_emulated_reads_ones", value & 0xFF, 0xFF);
    iopl[0] = 0;
    hypercall3(HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, (u32)iopl, 0);
    /* MOV to a control register from ring 1 ([X32] traps.c emulate_privileged_op): CR0 may change in TS alone, CR3
       takes a new base as MMUEXT_NEW_BASEPTR does (new_guest_cr3); anything else is the #GP it was */
    u32 cr0, cr3, cr;
    __asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("movl %0, %%cr0\n\tmovl %%cr0, %0" : "=r"(cr) : "0"(cr0 | 8) : "memory");
    check("mov_cr0_sets_ts", cr & 8, 8);
    __asm__ volatile("movl %0, %%cr0" : : "r"(cr0) : "memory");
    frec.count = 0; expect_armed = 1;
    __asm__ volatile("movl $1f, %[at]\n\tmovl $2f, fixup_eip\n1:\tmovl %[v], %%cr0\n2:\n"
                     : [at] "=m"(at) : [v] "r"(cr0 & ~0x10000u) : "memory");
    check("mov_cr0_clearing_wp_reflected_gp", frec.count == 1 && frec.eip == at && frec.err == 0, 1);
    expect_armed = 0;
    __asm__ volatile("movl %%cr3, %0\n\tmovl %0, %%cr3\n\tmovl %%cr3, %1" : "=r"(cr3), "=r"(cr) : : "memory");
    check("mov_cr3_reloads_the_base", cr, cr3);
    frec.count = 0; expect_armed = 1;   /* the stack's frame is mapped writable: it cannot be a page directory */
    __asm__ volatile("movl $1f, %[at]\n\tmovl $2f, fixup_eip\n1:\tmovl %[v], %%cr3\n2:\n"
                     : [at] "=m"(at) : [v] "r"(mfn_of((u32)&cr >> 12) << 12) : "memory");
    check("mov_cr3_writable_frame_reflected_gp", frec.count == 1 && frec.eip == at && frec.err == 0, 1);
    expect_armed = 0;
    puts("attacks: "); put_dec(passed); puts(" passed, "); put_dec(failed); puts(" failed\n");
    return failed == 0;
}

/* ---- wildmem: the PV port of native's hostile workload, with its check names ---- */

#define TVA(n) (TEST_BASE + (n) * 4096u)   /* page n of the scratch region */
#define OWN_FRAMES 4
#define FAULT_ADDR(at, insn, addr) \
    __asm__ volatile("movl $1f, %[at]\n\tmovl $2f, fixup_eip\n1:\t" insn "\n2:\n" : [at] "=m"(at) : "c"(addr) \
                     : "memory", "cc", "eax")

static u32 own[OWN_FRAMES];

static void report(const char *name, int ok) { check(name, ok, 1); }

static u32 own_sum(void) {
    u32 s = 0;
    windows(own, OWN_FRAMES);
    for (u32 f = 0; f < OWN_FRAMES; f++)
        for (const u32 *w = (const u32 *)WINDOW(f); w < (const u32 *)(WINDOW(f) + 4096); w++) s = (s << 1 | s >> 31) ^ *w;
    windows(0, OWN_FRAMES);
    for (const u32 *w = (const u32 *)__user_start; w < (const u32 *)__user_end; w++) s = (s << 1 | s >> 31) ^ *w;
    return s;
}

static u32 own_init(void) {
    for (u32 f = 0; f < OWN_FRAMES; f++) own[f] = alloc_pfn();
    windows(own, OWN_FRAMES);
    for (u32 f = 0; f < OWN_FRAMES; f++)
        for (u32 i = 0; i < 1024; i++) ((u32 *)WINDOW(f))[i] = (f * 1024 + i) * 0x9E3779B9u;
    windows(0, OWN_FRAMES);
    return own_sum();
}

/* The one expected fault in ring 1 at `at`, with error code and CR2 (the paper's extended frame). */
static int faulted(u32 at, u32 err, u32 cr2) {
    int ok = frec.count == 1 && frec.err == err && frec.eip == at && frec.cr2 == cr2;
    expect_armed = 0;
    fixup_eip = 0;
    return ok;
}

static void arm(void) { frec.count = 0; expect_armed = 1; }

/* fn in ring 3 with EAX = arg must fault at insn with this error code and CR2. */
static int ufaulted(void (*fn)(void), u32 arg, u32 err, void (*insn)(void), u32 cr2) {
    arm();
    u32 r = user_call(fn, user_stack_top, arg);
    expect_armed = 0;
    return r == UC_FAULTED && frec.count == 1 && frec.err == err && frec.eip == (u32)insn && (frec.cs & 3) == 3
           && frec.cr2 == cr2;
}

/* As native's: unmapped and supervisor pages fault with the SDM's error code and CR2 in ring 1 (supervisor, as
   ring 0) and ring 3; memory past the domain's is out of reach (Xen will not map a frame the domain does not own,
   where native finds nothing stores past RAM); none of it touches the guest's own memory. */
static int wildmem(void) {
    u32 sum = own_init(), at, stack = alloc_pfn();
    if (update_va_mapping(TVA(9), mfn_of(stack) << 12 | 0x27, 2) != 0) panic("update_va_mapping refused");
    user_stack_top = TVA(10);
    arm(); FAULT_ADDR(at, "movl (%%ecx), %%eax", TVA(1) + 0x10);
    report("ring0_read_unmapped_pf", faulted(at, 0, TVA(1) + 0x10));
    arm(); FAULT_ADDR(at, "movl $0x5A5A5A5A, (%%ecx)", TVA(1) + 0x20);
    report("ring0_write_unmapped_pf", faulted(at, 2, TVA(1) + 0x20));

    if (update_va_mapping(TVA(2), mfn_of(own[0]) << 12 | 0x23, 2) != 0) panic("update_va_mapping refused");
    report("ring3_read_unmapped_pf", ufaulted(u_read, TVA(1) + 4, 4, u_read_insn, TVA(1) + 4));
    report("ring3_write_unmapped_pf", ufaulted(u_write, TVA(1) + 8, 6, u_write_insn, TVA(1) + 8));
    report("ring3_read_supervisor_pf", ufaulted(u_read, TVA(2), 5, u_read_insn, TVA(2)));
    report("ring3_write_supervisor_pf", ufaulted(u_write, TVA(2) + 12, 7, u_write_insn, TVA(2) + 12));
    report("ring3_write_kernel_pf", ufaulted(u_write, (u32)&timer_ticks, 7, u_write_insn, (u32)&timer_ticks));

    u32 beyond = mfn_of(si->nr_pages - 1) + 1 + 0x4000;   /* 64 MiB past the domain's last frame */
    long refused = update_va_mapping(TVA(3), beyond << 12 | 0x23, 2);
    arm(); FAULT_ADDR(at, "movl (%%ecx), %%eax", TVA(3) + 0x40);
    report("beyond_ram_holds_nothing", refused == EINVAL && faulted(at, 0, TVA(3) + 0x40));

    update_va_mapping(TVA(2), 0, 2);
    update_va_mapping(TVA(9), 0, 2);
    free_pfn(stack);
    report("own_memory_intact", own_sum() == sum);
    for (u32 f = 0; f < OWN_FRAMES; f++) free_pfn(own[f]);
    puts("wildmem: "); put_dec(passed); puts(" passed, "); put_dec(failed); puts(" failed\n");
    return failed == 0;
}

/* ---- hvmem: the PV port of native's hostile workload, with its check names. On a PC the top 64 MiB of linear
   space is the guest's; under Xen it is Xen's in every address space, so the two mappings native makes there are
   refused (the declared limit MONITOR_ADDRESS_SPACE), and the physical I/O hole at FC000000 is a frame the domain
   does not own, out of its reach. ---- */

#define TOP64M 0xFC000000u

static int hvmem(void) {
    u32 sum = own_init();
    long first = update_va_mapping(TOP64M, mfn_of(own[0]) << 12 | 0x23, 2);
    long last = update_va_mapping(0xFFFFF000u, mfn_of(own[0]) << 12 | 0x23, 2);
    check("top64m_linear_maps_own_ram", first, 0);
    check("last_linear_dword_maps_own_ram", last, 0);
    u32 at;
    long hole = update_va_mapping(TVA(3), TOP64M | 0x23, 2);
    arm(); FAULT_ADDR(at, "movl (%%ecx), %%eax", TVA(3) + 0x40);
    report("phys_top64m_holds_nothing", hole == EINVAL && faulted(at, 0, TVA(3) + 0x40));
    report("own_memory_intact", own_sum() == sum);
    for (u32 f = 0; f < OWN_FRAMES; f++) free_pfn(own[f]);
    puts("hvmem: "); put_dec(passed); puts(" passed, "); put_dec(failed); puts(" failed\n");
    return failed == 0;
}

/* ---- robin-irvine: the PV port of native's hostile workload, with its check names and expectations, which are
   what a kernel that believes it runs in ring 0 must see. It installs native's GDT through set_gdt (Xen raises the
   DPL-0 descriptors to DPL 1, cuts limits below its area, keeps the TSS out and points the call gate at ring 1) and
   loads no IDT, LDT or TSS of its own (the trap table is its IDT); "cli" is its event mask. Each check Xen's ring
   compression shows through fails, and the TCK names the instruction that leaked (KnownLimits). ---- */

struct probe {
    u16 gdt_limit; u32 gdt_base;
    u16 idt_limit; u32 idt_base;
    u32 ldtr, tr, msw, eflags, cs_mov, cs_push;
} __attribute__((packed));
void probe(struct probe *rec);                                       /* native's utests.S, any CPL */
extern void u_probe(void), u_int20(void), u_int3(void), u_int81(void), u_int81_after(void), u_popf(void),
    u_lar(void), u_callgate(void), u_callgate_ret(void), t_gate_target(void);
extern volatile u32 test3_frame, test3_words[6], gate_rec[7];
#define EFLAGS_IF    0x200
#define EFLAGS_IOPL3 0x3000
#define OWN_LINEAR_END 0xFC000000u   /* a table of the kernel's own lies below Xen's 64 MiB */

static u32 read_cr0(void) { u32 v; __asm__ volatile("movl %%cr0, %0" : "=r"(v)); return v; }   /* Xen emulates it */

/* PASS, or FAIL with what the instruction showed instead. */
static void showed(const char *name, int ok, u32 seen) {
    if (ok) { check(name, 1, 1); return; }
    failed++;
    puts("FAIL "); puts(name); puts(" shows "); put_hex(seen); puts("\n");
}

static void check_probe(const char *ring, const struct probe *p, u32 rpl, u32 eflags) {
    char name[40];
    struct { const char *insn; int ok; u32 seen; } r[] = {
        { "sgdt", p->gdt_base < OWN_LINEAR_END && p->gdt_limit == GDT_ENTRIES * 8 - 1, p->gdt_base },
        { "sidt", p->idt_base < OWN_LINEAR_END && p->idt_limit == 256 * 8 - 1, p->idt_base },
        { "sldt", p->ldtr == 0, p->ldtr },
        { "str", p->tr == 0, p->tr },
        { "smsw", p->msw == (read_cr0() & 0xFFFF), p->msw },
        { "pushf_if_iopl", (p->eflags & (EFLAGS_IF | EFLAGS_IOPL3)) == eflags, p->eflags },
        { "mov_cs_rpl", (p->cs_mov & 3) == rpl, p->cs_mov },
        { "push_cs_rpl", (p->cs_push & 3) == rpl, p->cs_push },
    };
    for (u32 i = 0; i < sizeof r / sizeof r[0]; i++) {
        u32 n = 0;
        for (const char *c = ring; *c; c++) name[n++] = *c;
        name[n++] = '_';
        for (const char *c = r[i].insn; *c; c++) name[n++] = *c;
        name[n] = 0;
        showed(name, r[i].ok, r[i].seen);
    }
}

/* Native's GDT (kernel.c gdt_init, accessed bits preset) but for the TSS, which Xen refuses in a guest's GDT. */
static void lab_gdt_install(void) {
    u32 pfn = alloc_pfn(), gate = (u32)t_gate_target;
    static const u32 flat[][3] = { { 1, 0x0000FFFFu, 0x00CF9B00u }, { 2, 0x0000FFFFu, 0x00CF9300u },
        { 3, 0x0000FFFFu, 0x00CFFB00u }, { 4, 0x0000FFFFu, 0x00CFF300u }, { 6, 0x00001234u, 0x00409300u },
        { 7, 0x0000FFFFu, 0x00CF9900u }, { 8, 0x0000FFFFu, 0x00CF9100u } };
    windows(&pfn, 1);
    u32 *d = (u32 *)WINDOW(0);
    for (u32 i = 0; i < 1024; i++) d[i] = 0;
    for (u32 i = 0; i < sizeof flat / sizeof flat[0]; i++) { d[flat[i][0] * 2] = flat[i][1]; d[flat[i][0] * 2 + 1] = flat[i][2]; }
    d[SEL_CALLGATE / 4] = (gate & 0xFFFF) | SEL_KCODE << 16;             /* 32-bit call gate, DPL 3, 1 parameter */
    d[SEL_CALLGATE / 4 + 1] = (gate & 0xFFFF0000u) | 0xEC00 | 1;
    windows(0, 1);
    u32 frames[1] = { mfn_of(pfn) };
    if (hypercall3(HYPERVISOR_set_gdt, (u32)frames, GDT_ENTRIES, 0) != 0) panic("set_gdt refused the lab GDT");
}

static int robin_irvine(void) {
    u32 stack = alloc_pfn();
    if (update_va_mapping(TVA(9), mfn_of(stack) << 12 | 0x27, 2) != 0) panic("update_va_mapping refused");
    user_stack_top = TVA(10);
    lab_gdt_install();
    struct probe p;
    shared->vcpu[0].upcall_mask = 1;   /* native's cli */
    probe(&p);
    events_on();
    check_probe("ring0", &p, 0, 0);
    u32 f;   /* POPF "at CPL 0" clears IF and sets IOPL */
    __asm__ volatile("pushfl\n\tpushl %1\n\tpopfl\n\tpushfl\n\tpopl %0\n\tpopfl" : "=r"(f) : "r"(0x2 | EFLAGS_IOPL3) : "cc");
    showed("ring0_popf_if_iopl", (f & (EFLAGS_IF | EFLAGS_IOPL3)) == EFLAGS_IOPL3, f);
    u32 rec = user_call(u_probe, user_stack_top, 0);
    report("ring3_probe_ran", rec != UC_FAULTED);
    if (rec != UC_FAULTED) check_probe("ring3", (const struct probe *)rec, 3, EFLAGS_IF);

    struct lar_probe a;
    int ok = lar_as_loaded(&a);
    showed("lar", ok, a.a[0]);
    struct lsl_probe l;
    ok = lsl_as_loaded(&l, 0x67);
    showed("lsl", ok, l.l[0]);
    u32 v = verr_verw_bits();
    showed("verr_verw", v == VERR_VERW_WANT, v);
    probe(&p);
    showed("sgdt_sidt", p.gdt_base < OWN_LINEAR_END && p.gdt_limit == GDT_ENTRIES * 8 - 1 &&
           p.idt_base < OWN_LINEAR_END && p.idt_limit == 256 * 8 - 1, p.gdt_base);
    showed("smsw_str", p.msw == (read_cr0() & 0xFFFF) && p.tr == 0, p.tr);

    report("ring3_int_dpl0_gate_gp", ufaulted(u_int20, 0, 0x20 << 3 | 2, u_int20, 0));
    report("ring3_int3_dpl0_gate_gp", ufaulted(u_int3, 0, 3 << 3 | 2, u_int3, 0));
    test3_frame = 0;
    u32 r = user_call(u_int81, user_stack_top, 0), esp0 = (u32)trap_stack_top;
    report("ring3_interrupt_tss_stack_and_iret", r == 3 && test3_frame == esp0 - 20 &&
           test3_words[0] == (u32)u_int81_after && (test3_words[1] & 0xFFFF) == FLAT_USER_CS &&
           test3_words[3] == test3_words[5] && test3_words[4] == FLAT_USER_DS && (test3_words[2] & EFLAGS_IF));
    r = user_call(u_popf, user_stack_top, 0);
    report("ring3_popf_if_iopl_unchanged", r != UC_FAULTED && (r & EFLAGS_IF) && !(r & EFLAGS_IOPL3));
    r = user_call(u_lar, user_stack_top, 0);
    showed("ring3_lar_privilege", r == 0x00C0FB02, r);

    r = user_call(u_callgate, user_stack_top, 0);
    showed("callgate_ring3_to_ring0_frame", gate_rec[0] == 0 && gate_rec[1] == esp0 - 20 &&
           gate_rec[2] == (u32)u_callgate_ret && gate_rec[3] == FLAT_USER_CS && gate_rec[4] == 0xABCD &&
           gate_rec[5] == user_stack_top - 4 && gate_rec[6] == FLAT_USER_DS, gate_rec[0]);
    showed("callgate_ret_to_ring3", r == 0x13, r);
    update_va_mapping(TVA(9), 0, 2);
    free_pfn(stack);
    puts("robin-irvine: "); put_dec(passed); puts(" passed, "); put_dec(failed); puts(" failed\n");
    return failed == 0;
}

/* The kernel's pages supervisor-only but for the .user pages ring 3 runs (the domain builder maps the boot region
   user-accessible): one mmu_update batch over the bootstrap L1, each entry changing only U/S, which Xen takes
   without revalidation ([X32] mod_l1_entry). */
static struct mmu_update protect_batch[1024];

static void protect_kernel(void) {
    u32 l1_pfn = (si->pt_base >> 12) + 1, n = 0;
    const u32 *l1 = (const u32 *)(l1_pfn << 12);
    for (u32 page = 0; page < 1024; page++) {
        u32 pte = l1[page];
        if (!(pte & 1) || (page >= (u32)__user_start >> 12 && page < (u32)__user_end >> 12)) continue;
        protect_batch[n].ptr = mfn_of(l1_pfn) << 12 | page * 4;
        protect_batch[n++].val = pte & ~4u;
    }
    if (mmu_update(protect_batch, n) != 0) panic("mmu_update refused to protect the kernel");
}

/* events: the timer VIRQ arrives as upcalls, SCHEDOP_block sleeps until one, the virtual IF defers them */
static int events(void) {
    u32 t0 = timer_ticks;
    while (timer_ticks < t0 + 3) hypercall3(HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
    check("timer_virq_upcalls_wake_block", timer_ticks >= t0 + 3, 1);
    shared->vcpu[0].upcall_mask = 1;
    u32 masked = timer_ticks;
    for (u64 t = rdtsc(); rdtsc() - t < 25000000ull;) {}   /* 25 ms of virtual time: two ticks or more */
    check("upcall_mask_defers_events", timer_ticks == masked && shared->vcpu[0].upcall_pending, 1);
    events_on();
    check("unmask_delivers_pending_event", timer_ticks > masked, 1);
    u32 bind[3] = { VIRQ_TIMER, 0, 0 };
    check("bind_virq_twice", hypercall3(HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (u32)bind, 0), -17);
    u32 port[1] = { 1000 };
    check("send_unbound_port", hypercall3(HYPERVISOR_event_channel_op, EVTCHNOP_send, (u32)port, 0), EINVAL);
    bind[0] = 99;
    check("bind_bad_virq", hypercall3(HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (u32)bind, 0), EINVAL);
    puts("events: "); put_dec(passed); puts(" passed, "); put_dec(failed); puts(" failed\n");
    return failed == 0;
}

/* vcpu_info.time's system time and the TSC value Xen stamped it at ([X32] public/xen.h vcpu_time_info): retried
   while Xen is updating them (odd version) or updated them meanwhile, so the halves and the pair belong together. */
static u64 time_snapshot(u64 *stamp) {
    struct vcpu_info *v = &shared->vcpu[0];
    u32 version;
    u64 t;
    do {
        version = v->time_version;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        t = v->system_time;
        *stamp = v->tsc_timestamp;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    } while ((version & 1) || version != v->time_version);
    return t;
}

static u64 system_time(void) { u64 stamp; return time_snapshot(&stamp); }

/* evtspin: the PV counterpart of clispin. With events masked (evtchn_upcall_mask, the PV kernel's CLI) the guest
   spins for ms=N of system time: Xen's tick still preempts it (the guest cannot mask Xen's interrupts, only defer
   its own events), the system time kept advancing, VIRQ_TIMER waits pending, and it is delivered as soon as the
   guest unmasks. */
#define SPIN_LIMIT 100000000u
static int evtspin(u32 ms) {
    struct vcpu_info *v = &shared->vcpu[0];
    v->upcall_mask = 1;
    u32 ticks = timer_ticks, i;
    u64 first = system_time(), now = first, span = (u64)ms * 1000000u;
    for (i = 0; i < SPIN_LIMIT && now - first < span; i++) now = system_time();
    report("system_time_kept_advancing", now - first >= span);
    report("timer_virq_held_while_masked", timer_ticks == ticks);
    report("timer_virq_pending", v->upcall_pending && (shared->evtchn_pending[timer_port / 32] >> timer_port % 32 & 1));
    events_on();
    report("timer_virq_delivered_on_unmask", timer_ticks != ticks);
    puts("evtspin: masked for "); put_dec(ms); puts(" ms of system time\n");
    puts("evtspin: "); put_dec(passed); puts(" passed, "); put_dec(failed); puts(" failed\n");
    return failed == 0;
}

/* Now in ns: system time plus the TSC ticks since Xen stamped it (one tick per ns here: mul 0.5, shift 1). */
static u64 xen_now(void) {
    u64 stamp, t = time_snapshot(&stamp);
    return t + (rdtsc() - stamp);
}

struct sched_poll { u32 *ports, nr_ports; u64 timeout; };   /* public/sched.h: timeout at offset 8 */
static long poll_ports(u32 *ports, u32 n, u64 timeout) {
    struct sched_poll p = { ports, n, timeout };
    return hypercall3(HYPERVISOR_sched_op, SCHEDOP_poll, (u32)&p, 0);
}

static void set_timer(u64 deadline) { hypercall3(HYPERVISOR_set_timer_op, (u32)deadline, (u32)(deadline >> 32), 0); }

/* Sleeps until the next VIRQ_TIMER (masked between the check and SCHEDOP_block, which unmasks); returns when. */
static u64 sleep_until_timer(void) {
    u32 t = timer_ticks;
    shared->vcpu[0].upcall_mask = 1;
    while (timer_ticks == t) {
        hypercall3(HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
        shared->vcpu[0].upcall_mask = 1;
    }
    u64 now = xen_now();
    events_on();
    return now;
}

/* oneshot: SCHEDOP_poll below, and set_timer_op's one-shot deadline ([X32] public/xen.h, common/schedule.c do_set_timer_op): VIRQ_TIMER is
   sent when system time passes it, between Xen's 10 ms ticks, and SCHEDOP_block wakes on it; a deadline already
   past fires at once; 0 cancels, leaving the periodic tick. Each starts just after a tick. */
#define DEADLINE_AHEAD 2500000u   /* 2.5 ms: a quarter of a tick */
#define WAKE_LATENESS  100000u    /* 0.1 ms: Xen's entry, the upcall and the guest's return from block */
static int oneshot(void) {
    u64 start = sleep_until_timer(), deadline = start + DEADLINE_AHEAD;
    set_timer(deadline);
    u64 woke = sleep_until_timer();
    if (!(woke >= deadline && woke - deadline < WAKE_LATENESS)) {
        puts("oneshot: woke "); put_dec(woke - start); puts(" ns after the tick\n");
    }
    report("block_wakes_at_deadline", woke >= deadline && woke - deadline < WAKE_LATENESS);
    shared->vcpu[0].upcall_mask = 1;
    u32 t = timer_ticks;
    set_timer(xen_now() - 1000);
    report("past_deadline_fires_at_once", shared->vcpu[0].upcall_pending && timer_ticks == t);
    events_on();
    report("past_deadline_delivered_on_unmask", timer_ticks != t);
    start = sleep_until_timer();
    set_timer(start + DEADLINE_AHEAD);
    set_timer(0);
    woke = sleep_until_timer();
    report("cancelled_deadline_leaves_periodic_tick", woke - start > 5 * DEADLINE_AHEAD / 2);

    /* SCHEDOP_poll ([X32] public/sched.h): at once when a polled port is pending; else asleep, events masked, until a
       polled port goes pending, masked or not, or system time passes the timeout */
    u32 port[1] = { timer_port }, quiet[1] = { 1000 }, word = timer_port / 32, bit = 1u << timer_port % 32;
    shared->vcpu[0].upcall_mask = 1;
    set_timer(xen_now() - 1000);
    start = xen_now();
    long r = poll_ports(port, 1, 0);
    report("poll_returns_at_once_when_pending", r == 0 && xen_now() - start < WAKE_LATENESS);
    events_on();
    start = sleep_until_timer();
    __atomic_or_fetch(&shared->evtchn_mask[word], bit, __ATOMIC_SEQ_CST);
    shared->vcpu[0].upcall_mask = 1;
    t = timer_ticks;
    r = poll_ports(port, 1, 0);
    woke = xen_now();
    report("poll_wakes_on_masked_port", r == 0 && (shared->evtchn_pending[word] & bit) && timer_ticks == t &&
           woke - start > 5 * DEADLINE_AHEAD / 2);
    __atomic_and_fetch(&shared->evtchn_pending[word], ~bit, __ATOMIC_SEQ_CST);
    deadline = xen_now() + DEADLINE_AHEAD;
    r = poll_ports(quiet, 1, deadline);
    woke = xen_now();
    report("poll_times_out_at_timeout", r == 0 && woke >= deadline && woke - deadline < WAKE_LATENESS);
    report("poll_too_many_ports", poll_ports(quiet, 129, 0) == EINVAL);
    __atomic_and_fetch(&shared->evtchn_pending[word], ~bit, __ATOMIC_SEQ_CST);
    __atomic_and_fetch(&shared->evtchn_mask[word], ~bit, __ATOMIC_SEQ_CST);
    events_on();
    puts("oneshot: "); put_dec(passed); puts(" passed, "); put_dec(failed); puts(" failed\n");
    return failed == 0;
}

/* ---- two domains: interdomain event channels (section 11); the peer's domain id comes on the command line ---- */

static u32 option(const char *key, u32 dflt);

static long evtchn_op(u32 cmd, void *arg) { return hypercall3(HYPERVISOR_event_channel_op, cmd, (u32)arg, 0); }

/* Sleeps until the peer's port has fired `target` times; events masked between the check and SCHEDOP_block (which
   unmasks them), so no notification is lost. */
static void wait_peer_events(u32 target) {
    shared->vcpu[0].upcall_mask = 1;
    while (peer_events < target) {
        hypercall3(HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
        shared->vcpu[0].upcall_mask = 1;
    }
    events_on();
}

static void notify_peer(void) {
    u32 send[1] = { peer_port };
    if (evtchn_op(EVTCHNOP_send, send) != 0) panic("send refused");
}

/* pong (d2 by default): offers a port to its peer (alloc_unbound) and answers each notification with one. */
static int pong(u32 n) {
    u32 peer = option("peer", 1);
    u32 alloc[2] = { DOMID_SELF | peer << 16, 0 };     /* dom, remote_dom (u16 each), OUT port */
    if (evtchn_op(EVTCHNOP_alloc_unbound, alloc) != 0) panic("alloc_unbound refused");
    peer_port = alloc[1];
    puts("pong: port "); put_dec(peer_port); puts(" offered to d"); put_dec(peer); puts("\n");
    for (u32 i = 1; i <= n; i++) {
        wait_peer_events(i);
        notify_peer();
    }
    puts("pong: "); put_dec(n); puts(" replies\n");
    return 1;
}

/* ping (d1 by default): connects to the peer's offered port (bind_interdomain, retried until it is offered) and
   times round trips: send, then sleep until the answer. */
static int ping(u32 n) {
    u32 bind[3] = { option("peer", 2), option("port", 2), 0 };   /* remote_dom, remote_port, OUT local_port */
    long r;
    for (u32 tries = 0; (r = evtchn_op(EVTCHNOP_bind_interdomain, bind)) == EINVAL && tries < 1000; tries++)
        hypercall3(HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);    /* not offered yet: let the peer run */
    if (r != 0) panic("bind_interdomain refused");
    peer_port = bind[2];
    events_on();
    u32 base = peer_events;
    u64 t0 = rdtsc();
    for (u32 i = 1; i <= n; i++) {
        notify_peer();
        wait_peer_events(base + i);
    }
    u64 t = rdtsc() - t0;
    print_result("pingpong", n, t, 0);
    u32 port[1] = { peer_port };
    check("close_interdomain_port", evtchn_op(EVTCHNOP_close, port), 0);
    return peer_events == base + n && failed == 0;
}

/* intruder (d2 beside another domain): reaches for the peer's event channels; each is refused with Xen's code. */
static int intruder(void) {
    u32 peer = option("peer", 1);
    u32 bind[3] = { peer, 1, 0 };
    check("bind_peers_virq_port", evtchn_op(EVTCHNOP_bind_interdomain, bind), EINVAL);
    bind[1] = 1000;
    check("bind_peers_free_port", evtchn_op(EVTCHNOP_bind_interdomain, bind), EINVAL);
    bind[0] = 999;
    bind[1] = 1;
    check("bind_no_such_domain", evtchn_op(EVTCHNOP_bind_interdomain, bind), ESRCH);
    u32 alloc[2] = { peer | DOMID_SELF << 16, 0 };   /* a port in the peer's table */
    check("alloc_unbound_in_peer", evtchn_op(EVTCHNOP_alloc_unbound, alloc), EPERM);
    u32 port[1] = { 2 };                             /* a port number this domain never bound */
    check("send_port_not_ours", evtchn_op(EVTCHNOP_send, port), EINVAL);
    check("close_port_not_ours", evtchn_op(EVTCHNOP_close, port), EINVAL);
    alloc[0] = DOMID_SELF | peer << 16;              /* offered to the peer: not ours to take */
    check("alloc_unbound_for_peer", evtchn_op(EVTCHNOP_alloc_unbound, alloc), 0);
    u32 self_bind[3] = { DOMID_SELF, alloc[1], 0 };
    check("bind_port_offered_to_another", evtchn_op(EVTCHNOP_bind_interdomain, self_bind), EINVAL);
    /* the peer's memory: with equal reservations side by side, its first frame lies nr_pages below ours */
    u32 peer_mfn = mfn_of(0) - si->nr_pages;
    struct mmu_update req = { (u64)(scratch_l1_mfn << 12), peer_mfn << 12 | 0x25 };
    check("map_peers_frame", mmu_update(&req, 1), EINVAL);
    req.ptr = (u64)(peer_mfn << 12); req.val = 0;
    check("write_peers_frame", mmu_update(&req, 1), EINVAL);
    req.ptr = (u64)(peer_mfn << 12 | 1); req.val = 0;      /* MMU_MACHPHYS_UPDATE */
    check("machphys_update_peers_frame", mmu_update(&req, 1), EINVAL);
    check("update_va_mapping_peers_frame", update_va_mapping(TEST_BASE, peer_mfn << 12 | 0x25, 2), EINVAL);
    u32 extent[1] = { peer_mfn };
    struct xen_memory_reservation r = { extent, 1, 0, 0, DOMID_SELF };
    check("balloon_out_peers_frame", hypercall3(HYPERVISOR_memory_op, XENMEM_decrease_reservation, (u32)&r, 0), 0);
    puts("intruder: "); put_dec(passed); puts(" passed, "); put_dec(failed); puts(" failed\n");
    return failed == 0;
}

/* fpustate: a value held in ST(0) while the domain yields the CPU n times; beside another fpustate with another seed,
   it checks that Xen switches the FPU registers with the domain (lazily, on #NM). */
static int fpustate(u32 n) {
    u32 seed = option("seed", 7), kept = 0;
    __asm__ volatile("fninit\n\tfildl %0" : : "m"(seed));
    for (u32 i = 0; i < n; i++) hypercall3(HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
    __asm__ volatile("fistpl %0" : "=m"(kept));
    puts("fpustate: seed "); put_dec(seed); puts(" kept "); put_dec(kept); puts(" over "); put_dec(n);
    puts(" yields\n");
    return kept == seed;
}

/* crash: a page fault with no handler; Xen kills the domain, and any other domain runs on. */
static int crash(void) {
    puts("crash: a page fault with no handler\n");
    hypercall3(HYPERVISOR_set_trap_table, 0, 0, 0);
    return *(volatile u32 *)0x0FF00000u == 0;
}

static u32 option(const char *key, u32 dflt) {
    for (const char *p = si->cmd_line; *p; p++) {
        const char *k = key, *q = p;
        while (*k && *q == *k) { k++; q++; }
        if (!*k && *q == '=') {
            u32 v = 0;
            for (q++; *q >= '0' && *q <= '9'; q++) v = v * 10 + (u32)(*q - '0');
            return v ? v : dflt;
        }
    }
    return dflt;
}

static int hello(void) {
    puts("hello from the hvlab lab kernel\n");
    u32 status = spawn_and_wait(user_hello, 0x42, 0);
    puts("hello: process exited with status ");
    put_hex(status);
    puts("\n");
    return status == 0x42;
}

static const char *workload_name(void) {
    const char *p = si->cmd_line;
    while (*p && *p != ' ') p++;    /* the image name */
    while (*p == ' ') p++;
    return p;
}

static int same(const char *a, const char *b) {
    while (*a && *a != ' ' && *a == *b) { a++; b++; }
    return (*a == 0 || *a == ' ') && *b == 0;
}

void pv_main(struct start_info *start) {
    si = start;
    puts("lab: hvlab lab kernel\n");
    if (hypercall3(HYPERVISOR_set_trap_table, (u32)traps, 0, 0) != 0) panic("set_trap_table refused");
    if (hypercall3(HYPERVISOR_stack_switch, FLAT_KERNEL_DS, (u32)trap_stack_top, 0) != 0) panic("stack_switch refused");
    const char *w = workload_name();
    puts("lab: workload=");
    puts(*w ? w : "(none)");
    puts("\n");
    int ok;
    scratch_init();
    protect_kernel();
    frames_init();
    events_init();
    if (same(w, "hello")) ok = hello();
    else if (same(w, "syscall")) ok = bench_syscall(option("iterations", 100000));
    else if (same(w, "callret")) ok = bench_callret(option("iterations", 1000000));
    else if (same(w, "divzero")) ok = bench_divzero(option("iterations", 20000));
    else if (same(w, "pgfault")) ok = bench_pgfault(option("iterations", 20000));
    else if (same(w, "ptemod")) ok = bench_ptemod(option("iterations", 100000));
    else if (same(w, "in")) ok = bench_in(option("iterations", 100000));
    else if (same(w, "cr8wr")) ok = bench_cr8wr(option("iterations", 100000));
    else if (same(w, "selftest")) ok = pv_selftest();
    else if (same(w, "forkwait")) ok = bench_forkwait(option("iterations", 500));
    else if (same(w, "compute")) ok = bench_compute(option("iterations", 150));
    else if (same(w, "wildmem")) ok = wildmem();
    else if (same(w, "hvmem")) ok = hvmem();
    else if (same(w, "robin-irvine")) ok = robin_irvine();
    else if (same(w, "attacks")) ok = attacks();
    else if (same(w, "events")) ok = events();
    else if (same(w, "ping")) ok = ping(option("iterations", 1000));
    else if (same(w, "pong")) ok = pong(option("iterations", 1000));
    else if (same(w, "intruder")) ok = intruder();
    else if (same(w, "crash")) ok = crash();
    else if (same(w, "oneshot")) ok = oneshot();
    else if (same(w, "evtspin")) ok = evtspin(option("ms", 50));
    else if (same(w, "fpustate")) ok = fpustate(option("iterations", 100));
    else { puts("lab: unknown workload\n"); ok = 0; }
    shared->vcpu[0].upcall_mask = 1;
    puts(ok ? "lab: done status=pass timer_ticks=" : "lab: done status=fail timer_ticks=");
    put_dec(timer_ticks);
    puts("\n");
    shutdown(ok ? SHUTDOWN_poweroff : SHUTDOWN_reboot);   /* hvlab's Xen: the lab's failure exit, as native's */
}

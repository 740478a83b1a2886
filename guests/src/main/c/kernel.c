/* hvlab lab kernel: descriptor tables, PIC/PIT, serial console, paging, processes, traps and syscalls. */
#include "lab.h"
#include "user.h"

#define COM1 0x3F8
#define MB_BOOT_MAGIC 0x2BADB002

struct tss tss;
u32 kernel_pd[1024] __attribute__((aligned(4096)));
static u32 low_pt[1024] __attribute__((aligned(4096)));    /* 0..4 MiB in 4 KiB pages */
static u32 apic_pt[1024] __attribute__((aligned(4096)));   /* the local APIC page, uncached */
static u32 uc_pt[1024] __attribute__((aligned(4096)));     /* USER_BASE in the kernel PD: selftest user stack */
u32 test_pt[1024] __attribute__((aligned(4096)));          /* TEST_BASE scratch region */
u64 gdt[GDT_ENTRIES];
u64 idt[256];
volatile u32 timer_ticks;
u32 cpu_features;
u32 uc_stack_top;
u32 report_vals[4];
u32 ram_end;

volatile struct fault_rec frec;
volatile u32 expect_armed, fixup_eip, test3_frame, test3_esp0, test3_words[6], v86mon_frame, v86mon_words[9];
volatile u32 bench_pf_active, bench_de_skip;
u32 bench_pf_frame;
extern u32 uc_active;
extern const u32 isr_table[48];
extern void isr128(void), isr129(void), isr130(void), isr255(void), trapret(void);
extern char __user_start[], __user_end[], __bss_end[];
void swtch(u32 *save_esp, u32 new_esp);
void uc_return(u32 value) __attribute__((noreturn));

/* ---- serial console (16550, polled) ---- */

static void serial_init(void) {
    outb(COM1 + 1, 0x00);   /* no interrupts */
    outb(COM1 + 3, 0x80);   /* DLAB */
    outb(COM1 + 0, 0x01);   /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0xC7);   /* FIFO on, cleared, 14-byte threshold */
    outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

static void serial_putc(char c) {
    while (!(inb(COM1 + 5) & 0x20)) {}
    outb(COM1, (u8)c);
}

void kputs(const char *s) { while (*s) serial_putc(*s++); }

void lab_exit(u32 v) {
    for (u32 i = 0; i < 10000000 && !(inb(COM1 + 5) & 0x40); i++) {}   /* let the last byte leave (LSR.TEMT) */
    outb(0xF4, (u8)v);                      /* QEMU isa-debug-exit */
    for (const char *s = "Shutdown"; *s; s++) outb(0x8900, (u8)*s);   /* Bochs shutdown port */
    for (;;) __asm__ volatile("cli; hlt");
}

void panic(const char *f, ...) {
    char buf[256];
    __builtin_va_list ap;
    __builtin_va_start(ap, f);
    fmt(buf, sizeof buf, f, ap);
    __builtin_va_end(ap);
    kprintf("PANIC %s\n", buf);
    lab_exit(EXIT_PANIC_V);
}

/* ---- command line: "<image path> <workload> [key=value ...]" ---- */

static char cmdline[512];
static char *tokens[32];
static int ntokens;

static void parse_cmdline(const char *src) {
    int n = 0;
    while (src && src[n] && n < (int)sizeof cmdline - 1) { cmdline[n] = src[n]; n++; }
    cmdline[n] = 0;
    for (char *p = cmdline; *p && ntokens < 32;) {
        while (*p == ' ' || *p == '\t') *p++ = 0;
        if (!*p) break;
        tokens[ntokens++] = p;
        while (*p && *p != ' ' && *p != '\t') p++;
    }
}

const char *opt_get(const char *key) {
    size_t k = strlen(key);
    for (int i = 2; i < ntokens; i++)
        if (!memcmp(tokens[i], key, k) && tokens[i][k] == '=') return tokens[i] + k + 1;
    return NULL;
}

u32 opt_u32(const char *key, u32 dflt) {
    const char *v = opt_get(key);
    if (!v || !*v) return dflt;
    u32 r = 0;
    for (; *v >= '0' && *v <= '9'; v++) r = r * 10 + (u32)(*v - '0');
    return r ? r : dflt;
}

/* ---- descriptor tables ---- */


void gdt_set(u32 sel, u64 desc) { gdt[sel >> 3] = desc; }

u32 ring3_trap_stack(void) { return tss.esp0; }   /* user_call points it at its own stack */

static void gdt_init(void) {
    gdt[0] = 0;
    /* Accessed bits preset, so LAR results do not depend on whether a CPU sets them on loads. */
    gdt[1] = seg_desc(0, 0xFFFFF, 0x9B, 0xC);             /* ring 0 code */
    gdt[2] = seg_desc(0, 0xFFFFF, 0x93, 0xC);             /* ring 0 data */
    gdt[3] = seg_desc(0, 0xFFFFF, 0xFB, 0xC);             /* ring 3 code */
    gdt[4] = seg_desc(0, 0xFFFFF, 0xF3, 0xC);             /* ring 3 data */
    gdt[5] = seg_desc((u32)&tss, sizeof tss - 1, 0x89, 0x0);  /* 32-bit TSS, available (LTR makes it busy) */
    gdt[6] = seg_desc(0, 0x1234, 0x93, 0x4);              /* test: byte-granular data, limit 0x1234 */
    gdt[7] = seg_desc(0, 0xFFFFF, 0x99, 0xC);             /* test: execute-only code */
    gdt[8] = seg_desc(0, 0xFFFFF, 0x91, 0xC);             /* test: read-only data */
    struct { u16 limit; u32 base; } __attribute__((packed)) d = { sizeof gdt - 1, (u32)gdt };
    __asm__ volatile("lgdt %0\n"
                     "ljmp %1, $1f\n"
                     "1: movw %w2, %%ax\n"
                     "movw %%ax, %%ds\n movw %%ax, %%es\n movw %%ax, %%fs\n movw %%ax, %%gs\n movw %%ax, %%ss\n"
                     : : "m"(d), "i"(SEL_KCODE), "i"(SEL_KDATA) : "eax", "memory");
    tss.ss0 = SEL_KDATA;
    tss.esp0 = 0;
    tss.iomap = sizeof tss;   /* no I/O bitmap: CPL 3 port access faults with IOPL 0 */
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

static void idt_init(void) {
    for (int v = 0; v < 48; v++) idt[v] = gate_desc(isr_table[v], 0x8E);   /* interrupt gates, DPL 0 */
    idt[VEC_SYSCALL] = gate_desc((u32)isr128, 0xEE);                     /* DPL 3 */
    idt[VEC_TEST3] = gate_desc((u32)isr129, 0xEE);
    idt[VEC_V86MON] = gate_desc((u32)isr130, 0xEE);
    idt[VEC_APIC_SPURIOUS] = gate_desc((u32)isr255, 0x8E);
    struct { u16 limit; u32 base; } __attribute__((packed)) d = { sizeof idt - 1, (u32)idt };
    __asm__ volatile("lidt %0" : : "m"(d));
}

/* 8259 pair remapped to 0x20-0x2F; only IRQ0 (the PIT) unmasked. */
static void pic_init(void) {
    outb(0x20, 0x11); outb(0xA0, 0x11);
    outb(0x21, 0x20); outb(0xA1, 0x28);
    outb(0x21, 0x04); outb(0xA1, 0x02);
    outb(0x21, 0x01); outb(0xA1, 0x01);
    outb(0x21, 0xFE); outb(0xA1, 0xFF);
}

/* PIT channel 0, mode 2, 100 Hz (1193182 / 11932). */
static void pit_init(void) {
    outb(0x43, 0x34);
    outb(0x40, 11932 & 0xFF);
    outb(0x40, 11932 >> 8);
}

/* ---- physical frames from 4 MiB to the end of RAM or 16 MiB, a stack of free frames (lowest on top) ---- */

#define NFRAMES ((IDENTITY_MB - 4) * 256)
static u32 free_frames[NFRAMES];
static u32 nfree;

static void frames_init(u32 ram_end) {
    u32 end = ram_end < IDENTITY_MB * 0x100000u ? ram_end & ~0xFFFu : IDENTITY_MB * 0x100000u;
    for (u32 pa = end; pa > 0x400000; pa -= 4096) free_frames[nfree++] = pa - 4096;
}

u32 alloc_frame(void) {
    if (!nfree) panic("out of page frames");
    u32 pa = free_frames[--nfree];
    memset((void *)pa, 0, 4096);
    return pa;
}

void free_frame(u32 pa) { free_frames[nfree++] = pa; }

/* ---- paging ---- */

static void paging_init(void) {
    u32 g = (cpu_features & (1u << 13)) ? PTE_G : 0;
    u32 ustart = (u32)__user_start, uend = (u32)__user_end;
    for (u32 i = 1; i < 1024; i++) {
        u32 pa = i << 12;
        if (pa >= ustart && pa < uend) low_pt[i] = pa | PTE_P | PTE_U | g;   /* shared user code, read-only */
        else low_pt[i] = pa | PTE_P | PTE_W | g;
    }
    low_pt[0] = 0;                                                        /* catch null pointers */
    kernel_pd[0] = (u32)low_pt | PTE_P | PTE_W | PTE_U;
    for (u32 i = 1; i < IDENTITY_MB / 4; i++) kernel_pd[i] = (i << 22) | PTE_P | PTE_W | PTE_PS | g;
    apic_pt[(LAPIC_BASE >> 12) & 1023] = LAPIC_BASE | PTE_P | PTE_W | PTE_PCD | PTE_PWT;
    kernel_pd[LAPIC_BASE >> 22] = (u32)apic_pt | PTE_P | PTE_W;
    for (u32 i = 0; i < 4; i++) uc_pt[1023 - i] = alloc_frame() | PTE_P | PTE_W | PTE_U;
    uc_stack_top = USER_STACK_TOP;
    kernel_pd[USER_BASE >> 22] = (u32)uc_pt | PTE_P | PTE_W | PTE_U;
    kernel_pd[TEST_BASE >> 22] = (u32)test_pt | PTE_P | PTE_W | PTE_U;
    write_cr4(read_cr4() | 0x10 | (g ? 0x80 : 0));   /* CR4.PSE, CR4.PGE */
    write_cr3((u32)kernel_pd);
    write_cr0(read_cr0() | 0x80010000);               /* CR0.PG, CR0.WP */
}

/* The 8259's INTR reaches the CPU through LINT0 of the local APIC once the APIC is enabled, which it is after
   reset (IA32_APIC_BASE.EN); firmware normally sets up this virtual-wire mode (MP spec 3.6.2.2), and a ROM
   boot has no firmware, so the kernel does it: SVR enabled, LINT0 ExtINT, LINT1 NMI. */
static void lapic_virtual_wire(void) {
    if (!(cpu_features & (1u << 9))) return;   /* no local APIC: INTR goes straight to the CPU */
    volatile u32 *lapic = (volatile u32 *)LAPIC_BASE;
    lapic[0xF0 / 4] = 0x100 | VEC_APIC_SPURIOUS;
    lapic[0x350 / 4] = 0x700;
    lapic[0x360 / 4] = 0x400;
}

u32 *kernel_pte(u32 va, int create, u32 pde_flags) {
    u32 *pde = &kernel_pd[va >> 22];
    if (!(*pde & PTE_P)) {
        if (!create) return NULL;
        *pde = alloc_frame() | PTE_P | pde_flags;
    }
    return (u32 *)(*pde & ~0xFFFu) + ((va >> 12) & 1023);
}

/* ---- processes: run to completion; wait() runs the child ---- */

#define NPROC 16
enum { P_FREE, P_RUNNABLE, P_RUNNING, P_WAITING, P_ZOMBIE };
struct proc {
    u32 pid, state, pd, kesp, status;
    u32 *upt;
    u32 kstack_top;
    struct proc *parent;
};
static struct proc procs[NPROC];
static u8 kstacks[NPROC][4096] __attribute__((aligned(4096)));
static struct proc *current;
static u32 boot_kesp;
static u32 next_pid = 1;

static struct proc *proc_alloc(void) {
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = &procs[i];
        if (p->state != P_FREE) continue;
        memset(p, 0, sizeof *p);
        p->pid = next_pid++;
        p->kstack_top = (u32)kstacks[i] + sizeof kstacks[i];
        u32 *pd = (u32 *)alloc_frame();
        for (u32 j = 0; j < IDENTITY_MB / 4; j++) pd[j] = kernel_pd[j];
        pd[LAPIC_BASE >> 22] = kernel_pd[LAPIC_BASE >> 22];
        p->upt = (u32 *)alloc_frame();
        pd[USER_BASE >> 22] = (u32)p->upt | PTE_P | PTE_W | PTE_U;
        p->pd = (u32)pd;
        p->state = P_RUNNABLE;
        return p;
    }
    panic("out of process slots");
}

static void proc_free(struct proc *p) {
    for (int i = 0; i < 1024; i++)
        if (p->upt[i] & PTE_P) free_frame(p->upt[i] & ~0xFFFu);
    free_frame((u32)p->upt);
    free_frame(p->pd);
    p->state = P_FREE;
}

/* The kernel stack of a new process: a trap frame, and below it a swtch frame that returns to trapret. */
static void proc_set_frame(struct proc *p, const struct trapframe *tf) {
    struct trapframe *ktf = (struct trapframe *)(p->kstack_top - sizeof *ktf);
    *ktf = *tf;
    u32 *sp = (u32 *)ktf;
    *--sp = (u32)trapret;
    for (int i = 0; i < 4; i++) *--sp = 0;   /* ebp, ebx, esi, edi */
    *--sp = 0x2;                             /* EFLAGS, IF = 0 until the IRET */
    p->kesp = (u32)sp;
}

static void switch_to(u32 *save, struct proc *to) {
    current = to;
    to->state = P_RUNNING;
    tss.esp0 = to->kstack_top;
    write_cr3(to->pd);
    swtch(save, to->kesp);
}

int proc_spawn_and_wait(void (*entry)(u32), u32 arg, u32 heap_pages, u32 *status) {
    struct proc *p = proc_alloc();
    for (u32 i = 0; i < heap_pages; i++) p->upt[i] = alloc_frame() | PTE_P | PTE_W | PTE_U;
    for (u32 i = 0; i < USER_STACK_PAGES; i++) p->upt[1023 - i] = alloc_frame() | PTE_P | PTE_W | PTE_U;
    u32 *ustack = (u32 *)((p->upt[1023] & ~0xFFFu) + 4096);
    ustack[-1] = arg;
    ustack[-2] = 0;   /* return address: entry functions never return */
    struct trapframe tf;
    memset(&tf, 0, sizeof tf);
    tf.ds = tf.es = tf.fs = tf.gs = tf.ss = SEL_UDATA;
    tf.cs = SEL_UCODE;
    tf.eip = (u32)entry;
    tf.eflags = 0x202;
    tf.esp = USER_STACK_TOP - 8;
    proc_set_frame(p, &tf);
    switch_to(&boot_kesp, p);
    /* back here when p exits */
    *status = p->status;
    proc_free(p);
    return 0;
}

static void sys_exit(u32 status) {
    struct proc *p = current;
    p->status = status;
    p->state = P_ZOMBIE;
    if (p->parent && p->parent->state == P_WAITING) {
        switch_to(&p->kesp, p->parent);
    } else {
        current = NULL;
        write_cr3((u32)kernel_pd);
        swtch(&p->kesp, boot_kesp);
    }
    panic("zombie ran");
}

static u32 sys_fork(struct trapframe *tf) {
    struct proc *parent = current, *c = proc_alloc();
    for (int i = 0; i < 1024; i++) {
        u32 e = parent->upt[i];
        if (!(e & PTE_P)) continue;
        u32 pa = alloc_frame();
        memcpy((void *)pa, (void *)(e & ~0xFFFu), 4096);
        c->upt[i] = pa | (e & (PTE_P | PTE_W | PTE_U));
    }
    c->parent = parent;
    struct trapframe ctf = *tf;
    ctf.eax = 0;
    proc_set_frame(c, &ctf);
    return c->pid;
}

static u32 sys_wait(u32 pid) {
    struct proc *c = NULL;
    for (int i = 0; i < NPROC; i++)
        if (procs[i].state != P_FREE && procs[i].pid == pid && procs[i].parent == current) c = &procs[i];
    if (!c) return 0xFFFFFFFFu;
    if (c->state == P_RUNNABLE) {
        struct proc *self = current;
        self->state = P_WAITING;
        switch_to(&self->kesp, c);
        current = self;
        self->state = P_RUNNING;
    }
    if (c->state != P_ZOMBIE) panic("wait: child %u not finished", pid);
    u32 st = c->status;
    proc_free(c);
    return st;
}

static void syscall(struct trapframe *tf) {
    switch (tf->eax) {
    case SYS_EXIT:
        if (uc_active) uc_return(tf->ebx);
        if (!current) panic("exit without a process");
        sys_exit(tf->ebx);
        break;
    case SYS_FORK: tf->eax = current ? sys_fork(tf) : 0xFFFFFFFFu; break;
    case SYS_WAIT: tf->eax = current ? sys_wait(tf->ebx) : 0xFFFFFFFFu; break;
    case SYS_PUTS: {
        const char *s = (const char *)tf->ebx;
        u32 n = tf->ecx;
        if (n > 4096 || tf->ebx < 0x1000 || tf->ebx + n < tf->ebx) { tf->eax = 0xFFFFFFFFu; break; }
        for (u32 i = 0; i < n; i++) serial_putc(s[i]);
        tf->eax = n;
        break;
    }
    case SYS_NOP: tf->eax = 0; break;
    case SYS_REPORT:
        report_vals[0] = tf->ebx; report_vals[1] = tf->ecx; report_vals[2] = tf->edx; report_vals[3] = tf->esi;
        tf->eax = 0;
        break;
    default: tf->eax = 0xFFFFFFFFu; break;
    }
}

/* ---- traps ---- */

static void irq(u32 n) {
    if (n == 7 || n == 15) {   /* spurious if not in service */
        u16 port = n == 7 ? 0x20 : 0xA0;
        outb(port, 0x0B);
        if (!(inb(port) & 0x80)) { if (n == 15) outb(0x20, 0x20); return; }
    }
    if (n == 0) timer_ticks++;
    if (n >= 8) outb(0xA0, 0x20);
    outb(0x20, 0x20);
}

void trap(struct trapframe *tf) {
    u32 v = tf->vector;
    if (v >= 0x20 && v < 0x30) { irq(v - 0x20); return; }
    if (v == VEC_SYSCALL) { syscall(tf); return; }
    if (v == VEC_APIC_SPURIOUS) return;   /* no EOI for a spurious interrupt */
    if (v == VEC_TEST3) {
        test3_frame = (u32)&tf->eip;
        test3_esp0 = tss.esp0;
        test3_words[0] = tf->eip; test3_words[1] = tf->cs; test3_words[2] = tf->eflags;
        test3_words[3] = tf->esp; test3_words[4] = tf->ss; test3_words[5] = tf->ebx;
        return;
    }
    if (v == VEC_V86MON && (tf->eflags & EFLAGS_VM)) {   /* the monitor serves the V86 program: EAX + 1 */
        const u32 *v86_segments = (const u32 *)(tf + 1);   /* ES, DS, FS, GS, above SS (SDM 6.12.1) */
        v86mon_frame = (u32)&tf->eip;
        v86mon_words[0] = tf->eip; v86mon_words[1] = tf->cs; v86mon_words[2] = tf->eflags;
        v86mon_words[3] = tf->esp; v86mon_words[4] = tf->ss;
        for (int i = 0; i < 4; i++) v86mon_words[5 + i] = v86_segments[i];
        tf->eax++;
        return;
    }
    if (v == 14 && bench_pf_active) {
        u32 va = read_cr2();
        if ((va >> 22) == (TEST_BASE >> 22)) {
            test_pt[(va >> 12) & 1023] = bench_pf_frame | PTE_P | PTE_W;
            return;
        }
    }
    if (v == 0 && bench_de_skip) { tf->eip += bench_de_skip; return; }
    if (expect_armed) {
        frec.vector = v;
        frec.err = tf->err;
        frec.eip = tf->eip;
        frec.cs = tf->cs;
        frec.cr2 = v == 14 ? read_cr2() : 0;
        frec.frame_addr = (u32)&tf->eip;
        frec.count++;
        expect_armed = 0;
        if (((tf->cs & 3) == 3 || (tf->eflags & EFLAGS_VM)) && uc_active) uc_return(UC_FAULTED);
        if (fixup_eip) { tf->eip = fixup_eip; fixup_eip = 0; }
        return;
    }
    kprintf("EXCEPTION vector=%u err=0x%x eip=0x%08x cs=0x%x eflags=0x%x cr2=0x%08x\n",
            v, tf->err, tf->eip, tf->cs, tf->eflags, v == 14 ? read_cr2() : 0);
    panic("unexpected exception %u", v);
}

/* ---- results ---- */

void print_result(const char *workload, u32 iterations, u64 cycles, const char *extra) {
    u64 per = udiv64(cycles, iterations ? iterations : 1, NULL);
    kprintf("result workload=%s iterations=%u total_cycles=%llu per_op_cycles=%llu%s\n",
            workload, iterations, cycles, per, extra ? extra : "");
}

/* ---- main ---- */

struct multiboot_info { u32 flags, mem_lower, mem_upper, boot_device, cmdline; };

static int hello_main(void) {
    kprintf("hello from the hvlab lab kernel\n");
    u32 st;
    proc_spawn_and_wait(user_hello, 0x42, 0, &st);   /* a ring-3 process: syscalls, exit, reaped */
    kprintf("hello: process exited with status 0x%x\n", st);
    return st == 0x42 ? 0 : 1;
}

void kmain(u32 magic, struct multiboot_info *mbi) {
    serial_init();
    if (magic != MB_BOOT_MAGIC) panic("bad multiboot magic 0x%x", magic);
    parse_cmdline((mbi->flags & 4) ? (const char *)mbi->cmdline : "");
    if (!(mbi->flags & 1) || mbi->mem_upper < 6 * 1024) panic("needs at least 8 MiB of RAM");
    if ((u32)__bss_end > 0x400000) panic("kernel too large");
    u32 a, b, c, d;
    cpuid(0, &a, &b, &c, &d);
    if (a < 1) panic("CPUID leaf 1 missing");
    cpuid(1, &a, &b, &c, &d);
    cpu_features = d;
    const u32 need = (1u << 3) | (1u << 4) | (1u << 8) | (1u << 15);   /* PSE, TSC, CX8, CMOV */
    if ((d & need) != need) panic("CPU lacks PSE, TSC, CX8 or CMOV (CPUID.1:EDX=0x%x)", d);

    gdt_init();
    idt_init();
    pic_init();
    pit_init();
    ram_end = 0x100000 + (mbi->mem_upper > 0x3FF00 ? 0x3FF00 : mbi->mem_upper) * 1024;
    frames_init(ram_end);
    paging_init();
    lapic_virtual_wire();
    sti();

    kprintf("lab: hvlab lab kernel\n");
    kprintf("lab: workload=%s", ntokens > 1 ? tokens[1] : "");
    for (int i = 2; i < ntokens; i++) kprintf(" %s", tokens[i]);
    kprintf("\n");

    int rc;
    const char *w = ntokens > 1 ? tokens[1] : "";
    if (!strcmp(w, "hello")) rc = hello_main();
    else if (!strcmp(w, "selftest")) rc = selftest_main();
    else if ((rc = hostile_main(w)) < 0) rc = bench_main(w);
    if (rc < 0) {
        kprintf("lab: unknown workload '%s'; known: hello selftest syscall in cr8wr callret pgfault divzero "
                "ptemod forkwait compute wildmem hvmem clispin robin-irvine\n", w);
        rc = 1;
    }
    cli();
    kprintf("lab: done status=%s timer_ticks=%u\n", rc == 0 ? "pass" : "fail", timer_ticks);
    lab_exit(rc == 0 ? EXIT_SUCCESS_V : EXIT_FAILURE_V);
}

/* Hostile workloads: the guest reaches for resources it was not given and checks that the machine kept control,
   as a PC does (Popek & Goldberg's resource control) and that sensitive-but-unprivileged instructions show the
   state the kernel set up (Robin & Irvine). Only facts are printed, never addresses or values a hypervisor might
   legitimately change; the TCK compares each run under a provider with native. */
#include "lab.h"

extern u64 gdt[GDT_ENTRIES];
extern u64 idt[256];
extern u32 test_pt[1024];
extern char __user_start[], __user_end[];
extern void u_read(void), u_read_insn(void), u_write(void), u_write_insn(void), u_probe(void);

/* ---- the guest's own memory: pattern-filled frames and the user code, summed before and after an attack ---- */

#define OWN_FRAMES 4
static u32 own[OWN_FRAMES];

static u32 own_sum(void) {
    u32 s = 0;
    for (u32 f = 0; f < OWN_FRAMES; f++)
        for (u32 *w = (u32 *)own[f]; w < (u32 *)(own[f] + 4096); w++) s = (s << 1 | s >> 31) ^ *w;
    for (u32 *w = (u32 *)__user_start; w < (u32 *)__user_end; w++) s = (s << 1 | s >> 31) ^ *w;
    return s;
}

static u32 own_init(void) {
    for (u32 f = 0; f < OWN_FRAMES; f++) {
        own[f] = alloc_frame();
        for (u32 i = 0; i < 1024; i++) ((u32 *)own[f])[i] = (f * 1024 + i) * 0x9E3779B9u;
    }
    return own_sum();
}

/* Maps the physical page of pa at linear page va (uncached) and checks that no memory answers there: two reads
   agree and a write of their complement does not stick. What the reads return is left out: nothing decodes the
   address, and QEMU's PC reads 0 there where hvlab's bus, like a real ISA/PCI bus, floats to all ones. */
static void check_no_memory(const char *name, u32 va, u32 pa) {
    pa &= ~0xFFFu;
    *kernel_pte(va, 1, PTE_P | PTE_W) = pa | PTE_P | PTE_W | PTE_PCD | PTE_PWT;
    invlpg(va);
    volatile u32 *p = (volatile u32 *)(va + 0x40);
    u32 a = *p, b = *p;
    *p = ~a;
    u32 c = *p;
    int ok = a == b && c == a;
    if (!ok) DETAIL("pa=0x%x reads 0x%x 0x%x, after writing 0x%x 0x%x", pa + 0x40, a, b, ~a, c);
    report(name, ok);
}

static void check_own_memory(u32 before) {
    u32 after = own_sum();
    if (after != before) DETAIL("checksum 0x%x, before 0x%x", after, before);
    report("own_memory_intact", after == before);
}

/* wildmem: unmapped and supervisor pages fault with the SDM's error code (P, W/R, U/S bits) and CR2, at CPL 0 and
   CPL 3; physical memory 64 MiB past the end of RAM holds nothing; none of it touches the guest's own memory. */
static void wildmem(void) {
    u32 sum = own_init(), at;
    memset(test_pt, 0, 4096);
    write_cr3(read_cr3());
    ARM(); FAULT_ADDR(at, "movl (%%ecx), %%eax", TVA(1) + 0x10);
    report("ring0_read_unmapped_pf", expect("read", at, 14, 0, at) && frec.cr2 == TVA(1) + 0x10);
    ARM(); FAULT_ADDR(at, "movl $0x5A5A5A5A, (%%ecx)", TVA(1) + 0x20);
    report("ring0_write_unmapped_pf", expect("write", at, 14, 2, at) && frec.cr2 == TVA(1) + 0x20);

    test_pt[2] = own[0] | PTE_P | PTE_W;   /* the guest's own frame, supervisor only */
    invlpg(TVA(2));
    report("ring3_read_unmapped_pf", ufault("read", u_read, TVA(1) + 4, 14, 4, (u32)u_read_insn) &&
           frec.cr2 == TVA(1) + 4);
    report("ring3_write_unmapped_pf", ufault("write", u_write, TVA(1) + 8, 14, 6, (u32)u_write_insn) &&
           frec.cr2 == TVA(1) + 8);
    report("ring3_read_supervisor_pf", ufault("read", u_read, TVA(2), 14, 5, (u32)u_read_insn) && frec.cr2 == TVA(2));
    report("ring3_write_supervisor_pf", ufault("write", u_write, TVA(2) + 12, 14, 7, (u32)u_write_insn) &&
           frec.cr2 == TVA(2) + 12);
    report("ring3_write_kernel_pf", ufault("write", u_write, (u32)&tss, 14, 7, (u32)u_write_insn) &&
           frec.cr2 == (u32)&tss);

    /* not right past mem_upper: QEMU's loader reports less than its RAM and keeps the firmware's ACPI tables in
       the top 128 KiB, memory the guest was not given but that does store */
    check_no_memory("beyond_ram_holds_nothing", TVA(3), ram_end + 0x4000000u);
    check_own_memory(sum);
}

/* hvmem: Xen on IA-32 reserves the top 64 MiB of every linear address space (0xFC000000 up); on a PC it is the
   guest's. Its page tables map own RAM there (the first page and the last, whose last dword is linear 0xFFFFFFFC),
   and writes through those pages reach the guest's own frame, seen through the identity map. The top 64 MiB of
   physical space is the PC's I/O hole (APICs, BIOS ROM alias); a page of it with nothing decoded (0xFC000000 on
   QEMU's and hvlab's PC) must read the same twice and keep no write, and the guest's memory must be unchanged. */
#define TOP64M 0xFC000000u
static void hvmem(void) {
    u32 sum = own_init();
    u32 frame = alloc_frame();
    *kernel_pte(TOP64M, 1, PTE_P | PTE_W) = frame | PTE_P | PTE_W;
    *kernel_pte(0xFFFFF000u, 1, PTE_P | PTE_W) = frame | PTE_P | PTE_W;
    write_cr3(read_cr3());
    *(volatile u32 *)TOP64M = 0xC0DEFC00u;
    *(volatile u32 *)0xFFFFFFFCu = 0xC0DEFFFCu;
    u32 a = *(volatile u32 *)frame, b = *(volatile u32 *)(frame + 0xFFC), c = *(volatile u32 *)0xFFFFF000u;
    if (a != 0xC0DEFC00u || c != a) DETAIL("frame reads 0x%x, alias 0x%x", a, c);
    report("top64m_linear_maps_own_ram", a == 0xC0DEFC00u && c == a);
    if (b != 0xC0DEFFFCu) DETAIL("frame reads 0x%x", b);
    report("last_linear_dword_maps_own_ram", b == 0xC0DEFFFCu);
    check_no_memory("phys_top64m_holds_nothing", TOP64M + 0x1000, TOP64M);
    check_own_memory(sum);
}

/* clispin: with IF clear and every PIC line masked the guest spins until the PIT has reloaded (mode 2 counts down,
   so a rise is a reload, IRQ0's edge) and IRQ0 waits in the PIC's IRR (QEMU raises the edge from a host timer,
   some time after the counter shows the reload): the platform timer kept counting, and IRQ0 arrives as soon as
   the guest unmasks it and sets IF again. */
#define SPIN_LIMIT 100000000u
static u32 pit_count(void) { outb(0x43, 0x00); u32 lo = inb(0x40); return lo | (u32)inb(0x40) << 8; }
static u32 irq0_requested(void) { outb(0x20, 0x0A); return inb(0x20) & 1; }   /* OCW3: read the IRR */

static void clispin(void) {
    cli();
    outb(0x21, 0xFF);
    u32 ticks = timer_ticks, first = pit_count(), prev = first, changed = 0, reloaded = 0, pending = 0, i;
    for (i = 0; i < SPIN_LIMIT && !(reloaded && pending); i++) {
        u32 c = pit_count();
        changed |= c != first;
        reloaded |= c > prev;
        prev = c;
        pending = irq0_requested();
    }
    report("pit_kept_counting", changed);
    report("pit_reloaded_under_cli", reloaded);
    report("irq0_held_while_masked", timer_ticks == ticks);
    report("irq0_pending_in_irr", pending);
    outb(0x21, 0xFE);
    __asm__ volatile("sti; nop; cli" ::: "memory");   /* one instruction after STI: the pending IRQ0 is taken */
    report("irq0_delivered_after_sti", timer_ticks != ticks);
    kprintf("clispin: spin_ticks=%u\n", i);
    sti();
}

/* robin-irvine: what probe() stores must be what the kernel loaded (GDTR, IDTR, no LDT, TR, CR0), EFLAGS as the
   kernel left it and the real CPL in CS's RPL, at CPL 0 and at CPL 3; then LAR/LSL/VERR/VERW, POPF, INT, IRET and
   far CALL/RET through a call gate (the selftest's checks of them). */
struct probe {
    u16 gdt_limit; u32 gdt_base;
    u16 idt_limit; u32 idt_base;
    u32 ldtr, tr, msw, eflags, cs_mov, cs_push;
} __attribute__((packed));
void probe(struct probe *rec);

static void check_probe(const char *ring, const struct probe *p, u32 cs, u32 eflags) {
    char name[40];
    struct { const char *insn; int ok; } r[] = {
        { "sgdt", p->gdt_base == (u32)gdt && p->gdt_limit == sizeof(u64) * GDT_ENTRIES - 1 },
        { "sidt", p->idt_base == (u32)idt && p->idt_limit == 256 * 8 - 1 },
        { "sldt", p->ldtr == 0 },
        { "str", p->tr == SEL_TSS },
        { "smsw", p->msw == (read_cr0() & 0xFFFF) },
        { "pushf_if_iopl", (p->eflags & (EFLAGS_IF | EFLAGS_IOPL3)) == eflags },
        { "mov_cs_rpl", p->cs_mov == cs },
        { "push_cs_rpl", p->cs_push == cs },
    };
    for (u32 i = 0; i < sizeof r / sizeof r[0]; i++) {
        snfmt(name, sizeof name, "%s_%s", ring, r[i].insn);
        if (!r[i].ok) DETAIL("gdt=0x%x/0x%x idt=0x%x/0x%x ldtr=0x%x tr=0x%x msw=0x%x eflags=0x%x cs=0x%x/0x%x",
                             p->gdt_base, p->gdt_limit, p->idt_base, p->idt_limit, p->ldtr, p->tr, p->msw, p->eflags,
                             p->cs_mov, p->cs_push);
        report(name, r[i].ok);
    }
}

static void robin_irvine(void) {
    struct probe p;
    cli();
    probe(&p);
    sti();
    check_probe("ring0", &p, SEL_KCODE, 0);
    u32 f;   /* POPF at CPL 0 changes IF and IOPL */
    __asm__ volatile("pushfl\n\tpushl %1\n\tpopfl\n\tpushfl\n\tpopl %0\n\tpopfl" : "=r"(f) : "r"(0x2 | EFLAGS_IOPL3) : "cc");
    if ((f & (EFLAGS_IF | EFLAGS_IOPL3)) != EFLAGS_IOPL3) DETAIL("eflags=0x%x", f);
    report("ring0_popf_if_iopl", (f & (EFLAGS_IF | EFLAGS_IOPL3)) == EFLAGS_IOPL3);
    u32 rec = ucall(u_probe, 0);
    if (rec == UC_FAULTED) DETAIL("vector=%u err=0x%x eip=0x%x", frec.vector, frec.err, frec.eip);
    report("ring3_probe_ran", rec != UC_FAULTED);
    if (rec != UC_FAULTED) check_probe("ring3", (const struct probe *)rec, SEL_UCODE, EFLAGS_IF);
    test_descriptors((u32)gdt, (u32)idt);
    test_ring3_sensitive();
    test_call_gate();
}

/* crash: an IDT of limit 0, then UD2: #UD, #GP and #DF all lie beyond the limit, so the processor shuts down
   (SDM Vol. 3A 6.15, "Double Fault Exception": a fault while delivering #DF is a triple fault). Beside other
   domains a hypervisor must end this one alone. */
static void crash(void) {
    static const struct { u16 limit; u32 base; } __attribute__((packed)) no_idt = { 0, 0 };
    kprintf("crash: an IDT of limit 0, then ud2: a triple fault\n");
    __asm__ volatile("lidt %0\n\tud2" : : "m"(no_idt));
}

static const struct { const char *name; void (*run)(void); } workloads[] = {
    { "wildmem", wildmem }, { "hvmem", hvmem }, { "clispin", clispin }, { "robin-irvine", robin_irvine },
    { "crash", crash },
};

int hostile_main(const char *name) {
    for (u32 i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        if (strcmp(name, workloads[i].name)) continue;
        workloads[i].run();
        kprintf("%s: %u passed, %u failed\n", name, checks_passed, checks_failed);
        return checks_failed ? 1 : 0;
    }
    return -1;
}

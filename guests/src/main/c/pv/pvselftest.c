/* selftest for the PV lab kernel: native's checks, names, lines and order. Those any ring runs are checks.c's, as
   native runs them; the rest are ported to what a kernel in ring 1 under Xen has: ring 1 is "supervisor" for
   paging, Xen's bounce frame on stack_switch's stack replaces the IDT's frame on TSS.ESP0, the kernel's own GDT
   (set_gdt, update_descriptor) holds native's selectors, and page-table writes are Xen's checked ones. What Xen's
   design rules out is still attempted, and FAILs saying what Xen did. */
#include "../lab.h"
#include "pv.h"

#undef TEST_BASE
#define TEST_BASE PV_TEST_BASE   /* TVA(n): page n of the PV kernel's scratch region */
#define HYPERVISOR_update_descriptor 10
#define EVTCHNOP_bind_pirq 2
#define L1_VIEW 0x3FF000u        /* the scratch L1, read-only: a free slot of the bootstrap L1 (L2 slot 0) */
#define GDT_VIEW TVA(16)         /* the lab GDT, read-only: where the kernel sees its own table */

extern void st_trap0(void), st_trap3(void), st_trap4(void), st_trap5(void), st_trap6(void), st_trap10(void),
    st_trap11(void), st_trap12(void), st_trap13(void), st_trap14(void), t_gate_target(void);
extern u32 st_cr2;
void user_return(u32 value) __attribute__((noreturn));
u32 pv_v86_call(u32 seg, u32 ip, u32 sp, u32 eflags);
extern const u8 v86_prog[], v86_prog_end[];

volatile struct fault_rec frec;
volatile u32 test3_esp0;
u32 uc_stack_top;

void kputs(const char *s) { console_write(s); }

static void st_panic(const char *why) __attribute__((noreturn));
static void st_panic(const char *why) {
    kprintf("PANIC %s\n", why);
    u32 reason[1] = { SHUTDOWN_crash };
    hypercall3(HYPERVISOR_sched_op, SCHEDOP_shutdown, (u32)reason, 0);
    for (;;) {}
}

/* ---- traps: recorded as native's trap() records an expected fault ---- */

struct st_frame { u32 edi, esi, ebp, oesp, ebx, edx, ecx, eax, es, ds, vector, err, eip, cs, eflags; };

void pv_selftest_trap(struct st_frame *tf) {
    if (!expect_armed) {
        kprintf("EXCEPTION vector=%u err=0x%x eip=0x%08x cs=0x%x\n", tf->vector, tf->err, tf->eip, tf->cs);
        st_panic("unexpected exception");
    }
    frec.vector = tf->vector;
    frec.err = tf->err;
    frec.eip = tf->eip;
    frec.cs = tf->cs & 0xFFFF;   /* bits 23:16 hold the event mask Xen saved */
    frec.cr2 = tf->vector == 14 ? st_cr2 : 0;
    frec.frame_addr = (u32)&tf->eip;
    frec.count++;
    expect_armed = 0;
    if ((tf->cs & 3) == 3) user_return(UC_FAULTED);
    if (fixup_eip) { tf->eip = fixup_eip; fixup_eip = 0; }
}

/* The kernel's IDT for the selftest: DPL 0 throughout, as native's gates (Xen's own gates 3 and 4 are DPL 3). */
static struct trap_info st_traps[] = {
    { 0, 0, FLAT_KERNEL_CS, (u32)st_trap0 }, { 3, 0, FLAT_KERNEL_CS, (u32)st_trap3 },
    { 4, 0, FLAT_KERNEL_CS, (u32)st_trap4 }, { 5, 0, FLAT_KERNEL_CS, (u32)st_trap5 },
    { 6, 0, FLAT_KERNEL_CS, (u32)st_trap6 }, { 10, 0, FLAT_KERNEL_CS, (u32)st_trap10 },
    { 11, 0, FLAT_KERNEL_CS, (u32)st_trap11 }, { 12, 0, FLAT_KERNEL_CS, (u32)st_trap12 },
    { 13, 0, FLAT_KERNEL_CS, (u32)st_trap13 }, { 14, 0, FLAT_KERNEL_CS, (u32)st_trap14 }, { 0, 0, 0, 0 },
};

u32 ring3_trap_stack(void) { return (u32)trap_stack_top; }   /* stack_switch's: where Xen bounces ring-3 traps */

/* ---- the lab GDT: native's (gdt_init), given to Xen by set_gdt, changed by update_descriptor ---- */

static u32 gdt_pfn;
static long tss_answer;   /* Xen's answer to the kernel's TSS descriptor */

static long descriptor(u32 sel, u64 desc) {
    return hypercall4(HYPERVISOR_update_descriptor, mfn_of(gdt_pfn) << 12 | (sel & ~7u), 0, (u32)desc,
                      (u32)(desc >> 32));
}

void gdt_set(u32 sel, u64 desc) {
    if (descriptor(sel, desc) != 0) st_panic("update_descriptor refused a lab descriptor");
}

static void lab_gdt_install(void) {
    static struct tss tss;
    gdt_pfn = alloc_pfn();
    windows(&gdt_pfn, 1);
    u64 *gdt = (u64 *)WINDOW(0);
    memset(gdt, 0, 4096);
    gdt[1] = seg_desc(0, 0xFFFFF, 0x9B, 0xC);   /* Xen makes the DPL 0 ones DPL 1 and cuts limits below FC400000 */
    gdt[2] = seg_desc(0, 0xFFFFF, 0x93, 0xC);
    gdt[3] = seg_desc(0, 0xFFFFF, 0xFB, 0xC);
    gdt[4] = seg_desc(0, 0xFFFFF, 0xF3, 0xC);
    gdt[6] = seg_desc(0, 0x1234, 0x93, 0x4);
    gdt[7] = seg_desc(0, 0xFFFFF, 0x99, 0xC);
    gdt[8] = seg_desc(0, 0xFFFFF, 0x91, 0xC);
    windows(0, 1);
    u32 frames[1] = { mfn_of(gdt_pfn) };
    if (hypercall3(HYPERVISOR_set_gdt, (u32)frames, GDT_ENTRIES, 0) != 0) st_panic("set_gdt refused the lab GDT");
    /* Xen takes no TSS in a guest's GDT ([X32] x86_32/mm.c check_descriptor): index 5 holds the one system
       segment it allows, a call gate */
    tss_answer = descriptor(SEL_TSS, seg_desc((u32)&tss, sizeof tss - 1, 0x89, 0));
    gdt_set(SEL_TSS, gate_desc((u32)t_gate_target, 0x8C));
}

/* ---- page tables: Xen's checked writes, as checks.c's paging checks ask for them ---- */

static u32 frames[3];   /* pfns of the test frames */

static u32 frame_pte(u32 pfn, u32 flags) { return mfn_of(pfn) << 12 | flags; }
static void disarm(void) { expect_armed = 0; fixup_eip = 0; }

/* The L1 entry of TVA(n): mmu_update, which flushes nothing on Xen; the flush is the caller's, as native's */
void scratch_map(u32 n, u32 frame, u32 flags) {
    struct mmu_update u = { (u64)(scratch_l1_mfn << 12 | n * 4), flags ? frame_pte(frames[frame], flags) : 0 };
    if (mmu_update(&u, 1) != 0) st_panic("mmu_update refused a scratch PTE");
}

u32 scratch_pte(u32 n) { return ((volatile u32 *)L1_VIEW)[n]; }
u32 scratch_pde(void) { return ((volatile const u32 *)si->pt_base)[PV_TEST_BASE >> 22]; }   /* the L2, read-only */

void scratch_pde_clear_accessed(void) {
    struct mmu_update u = { (u64)(l2_mfn << 12 | (PV_TEST_BASE >> 22) * 4), scratch_pde() & ~PTE_A };
    if (mmu_update(&u, 1) != 0) st_panic("mmu_update refused the scratch PDE");
}

u32 test_frame_read(u32 frame, u32 offset) {
    windows(&frames[frame], 1);
    u32 v = *(volatile u32 *)(WINDOW(0) + offset);
    windows(0, 1);
    return v;
}

void test_frame_write(u32 frame, u32 offset, u32 v) {
    windows(&frames[frame], 1);
    *(volatile u32 *)(WINDOW(0) + offset) = v;
    windows(0, 1);
}

void tlb_invlpg(u32 va) {
    struct mmuext_op op = { MMUEXT_INVLPG_LOCAL, va, 0 };
    u32 done;
    hypercall4(HYPERVISOR_mmuext_op, (u32)&op, 1, (u32)&done, DOMID_SELF);
}

/* A PV kernel's MOV CR3: MMUEXT_NEW_BASEPTR with the same directory, which flushes the TLB as the MOV does */
void tlb_reload(void) {
    if (mmuext(MMUEXT_NEW_BASEPTR, si->pt_base >> 12) != 0) st_panic("new_baseptr refused");
}

static void test_ring3(void) {
    test_ring3_privileged();
    test_ring3_sensitive();
    test_user_paging(TEST_BASE);
}

/* ---- tasks, virtual-8086 mode, the PIT: what Xen keeps from a PV domain ---- */

/* Each task check tries what native's does first, a TSS or task gate in the GDT ([X32] check_descriptor refuses
   both: Xen does not virtualise x86 tasking), then the jump or call it needs; the CPU finds no task there. */
static void test_tasks(void) {
    static struct tss task;
    u32 at;
    long answer = descriptor(SEL_TASK, seg_desc((u32)&task, sizeof task - 1, 0x89, 0));
    ARM(); FAULT_AT(at, "", "ljmp $0x50, $0");
    DETAIL("update_descriptor(TSS) %d; ljmp 0x50: faults=%u vector=%u err=0x%x", answer, frec.count, frec.vector, frec.err);
    report("task_jmp_and_back", 0);
    disarm();

    answer = descriptor(SEL_TASKGATE, (u64)SEL_TASK << 16 | (u64)0x85 << 40);
    ARM(); FAULT_AT(at, "", "lcall $0x58, $0");
    DETAIL("update_descriptor(task gate) %d; lcall 0x58: faults=%u vector=%u err=0x%x", answer, frec.count,
           frec.vector, frec.err);
    report("task_call_nt_and_back_link", 0);
    disarm();
    DETAIL("no task was called (Xen refused its TSS and task gate), so none returns by IRET");
    report("task_iret_to_back_link", 0);
    DETAIL("no task was called (Xen refused its TSS and task gate), so none resumes");
    report("task_call_resumes_after_iret", 0);

    answer = descriptor(SEL_BADTSS, seg_desc((u32)&task, 0x60, 0x89, 0));
    ARM(); FAULT_AT(at, "", "ljmp $0x68, $0");
    DETAIL("update_descriptor(short TSS) %d; ljmp 0x68: faults=%u vector=%u err=0x%x, not #TS", answer, frec.count,
           frec.vector, frec.err);
    report("task_tss_limit_ts", 0);
    disarm();
    DETAIL("the kernel has no task to be busy: update_descriptor(TSS at 0x28) %d", tss_answer);
    report("task_jmp_busy_gp", 0);
    answer = descriptor(SEL_DFTASK, seg_desc((u32)&task, sizeof task - 1, 0x89, 0));
    DETAIL("update_descriptor(#DF task's TSS) %d; a trap_info entry is a handler address, never a task gate", answer);
    report("df_through_task_gate", 0);
}

/* Native enters virtual-8086 mode by IRET at CPL 0; from ring 1 it takes the iret hypercall with EFLAGS.VM, where
   Xen 3 would strip IOPL ([X32] do_iret), so no 8086 program runs with IOPL 3 as native's does. */
#define V86_SEG 0xF000      /* below 1 MiB, past what the domain builder placed: native's 0x0700 is kernel code here */
#define V86_LINEAR (V86_SEG << 4)
static void test_v86(void) {
    const u32 *boot_l1 = (const u32 *)(si->pt_base + 4096);   /* the bootstrap L1 after the L2, read-only */
    if (si->pt_base + (si->nr_pt_frames + 1) * 4096 > V86_LINEAR) st_panic("no room for the 8086 program");
    u32 saved = boot_l1[V86_LINEAR >> 12];
    if (update_va_mapping(V86_LINEAR, saved | PTE_U, 2) != 0) st_panic("v86 page refused");   /* CPL 3 runs it */
    memcpy((void *)V86_LINEAR, v86_prog, v86_prog_end - v86_prog);
    frec.count = 0;
    expect_armed = 1;
    u32 r = pv_v86_call(V86_SEG, 0, 0x1000, EFLAGS_IOPL3);
    expect_armed = 0;
    static const char *const names[] = { "v86_iret_entry_real_mode_addressing", "v86_int_iopl3_monitor_frame",
        "v86_iret_back_to_v86", "v86_int_iopl0_gp", "v86_in_checks_io_bitmap_not_iopl" };
    for (u32 i = 0; i < sizeof names / sizeof names[0]; i++) {
        DETAIL("HYPERVISOR_iret to virtual-8086 mode: %d, faults=%u; the 8086 program never ran", (i32)r, frec.count);
        report(names[i], 0);
    }
    update_va_mapping(V86_LINEAR, saved, 2);
}

/* The PIT's IRQ0 is Xen's: a domain may not bind physical IRQ 0 ([X32] event_channel.c evtchn_bind_pirq), its ticks
   come as VIRQ_TIMER */
static void test_timer(void) {
    u32 bind[3] = { 0, 0, 0 };   /* pirq, flags, OUT port */
    long answer = hypercall3(HYPERVISOR_event_channel_op, EVTCHNOP_bind_pirq, (u32)bind, 0);
    DETAIL("bind_pirq(IRQ0) %d: the PIT and the PICs are Xen's, its ticks arrive as VIRQ_TIMER", answer);
    report("pit_irq0_ticks", 0);
}

static void events_off(void) { shared->vcpu[0].upcall_mask = 1; }

int pv_selftest(void) {
    lab_gdt_install();
    if (hypercall3(HYPERVISOR_set_trap_table, (u32)st_traps, 0, 0) != 0) st_panic("set_trap_table refused");
    u32 stack = alloc_pfn();
    if (update_va_mapping(TVA(9), frame_pte(stack, PTE_P | PTE_W | PTE_U), 2) != 0) st_panic("user stack refused");
    uc_stack_top = TVA(10);
    test3_esp0 = (u32)trap_stack_top;
    user_cs_sel = SEL_UCODE;
    user_ds_sel = SEL_UDATA;
    for (u32 f = 0; f < 3; f++) {
        frames[f] = alloc_pfn();
        windows(&frames[f], 1);
        memset((void *)WINDOW(0), 0, 4096);
        windows(0, 1);
    }
    if (update_va_mapping(L1_VIEW, scratch_l1_mfn << 12 | PTE_P, 2) != 0) st_panic("scratch L1 view refused");
    if (update_va_mapping(GDT_VIEW, frame_pte(gdt_pfn, PTE_P), 2) != 0) st_panic("GDT view refused");
    test_cpuid_tsc();
    events_off();   /* native's cli: the flag tests load EFLAGS with IF = 0 */
    test_instructions();
    events_on();
    test_enter_leave();
    test_exceptions();
    test_descriptors(GDT_VIEW, (u32)st_traps);   /* the trap table is the PV kernel's IDT */
    test_paging_kernel(TEST_BASE);
    test_ring3();
    test_call_gate();
    events_off();
    test_tasks();
    test_v86();
    events_on();
    test_timer();
    kprintf("selftest: %u passed, %u failed\n", checks_passed, checks_failed);
    return checks_failed == 0;
}

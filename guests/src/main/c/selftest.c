/* selftest: the kernel checks CPU behaviour against the SDM and prints PASS/FAIL per check. The checks any ring
   can run are checks.c's, shared with the PV port; here are those of ring 0 and the PC's own hardware. */
#include "lab.h"

extern u64 gdt[GDT_ENTRIES];
extern u64 idt[256];
extern u32 test_pt[1024];
extern void t_gate_target(void), t_task_jmp(void), t_task_call(void), t_task_call_resume(void), t_df_task(void);
extern const u8 v86_prog[], v86_prog_int[], v86_prog_after[], v86_prog_in[], v86_prog_end[];
extern u32 gate_rec[7], task_rec[6], df_rec[4], df_resume_eip;

/* ---------------------------------------------------------------- paging: the hooks of checks.c's checks */

static u32 test_frames[3];   /* physical addresses, identity mapped */

void scratch_map(u32 n, u32 frame, u32 flags) { test_pt[n] = flags ? test_frames[frame] | flags : 0; }
u32 scratch_pte(u32 n) { return *(volatile u32 *)&test_pt[n]; }
u32 scratch_pde(void) { return *(volatile u32 *)&kernel_pd[TEST_BASE >> 22]; }
void scratch_pde_clear_accessed(void) { kernel_pd[TEST_BASE >> 22] &= ~PTE_A; }
u32 test_frame_read(u32 frame, u32 offset) { return *(volatile u32 *)(test_frames[frame] + offset); }
void test_frame_write(u32 frame, u32 offset, u32 v) { *(volatile u32 *)(test_frames[frame] + offset) = v; }
void tlb_invlpg(u32 va) { invlpg(va); }
void tlb_reload(void) { write_cr3(read_cr3()); }

static void test_ring3(void) {
    test_ring3_privileged();
    test_ring3_sensitive();
    test_user_paging(TEST_BASE);
    memset(test_pt, 0, 4096);
    write_cr3(read_cr3());
}

/* ---------------------------------------------------------------- call gates, tasks, virtual-8086 mode */

/* These checks must pass on QEMU too, so they stay clear of what its TCG does otherwise than the SDM (hvlab
   follows the SDM there, tested in hw-core): CR4.VME (TCG lacks it; CPUID says so), 16-bit TSSs (TCG keeps the
   upper halves of the registers, the SDM says they are modified), faults after a task switch's commit point
   (on TCG the handler's frame holds the EIP of the JMP or CALL, not the new task's), a not-present SS in a new TSS (#SS by the SDM,
   #NP on TCG), VIF and VIP in a TSS's EFLAGS (TCG does not load them). */


static struct tss task_tss, df_tss;
static u32 task_stack[256], df_stack[256];

#define DESC_TYPE(sel) ((u32)(gdt[(sel) >> 3] >> 40) & 0xF)
#define TSS_AVAILABLE 9
#define TSS_BUSY 11

/* A ring-0 task on the kernel's page directory: flat segments, interrupts off, no LDT, no I/O bit map. */
static void task_init(struct tss *t, void (*entry)(void), u32 *stack_top, u32 sel) {
    memset(t, 0, sizeof *t);
    t->cr3 = read_cr3();
    t->eip = (u32)entry;
    t->eflags = 0x2;
    t->esp = (u32)stack_top;
    t->cs = SEL_KCODE;
    t->es = t->ss = t->ds = t->fs = t->gs = SEL_KDATA;
    t->iomap = sizeof *t;
    gdt[sel >> 3] = seg_desc((u32)t, sizeof *t - 1, 0x89, 0);
}

/* Hardware task switches (SDM 7.3, Table 7-2): JMP to a TSS; CALL through a task gate and IRET back by the
   link; #TS for a TSS limit below 67H and #GP for a busy TSS, both in the old task (Table 7-1). Each switch
   sets CR0.TS; the kernel clears it after. */
static void test_tasks(void) {
    tss.cr3 = read_cr3();   /* a task switch does not save CR3 but loads it from the TSS */
    task_init(&task_tss, t_task_jmp, task_stack + 256, SEL_TASK);
    memset(task_rec, 0, 24);
    __asm__ volatile("ljmp %0, $0" : : "i"(SEL_TASK) : "memory");
    u32 tr;
    __asm__ volatile("str %0" : "=r"(tr));
    int ok = task_rec[0] == SEL_TASK && !(task_rec[1] & EFLAGS_NT) && (task_rec[2] & 8) &&
             ((task_rec[3] >> 8) & 0xF) == TSS_AVAILABLE && ((task_rec[4] >> 8) & 0xF) == TSS_BUSY &&
             (tr & 0xFFFF) == SEL_TSS && DESC_TYPE(SEL_TSS) == TSS_BUSY && DESC_TYPE(SEL_TASK) == TSS_AVAILABLE;
    if (!ok) DETAIL("task: tr=0x%x eflags=0x%x cr0=0x%x types=%u/%u; back: tr=0x%x types=%u/%u", task_rec[0], task_rec[1],
                    task_rec[2], (task_rec[3] >> 8) & 0xF, (task_rec[4] >> 8) & 0xF, tr & 0xFFFF, DESC_TYPE(SEL_TSS),
                    DESC_TYPE(SEL_TASK));
    report("task_jmp_and_back", ok);

    task_init(&task_tss, t_task_call, task_stack + 256, SEL_TASK);
    gdt[SEL_TASKGATE >> 3] = (u64)SEL_TASK << 16 | (u64)0x85 << 40;   /* task gate, DPL 0 */
    memset(task_rec, 0, 24);
    __asm__ volatile("lcall %0, $0" : : "i"(SEL_TASKGATE) : "memory");
    u32 flags;
    __asm__ volatile("pushfl; popl %0" : "=r"(flags));
    ok = task_rec[0] == SEL_TASK && (task_rec[1] & EFLAGS_NT) && ((task_rec[3] >> 8) & 0xF) == TSS_BUSY &&
         ((task_rec[4] >> 8) & 0xF) == TSS_BUSY && (task_tss.link & 0xFFFF) == SEL_TSS;
    if (!ok) DETAIL("tr=0x%x eflags=0x%x types=%u/%u link=0x%x", task_rec[0], task_rec[1], (task_rec[3] >> 8) & 0xF,
                    (task_rec[4] >> 8) & 0xF, task_tss.link);
    report("task_call_nt_and_back_link", ok);
    ok = !(flags & EFLAGS_NT) && DESC_TYPE(SEL_TASK) == TSS_AVAILABLE && DESC_TYPE(SEL_TSS) == TSS_BUSY &&
         !(task_tss.eflags & EFLAGS_NT) && task_tss.eip == (u32)t_task_call_resume;
    if (!ok) DETAIL("eflags=0x%x types=%u/%u saved eflags=0x%x eip=0x%x", flags, DESC_TYPE(SEL_TASK), DESC_TYPE(SEL_TSS),
                    task_tss.eflags, task_tss.eip);
    report("task_iret_to_back_link", ok);
    __asm__ volatile("lcall %0, $0" : : "i"(SEL_TASKGATE) : "memory");
    if (task_rec[5] != 2) DETAIL("runs=%u", task_rec[5]);
    report("task_call_resumes_after_iret", task_rec[5] == 2);

    u32 at;
    gdt[SEL_BADTSS >> 3] = seg_desc((u32)&task_tss, 0x60, 0x89, 0);
    ARM(); FAULT_AT(at, "", "ljmp $0x68, $0");
    report("task_tss_limit_ts", expect("jmp to a short TSS", at, 10, SEL_BADTSS, at) && DESC_TYPE(SEL_TSS) == TSS_BUSY);
    ARM(); FAULT_AT(at, "", "ljmp $0x28, $0");
    report("task_jmp_busy_gp", expect("jmp to the busy TSS", at, 13, SEL_TSS, at));

    /* #DF through a task gate: with the #GP gate not present, a #GP becomes #NP while it is delivered, and two
       contributory faults make a double fault (SDM 6.15, Table 6-5) */
    task_init(&df_tss, t_df_task, df_stack + 256, SEL_DFTASK);
    u64 gp_gate = idt[13], df_gate = idt[8];
    idt[8] = (u64)SEL_DFTASK << 16 | (u64)0x85 << 40;
    idt[13] &= ~(1ull << 47);
    memset(df_rec, 0, 16);
    __asm__ volatile("movl $2f, df_resume_eip\n\tmovl $1f, %0\n1:\tmovw %w1, %%ds\n2:" : "=m"(at) : "r"(0x100) : "memory");
    idt[13] = gp_gate;
    idt[8] = df_gate;
    ok = df_rec[0] == (u32)(df_stack + 256) - 4 && df_rec[1] == 0 && df_rec[2] == at && (df_rec[3] & EFLAGS_NT) &&
         (df_tss.link & 0xFFFF) == SEL_TSS && DESC_TYPE(SEL_DFTASK) == TSS_AVAILABLE;
    if (!ok) DETAIL("esp=top-%u err=0x%x eip=0x%x (at 0x%x) eflags=0x%x link=0x%x type=%u", (u32)(df_stack + 256) - df_rec[0],
                    df_rec[1], df_rec[2], at, df_rec[3], df_tss.link, DESC_TYPE(SEL_DFTASK));
    report("df_through_task_gate", ok);
    __asm__ volatile("clts");
}

/* Virtual-8086 mode (SDM 20.2, 20.3): entered by IRET with VM = 1 at CPL 0; real-mode addressing at CPL 3;
   INT n with IOPL 3 reaches a DPL 3 gate whose ring-0 frame holds GS, FS, DS, ES of the program, and IRET goes
   back; INT n with IOPL 0 and IN without an I/O bit map raise #GP(0). */
#define V86_SEG 0x0700
#define V86_LINEAR (V86_SEG << 4)
static void test_v86(void) {
    u32 *pte = kernel_pte(V86_LINEAR, 0, 0), saved_pte = *pte;
    *pte = V86_LINEAR | PTE_P | PTE_W | PTE_U;   /* the program's page, reachable at CPL 3 */
    invlpg(V86_LINEAR);
    memcpy((void *)V86_LINEAR, v86_prog, v86_prog_end - v86_prog);
    volatile u16 *data = (volatile u16 *)(V86_LINEAR + 0x800);
    data[1] = 0x5678;
    u32 ip_int = v86_prog_int - v86_prog, ip_after = v86_prog_after - v86_prog;

    frec.count = 0;
    v86mon_frame = 0;
    expect_armed = 1;
    u32 r = v86_call(V86_SEG, 0, 0x1000, EFLAGS_IOPL3);
    expect_armed = 0;
    u32 esp0 = tss.esp0;
    int ok = data[0] == 0x1234 && data[2] == 0x68AC && (data[3] & EFLAGS_IOPL3) == EFLAGS_IOPL3;
    if (!ok) DETAIL("words 0x%x 0x%x flags 0x%x", data[0], data[2], data[3]);
    report("v86_iret_entry_real_mode_addressing", ok);
    ok = v86mon_frame == esp0 - 36 && v86mon_words[0] == ip_after && v86mon_words[1] == V86_SEG &&
         (v86mon_words[2] & (EFLAGS_VM | EFLAGS_IOPL3)) == (EFLAGS_VM | EFLAGS_IOPL3) && v86mon_words[3] == 0x1000 &&
         v86mon_words[4] == V86_SEG && v86mon_words[5] == V86_SEG && v86mon_words[6] == V86_SEG &&
         v86mon_words[7] == 0 && v86mon_words[8] == 0;
    if (!ok) DETAIL("slot=esp0-%u eip=0x%x cs=0x%x eflags=0x%x esp=0x%x ss=0x%x es=0x%x ds=0x%x fs=0x%x gs=0x%x",
                    esp0 - v86mon_frame, v86mon_words[0], v86mon_words[1], v86mon_words[2], v86mon_words[3],
                    v86mon_words[4], v86mon_words[5], v86mon_words[6], v86mon_words[7], v86mon_words[8]);
    report("v86_int_iopl3_monitor_frame", ok);
    if (r != 0x68AD || frec.count) DETAIL("ret=0x%x faults=%u", r, frec.count);
    report("v86_iret_back_to_v86", r == 0x68AD && frec.count == 0);

    frec.count = 0;
    expect_armed = 1;
    r = v86_call(V86_SEG, ip_int, 0x1000, 0);
    expect_armed = 0;
    ok = r == UC_FAULTED && frec.count == 1 && frec.vector == 13 && frec.err == 0 && frec.eip == ip_int &&
         frec.cs == V86_SEG;
    if (!ok) DETAIL("ret=0x%x count=%u vector=%u err=0x%x eip=0x%x cs=0x%x", r, frec.count, frec.vector, frec.err, frec.eip, frec.cs);
    report("v86_int_iopl0_gp", ok);

    u32 ip_in = v86_prog_in - v86_prog;
    frec.count = 0;
    expect_armed = 1;
    r = v86_call(V86_SEG, ip_in, 0x1000, EFLAGS_IOPL3);
    expect_armed = 0;
    ok = r == UC_FAULTED && frec.count == 1 && frec.vector == 13 && frec.err == 0 && frec.eip == ip_in;
    if (!ok) DETAIL("ret=0x%x count=%u vector=%u err=0x%x eip=0x%x", r, frec.count, frec.vector, frec.err, frec.eip);
    report("v86_in_checks_io_bitmap_not_iopl", ok);

    *pte = saved_pte;
    invlpg(V86_LINEAR);
}

static void test_timer(void) {
    u32 t0 = timer_ticks;
    u64 c0 = rdtsc();
    while (timer_ticks == t0) {
        __asm__ volatile("sti; hlt");
        if (rdtsc() - c0 > 0x4000000000ull) break;
    }
    report("pit_irq0_ticks", timer_ticks != t0);
}

int selftest_main(void) {
    for (u32 f = 0; f < 3; f++) test_frames[f] = alloc_frame();
    test_cpuid_tsc();
    cli();   /* the flag tests load EFLAGS with IF = 0 */
    test_instructions();
    sti();
    test_enter_leave();
    test_exceptions();
    test_descriptors((u32)gdt, (u32)idt);
    memset(test_pt, 0, 4096);
    write_cr3(read_cr3());
    test_paging_kernel(TEST_BASE);
    test_ring3();
    test_call_gate();
    cli();   /* deterministic: no interrupt inside the test tasks or the 8086 program */
    test_tasks();
    test_v86();
    sti();
    test_timer();
    kprintf("selftest: %u passed, %u failed\n", checks_passed, checks_failed);
    return checks_failed ? 1 : 0;
}

/* hvlab lab kernel: shared declarations. Freestanding IA-32, no libc. The constants also serve the .S files. */
#ifndef LAB_H
#define LAB_H

#ifndef __ASSEMBLER__
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef short i16;
typedef int i32;
typedef long long i64;
typedef unsigned int size_t;

#define NULL ((void *)0)
#endif

/* Exit values written to port 0xF4 (QEMU isa-debug-exit exits with (v << 1) | 1). */
#define EXIT_SUCCESS_V 0x10
#define EXIT_FAILURE_V 0x11
#define EXIT_PANIC_V   0x12

#include "descriptors.h"   /* GDT selectors */

/* Interrupt vectors. */
#define VEC_IRQ0    0x20
#define VEC_SYSCALL 0x80
#define VEC_TEST3   0x81      /* DPL 3 test gate: records the frame */
#define VEC_V86MON  0x82      /* DPL 3 test gate: the selftest's virtual-8086 monitor */
#define VEC_APIC_SPURIOUS 0xFF

#include "syscalls.h"       /* syscall numbers */

/* Virtual memory layout. */
#define IDENTITY_MB      16            /* 0..16 MiB identity mapped, supervisor */
#define USER_BASE        0x40000000u   /* per-process heap; one page table per process */
#define USER_STACK_TOP   0x40400000u
#define USER_STACK_PAGES 4
#define TEST_BASE        0x80000000u   /* selftest and benchmark scratch region (kernel PD only) */
#define LAPIC_BASE       0xFEE00000u
#define TVA(n) (TEST_BASE + (n) * 4096)   /* page n of the scratch region */

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A   0x020
#define PTE_D   0x040
#define PTE_PS  0x080
#define PTE_G   0x100

#define EFLAGS_CF 0x0001
#define EFLAGS_PF 0x0004
#define EFLAGS_AF 0x0010
#define EFLAGS_ZF 0x0040
#define EFLAGS_SF 0x0080
#define EFLAGS_TF 0x0100
#define EFLAGS_IF 0x0200
#define EFLAGS_DF 0x0400
#define EFLAGS_OF 0x0800
#define EFLAGS_IOPL3 0x3000
#define EFLAGS_NT 0x4000
#define EFLAGS_VM 0x20000
#define EFLAGS_ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

#define TSS_EIP 0x20          /* offset of the EIP field in a 32-bit TSS */

#ifdef __ASSEMBLER__
/* An IRET frame into virtual-8086 mode (SDM Vol. 2A "IRET"): GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP, with
   EAX = segment, ECX = IP, EDX = SP, EBX = EFLAGS (VM set here); DS = ES = SS = CS, FS = GS = 0. */
.macro PUSH_V86_FRAME
    orl $EFLAGS_VM, %ebx
    pushl $0
    pushl $0
    pushl %eax
    pushl %eax
    pushl %eax
    pushl %edx
    pushl %ebx
    pushl %eax
    pushl %ecx
.endm
#endif

#ifndef __ASSEMBLER__

struct trapframe {
    u32 edi, esi, ebp, oesp, ebx, edx, ecx, eax;   /* pushal */
    u32 gs, fs, es, ds;
    u32 vector, err;
    u32 eip, cs, eflags;
    u32 esp, ss;                                  /* only on a privilege change */
};

struct tss {
    u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
    u32 es, cs, ss, ds, fs, gs, ldt;
    u16 trap, iomap;
};

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }
static inline void invlpg(u32 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline u32 read_cr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline u32 read_cr2(void) { u32 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u32 read_cr3(void) { u32 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline u32 read_cr4(void) { u32 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr4(u32 v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* ulib.c (user-accessible pages: both rings call these) */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
u64 udiv64(u64 n, u32 d, u32 *rem);
int fmt(char *buf, int size, const char *f, __builtin_va_list ap);
int snfmt(char *buf, int size, const char *f, ...);

/* kernel.c */
extern struct tss tss;
extern u32 kernel_pd[1024];
extern volatile u32 timer_ticks;
extern u32 cpu_features;   /* CPUID.1:EDX */
void kprintf(const char *f, ...);
void kputs(const char *s);
void lab_exit(u32 v) __attribute__((noreturn));
void panic(const char *f, ...) __attribute__((noreturn));
u32 alloc_frame(void);
void free_frame(u32 pa);
const char *opt_get(const char *key);
u32 opt_u32(const char *key, u32 dflt);
u32 *kernel_pte(u32 va, int create, u32 pde_flags);
void print_result(const char *workload, u32 iterations, u64 cycles, const char *extra);

/* Processes. */
struct proc;
int proc_spawn_and_wait(void (*entry)(u32), u32 arg, u32 heap_pages, u32 *status);
extern u32 report_vals[4];

/* Expected-fault machinery (trap.c part of kernel.c). */
struct fault_rec {
    u32 vector, err, eip, cs, cr2, frame_addr, count;
};
extern volatile struct fault_rec frec;
extern volatile u32 expect_armed;   /* 1: the next exception is expected and recorded */
extern volatile u32 fixup_eip;      /* nonzero: resume there after an expected kernel-mode fault */
extern volatile u32 test3_frame;    /* address of the EIP slot of the last int 0x81 frame */
extern volatile u32 test3_esp0;
extern volatile u32 test3_words[6]; /* eip, cs, eflags, esp, ss of that frame; ebx at the int */
extern volatile u32 v86mon_frame;   /* address of the EIP slot of the last int VEC_V86MON frame */
extern volatile u32 v86mon_words[9];/* eip, cs, eflags, esp, ss, es, ds, fs, gs of that frame */
u32 user_call(void (*fn)(void), u32 user_esp, u32 arg);   /* entry.S: run fn at CPL 3 */
/* entry.S: run 8086 code in virtual-8086 mode at CS:IP = seg:0 + ip with SS:SP = seg:sp, DS = ES = seg,
   FS = GS = 0 and EFLAGS = VM | eflags; it comes back like user_call */
u32 v86_call(u32 seg, u32 ip, u32 sp, u32 eflags);
#define UC_FAULTED 0xFFFFFFFFu
extern u32 uc_stack_top;

/* Benchmark hooks in trap(). */
extern volatile u32 bench_pf_active;
extern volatile u32 bench_de_skip;

/* checks.c: PASS/FAIL lines and checks of expected faults, shared with the hostile workloads (hostile.c) and the
   PV port. */
extern u32 checks_passed, checks_failed;
extern char check_detail[160];   /* the FAIL line's detail; report() clears it */
#define DETAIL(...) snfmt(check_detail, sizeof check_detail, __VA_ARGS__)
void report(const char *name, int ok);
#define ARM() do { frec.count = 0; frec.vector = 0xFFFFFFFFu; expect_armed = 1; } while (0)
/* Runs "insn" with ECX = addr at label 1; an expected fault resumes at label 2. */
#define FAULT_ADDR(at, insn, addr) \
    __asm__ volatile("movl $1f, %[at]\n\tmovl $2f, fixup_eip\n1:\t" insn "\n2:\n" : [at] "=m"(at) : "c"(addr) : "memory", "cc", "eax")
/* Runs "setup" then the instruction "insn" at label 1; an expected fault resumes at label 2. */
#define FAULT_AT(at, setup, insn, ...)                                                       \
    __asm__ volatile("movl $1f, %[at]\n\tmovl $2f, fixup_eip\n\t" setup "\n1:\t" insn "\n2:\n" \
                     : [at] "=m"(at) : : "memory", "cc", ##__VA_ARGS__)
int expect(const char *what, u32 at, u32 vector, u32 err, u32 eip);
u32 ucall(void (*fn)(void), u32 arg);   /* user_call with faults recorded */
int ufault(const char *what, void (*fn)(void), u32 arg, u32 vector, u32 err, u32 eip);
void test_descriptors(u32 gdt_base, u32 idt_base);
void test_ring3_sensitive(void);
void test_call_gate(void);

/* checks.c: the checks any ring runs, in the lab kernel's selftest and its PV port alike. */
u64 seg_desc(u32 base, u32 limit, u32 access, u32 flags);
u64 gate_desc(u32 offset, u32 access);   /* to SEL_KCODE:offset */
void test_cpuid_tsc(void);
void test_instructions(void);   /* with interrupts off */
void test_enter_leave(void);
void test_exceptions(void);
void test_ring3_privileged(void);
void test_user_page_faults(u32 test_base);
void test_paging_kernel(u32 test_base);
void test_user_paging(u32 test_base);
/* ... and what they ask of the kernel they run in */
void gdt_set(u32 sel, u64 desc);   /* a descriptor of the lab GDT */
u32 ring3_trap_stack(void);        /* the stack top a trap from ring 3 switches to (TSS.ESP0 on a PC) */
/* The paging checks' scratch page n mapped to test frame 0..2 with PTE flags (0: not mapped), TLB left alone */
void scratch_map(u32 n, u32 frame, u32 flags);
u32 scratch_pte(u32 n);
u32 scratch_pde(void);
void scratch_pde_clear_accessed(void);
u32 test_frame_read(u32 frame, u32 offset);
void test_frame_write(u32 frame, u32 offset, u32 v);
void tlb_invlpg(u32 va);
void tlb_reload(void);             /* MOV CR3 with the same directory */

/* Workloads. */
extern u32 ram_end;   /* physical end of RAM above 1 MiB as the loader reported it (mem_upper) */
int selftest_main(void);
int bench_main(const char *name);
int hostile_main(const char *name);   /* wildmem, hvmem, clispin, robin-irvine, crash; -1 for another name */

#endif /* __ASSEMBLER__ */
#endif

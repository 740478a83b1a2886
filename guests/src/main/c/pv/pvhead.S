/* PV lab kernel entry. Xen starts it in ring 1 with ESI = start_info, a bootstrap stack, events masked. */
#include "../lab.h"
    .section __xen_guest
    .ascii "GUEST_OS=hvlab-lab,XEN_VER=xen-3.0,VIRT_BASE=0x0,ELF_PADDR_OFFSET=0x0,HYPERCALL_PAGE=0x2,PAE=no,LOADER=generic"
    .byte 0

    .section .pvhead, "ax"
    .globl _start, shared_info_page, hypercall_page
_start:
    cld
    movl $kstack_top, %esp
    pushl %esi
    call pv_main
1:  jmp 1b

    .org 0x1000
shared_info_page:
    .fill 4096, 1, 0
hypercall_page:
    .fill 4096, 1, 0xCC

    .text
/* Trap entries Xen bounces to (section 10): the frame is EIP, CS (+ saved mask in bits 23:16), EFLAGS, [ESP, SS];
   exceptions with an error code have it below EIP, a page fault also CR2 below that (the paper's frame). */
    .globl syscall_entry, fault_entry_noerr, fault_entry_err, divide_entry, page_fault_entry, event_entry
    .globl int81_entry
/* Saves DS, ES and the general registers and loads FLAT_KERNEL_DS: ring 3's data segments are no use here. */
.macro SAVE_ALL
    pushl %ds
    pushl %es
    pushal
    movl $0xE021, %eax
    movw %ax, %ds
    movw %ax, %es
.endm
.macro RESTORE_ALL
    popal
    popl %es
    popl %ds
.endm
/* The event callback (section 11): Xen masked events and built EIP, CS+mask, EFLAGS on this stack. */
event_entry:
    SAVE_ALL
    call pv_events
    RESTORE_ALL
    iret
syscall_entry:
    SAVE_ALL
    pushl %esp
    call pv_syscall
    addl $4, %esp
    .globl syscall_return
syscall_return:                     /* a new process starts here, from the frame its parent's fork copied */
    RESTORE_ALL
    iret
/* #DE: skip the 2-byte DIV of the divzero benchmark. */
divide_entry:
    addl $2, (%esp)
    iret
/* #PF: Xen's frame is CR2, error code, EIP, CS, EFLAGS (the paper's extended frame). */
page_fault_entry:
    pushal
    pushl %ds
    movl $0xE021, %eax
    movw %ax, %ds
    movw %ax, %es
    leal 36(%esp), %eax             /* CR2, error code, EIP, CS, EFLAGS */
    pushl %eax
    call pv_page_fault
    addl $4, %esp
    popl %ds
    popal
    addl $8, %esp                   /* CR2 and the error code */
    iret
fault_entry_noerr:
    pushl $0
fault_entry_err:
    pushal
    movl $0xE021, %eax
    movw %ax, %ds
    movw %ax, %es
    pushl %esp
    call pv_fault                   /* returns only from an expected fault, its EIP moved to the fixup */
    addl $4, %esp
    popal
    addl $4, %esp                   /* the error code */
    iret

/* INT 0x81 from ring 3 (robin-irvine): records where Xen built the frame and its five words (EIP, CS with the
   saved event mask in bits 23:16, EFLAGS, ESP, SS) and the snippet's EBX, as native's handler does; IRET to ring 3. */
int81_entry:
    movl %esp, test3_frame
    pushl %eax
    pushl %ecx
    xorl %ecx, %ecx
1:  movl 8(%esp,%ecx,4), %eax
    movl %eax, test3_words(,%ecx,4)
    incl %ecx
    cmpl $5, %ecx
    jb 1b
    movl %ebx, test3_words+20
    popl %ecx
    popl %eax
    iret

/* u32 user_call(void (*fn)(void), u32 user_esp, u32 arg): runs fn in ring 3 with EAX = arg, as native's
   user_call does; back here through user_return. */
    .globl user_call, user_return
/* Saves the callee-saved registers and ESP for user_return. */
.macro CALL_ENTER
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, saved_esp
.endm
user_call:
    CALL_ENTER
    movl 20(%esp), %eax
    movl 24(%esp), %ecx
    pushl user_ds_sel
    pushl %ecx
    pushl $0x202
    pushl user_cs_sel
    pushl %eax
    movl user_ds_sel, %eax
    movw %ax, %ds
    movw %ax, %es
    movl 48(%esp), %eax             /* arg, above the five words just pushed */
    iret
user_return:
    movl 4(%esp), %eax
    movl $0xE021, %ecx
    movw %cx, %ds
    movw %cx, %es
    movl saved_esp, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

/* u32 pv_v86_call(u32 seg, u32 ip, u32 sp, u32 eflags): native's v86_call for a kernel in ring 1, where IRET cannot
   enter virtual-8086 mode: the iret hypercall with EFLAGS.VM and native's frame (GS, FS, DS, ES, SS, ESP, EFLAGS,
   CS, EIP; [X32] x86_32/traps.c do_iret), EAX pushed as the hypercall page's stub does. Back through user_return
   like user_call, or at once with the hypercall's error when Xen refuses. */
    .globl pv_v86_call
pv_v86_call:
    CALL_ENTER
    movl 20(%esp), %eax
    movl 24(%esp), %ecx
    movl 28(%esp), %edx
    movl 32(%esp), %ebx
    PUSH_V86_FRAME
    pushl $0                        /* EAX */
    movl $23, %eax                  /* HYPERVISOR_iret */
    int $0x82
    pushl %eax                      /* refused: its error as user_return's argument */
    pushl $0
    jmp user_return

/* The selftest's trap entries (pvselftest.c): vector and error code (0 where the CPU pushes none) on the frame, as
   native's stubs push them; a page fault's CR2, which Xen's frame holds below the error code, kept in st_cr2. */
    .globl st_trap0, st_trap3, st_trap4, st_trap5, st_trap6, st_trap10, st_trap11, st_trap12, st_trap13, st_trap14
.macro ST_NOERR n
st_trap\n:
    pushl $0
    pushl $\n
    jmp st_alltraps
.endm
.macro ST_ERR n
st_trap\n:
    pushl $\n
    jmp st_alltraps
.endm
ST_NOERR 0
ST_NOERR 3
ST_NOERR 4
ST_NOERR 5
ST_NOERR 6
ST_ERR 10
ST_ERR 11
ST_ERR 12
ST_ERR 13
st_trap14:
    popl %ss:st_cr2
    pushl $14
st_alltraps:
    SAVE_ALL
    pushl %esp
    call pv_selftest_trap           /* returns only from an expected fault in ring 1 */
    addl $4, %esp
    RESTORE_ALL
    addl $8, %esp                   /* vector, error code */
    iret

    .data
saved_esp: .long 0
    .globl user_cs_sel, user_ds_sel, st_cr2
user_cs_sel: .long 0xE02B           /* FLAT_USER_CS; the selftest enters ring 3 on its own GDT's selectors */
user_ds_sel: .long 0xE033           /* FLAT_USER_DS */
st_cr2: .long 0
    .globl test3_frame, test3_words
test3_frame: .long 0
test3_words: .fill 6, 4, 0
    .bss
    .align 4096
kstack: .space 16384
    .globl kstack_top
kstack_top:
/* Ring 1's stack for traps from ring 3 while the boot context waits in user_call (stack_switch). */
trap_stack: .space 8192
    .globl trap_stack_top
trap_stack_top:

/* The selftest's assembly any ring runs (checks.c and the PV port): ENTER/LEAVE with full control of EBP and ESP,
   and the 8086 program. */
#include "lab.h"

    .text
/* void t_enter(u32 out[8]): ENTER $8, $2 on a fake frame chain, then LEAVE.
   out: esp_before, esp_after_enter, ebp_after_enter, [ebp], [ebp-4], [ebp-8], ebp_after_leave, esp_after_leave */
    .globl t_enter
t_enter:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 20(%esp), %edi
    movl $fake_frame + 8, %ebp        /* EBP of the "caller": [EBP-4] is copied by the nesting level */
    movl %esp, 0(%edi)
    enter $8, $2
    movl %esp, 4(%edi)
    movl %ebp, 8(%edi)
    movl 0(%ebp), %eax
    movl %eax, 12(%edi)
    movl -4(%ebp), %eax
    movl %eax, 16(%edi)
    movl -8(%ebp), %eax
    movl %eax, 20(%edi)
    leave
    movl %ebp, 24(%edi)
    movl %esp, 28(%edi)
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

/* void t_enter0(u32 out[4]): ENTER $16, $0 then LEAVE. out: esp_before, esp_after, ebp_after, ebp_after_leave */
    .globl t_enter0
t_enter0:
    pushl %ebp
    pushl %edi
    movl 12(%esp), %edi
    movl $0x13572468, %ebp
    movl %esp, 0(%edi)
    enter $16, $0
    movl %esp, 4(%edi)
    movl %ebp, 8(%edi)
    leave
    movl %ebp, 12(%edi)
    popl %edi
    popl %ebp
    ret

/* The 8086 program, copied to V86_SEG:0 and run in virtual-8086 mode with DS = ES = SS = V86_SEG. It writes
   and reads memory, shows its FLAGS, asks the monitor (int VEC_V86MON, EAX + 1) and exits with the answer. */
    .code16
    .globl v86_prog, v86_prog_int, v86_prog_after, v86_prog_in, v86_prog_end
v86_prog:
    movw $0x1234, %ax
    movw %ax, 0x800
    addw 0x802, %ax             /* the kernel put 0x5678 there */
    movw %ax, 0x804
    pushfw
    popw %cx
    movw %cx, 0x806
v86_prog_int:
    int $VEC_V86MON
v86_prog_after:
    movl %eax, %ebx
    movl $SYS_EXIT, %eax
    int $VEC_SYSCALL
v86_prog_in:                    /* IN is checked against the TSS I/O bit map, whatever the IOPL */
    inb $0x21, %al
    movl $SYS_EXIT, %eax
    int $VEC_SYSCALL
v86_prog_end:
    .code32

    .data
    .globl fake_frame
fake_frame:
    .long 0xCAFE0001, 0xCAFE0002, 0xCAFE0003

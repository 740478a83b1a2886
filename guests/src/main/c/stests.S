/* Kernel-mode selftest helpers that need full control of EBP and ESP, the test tasks and the 8086 program. */
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

/* Test tasks, each with its own TSS and stack. task_rec: TR, EFLAGS, CR0, the high dwords of the descriptors
   of SEL_TSS and SEL_TASK, and a run count. */
.macro TASK_RECORD
    str task_rec
    pushfl
    popl task_rec+4
    movl %cr0, %eax
    movl %eax, task_rec+8
    movl gdt+SEL_TSS+4, %eax
    movl %eax, task_rec+12
    movl gdt+SEL_TASK+4, %eax
    movl %eax, task_rec+16
    incl task_rec+20
.endm

/* Entered by a JMP to SEL_TASK; JMPs back to the kernel's task. */
    .globl t_task_jmp
t_task_jmp:
    TASK_RECORD
    ljmp $SEL_TSS, $0
    jmp t_task_jmp

/* Entered by a CALL (NT set, back link to the caller); IRET returns to the caller, and the next CALL resumes
   after the IRET. */
    .globl t_task_call, t_task_call_resume
t_task_call:
    TASK_RECORD
    iret
t_task_call_resume:
    jmp t_task_call

/* The #DF handler task, entered through the task gate of vector 8 with the error code on its stack. It records
   its ESP, the error code and the faulting EIP saved in the kernel's TSS, makes the kernel's task resume at
   df_resume_eip, and returns to it by IRET (NT is set, the back link names the kernel's task). */
    .globl t_df_task
t_df_task:
    movl %esp, df_rec
    popl df_rec+4
    movl tss+TSS_EIP, %eax
    movl %eax, df_rec+8
    pushfl
    popl df_rec+12
    movl df_resume_eip, %eax
    movl %eax, tss+TSS_EIP
    iret
    jmp t_df_task

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

    .bss
    .globl task_rec, df_rec, df_resume_eip
    .align 4
task_rec:       .space 24
df_rec:         .space 16
df_resume_eip:  .space 4

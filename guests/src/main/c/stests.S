/* The native selftest's test tasks. */
#include "lab.h"

    .text
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

    .bss
    .globl task_rec, df_rec, df_resume_eip
    .align 4
task_rec:       .space 24
df_rec:         .space 16
df_resume_eip:  .space 4

/* Interrupt entry stubs, trap return, context switch and the CPL 3 and V86 calls used by the selftest. */
#include "lab.h"

    .text
.macro ISR_NOERR n
    .globl isr\n
isr\n:
    pushl $0
    pushl $\n
    jmp alltraps
.endm
.macro ISR_ERR n
    .globl isr\n
isr\n:
    pushl $\n
    jmp alltraps
.endm

/* Vectors with an error code: 8, 10-14, 17 (SDM Vol. 3A, Table 6-1). */
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_NOERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_NOERR 29
ISR_NOERR 30
ISR_NOERR 31
ISR_NOERR 32
ISR_NOERR 33
ISR_NOERR 34
ISR_NOERR 35
ISR_NOERR 36
ISR_NOERR 37
ISR_NOERR 38
ISR_NOERR 39
ISR_NOERR 40
ISR_NOERR 41
ISR_NOERR 42
ISR_NOERR 43
ISR_NOERR 44
ISR_NOERR 45
ISR_NOERR 46
ISR_NOERR 47
ISR_NOERR 128
ISR_NOERR 129
ISR_NOERR 130
ISR_NOERR 255

    .section .rodata
    .globl isr_table
    .align 4
isr_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long isr\n
    .endr
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .long isr\n
    .endr

    .text
alltraps:
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    pushal
    cld
    movw $SEL_KDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    pushl %esp
    call trap
    addl $4, %esp
    .globl trapret
trapret:
    popal
    popl %gs
    popl %fs
    popl %es
    popl %ds
    addl $8, %esp
    iret

/* Saves the callee-saved registers and EFLAGS for uc_return and points TSS.ESP0 at the current stack, so the
   ring-0 frame of a trap lands just below what the call has in use; the arguments are then at 24(%esp) up. */
.macro UC_ENTER
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    pushfl
    movl %esp, uc_saved_esp
    movl %esp, tss+4
    movl $1, uc_active
.endm

/* Clears the general registers but EAX and IRETs to the frame built on the stack. */
.macro UC_IRET
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %edi, %edi
    xorl %ebp, %ebp
    iret
.endm

/* u32 user_call(void (*fn)(void), u32 user_esp, u32 arg): run fn at CPL 3 with EAX = arg on the current
   page directory. It comes back through uc_return when fn does SYS_EXIT or faults. */
    .globl user_call
user_call:
    UC_ENTER
    movl 24(%esp), %eax
    movl 28(%esp), %ecx
    movl 32(%esp), %edx
    pushl $SEL_UDATA
    pushl %ecx
    pushl $0x202
    pushl $SEL_UCODE
    pushl %eax
    movw $SEL_UDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movl %edx, %eax
    UC_IRET

/* u32 v86_call(u32 seg, u32 ip, u32 sp, u32 eflags): an IRET with VM set enters virtual-8086 mode; the frame
   holds GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP (SDM Vol. 2A "IRET"). Back through uc_return, as user_call. */
    .globl v86_call
v86_call:
    UC_ENTER
    movl 24(%esp), %eax
    movl 28(%esp), %ecx
    movl 32(%esp), %edx
    movl 36(%esp), %ebx
    PUSH_V86_FRAME
    xorl %eax, %eax
    UC_IRET

/* void uc_return(u32 value): abandon the trap frame and return value from user_call. */
    .globl uc_return
uc_return:
    movl 4(%esp), %eax
    movl $0, uc_active
    movl uc_saved_esp, %esp
    popfl
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .data
    .globl uc_active, uc_saved_esp
    .align 4
uc_active:    .long 0
uc_saved_esp: .long 0

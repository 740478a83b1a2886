/* The kernel's context switch, the native and the PV lab kernel's alike. */
    .text
/* void swtch(u32 *save_esp, u32 new_esp): callee-saved registers and EFLAGS live on each kernel stack. */
    .globl swtch
swtch:
    movl 4(%esp), %eax
    movl 8(%esp), %edx
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    pushfl
    movl %esp, (%eax)
    movl %edx, %esp
    popfl
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

/* The call-gate target of the Robin & Irvine checks, shared by the lab kernel and its PV port. */
    .text
/* The kernel through the call gate SEL_CALLGATE (one parameter): records CPL, ESP and the five words the CPU
   pushed on the stack of the target's ring (EIP, CS, the parameter, ESP, SS), then returns to the caller's ring,
   releasing the parameter on both stacks. Ring 0 on a PC; ring 1 under Xen, which raises the target's RPL. */
    .globl t_gate_target
t_gate_target:
    movl %cs, %eax
    andl $3, %eax
    movl %eax, gate_rec
    movl %esp, gate_rec+4
    movl $0, %ecx
1:  movl (%esp,%ecx,4), %eax
    movl %eax, gate_rec+8(,%ecx,4)
    incl %ecx
    cmpl $5, %ecx
    jb 1b
    lret $4

    .bss
    .globl gate_rec
    .align 4
gate_rec:       .space 28

/* Ring-3 snippets for the selftest, run by user_call with EAX = argument. Each either faults at the label
   named *_insn (the kernel records the fault and user_call returns UC_FAULTED) or exits with a value in EBX. */
#include "lab.h"

.macro UEXIT
    movl %eax, %ebx
    movl $SYS_EXIT, %eax
    int $VEC_SYSCALL
.endm

    .section .user.text, "ax"
    .globl u_ret, u_cli, u_hlt, u_movcr3, u_lgdt, u_in, u_out, u_int20, u_int3, u_int81, u_int81_after
    .globl u_read, u_read_insn, u_write, u_write_insn, u_jump, u_popf, u_lar, u_wbinvd, u_callgate, u_callgate_ret

u_ret:          /* exit with the argument */
    UEXIT
u_cli:
    cli
    UEXIT
u_hlt:
    hlt
    UEXIT
u_movcr3:
    movl %cr3, %eax
    UEXIT
u_lgdt:
    lgdt (%esp)
    UEXIT
u_wbinvd:
    wbinvd
    UEXIT
u_in:
    inb $0x21, %al
    UEXIT
u_out:
    outb %al, $0x80
    UEXIT
u_int20:        /* DPL 0 gate: #GP((0x20 << 3) | 2) */
    int $0x20
    UEXIT
u_int3:         /* INT3 through the DPL 0 gate of vector 3: #GP((3 << 3) | 2) */
    int3
    UEXIT
u_int81:        /* DPL 3 gate: through TSS.ESP0 and back by IRET; returns CPL */
    movl %esp, %ebx
    int $0x81
u_int81_after:
    movl %cs, %eax
    andl $3, %eax
    UEXIT
u_callgate:     /* far call through the DPL 3 call gate, one parameter; returns CPL | 0x10 if ESP is balanced */
    movl %esp, %esi
    pushl $0xABCD
    lcall $SEL_CALLGATE, $0
u_callgate_ret:
    movl %cs, %eax
    andl $3, %eax
    cmpl %esp, %esi
    jne 1f
    orl $0x10, %eax
1:  UEXIT
u_read:
u_read_insn:
    movl (%eax), %ecx
    xorl %eax, %eax
    UEXIT
u_write:
u_write_insn:
    movl $0x5A5A5A5A, (%eax)
    xorl %eax, %eax
    UEXIT
u_jump:
    jmp *%eax
u_popf:         /* try to clear IF and set IOPL 3 at CPL 3 with IOPL 0: both silently unchanged */
    pushfl
    popl %ecx
    andl $~0x200, %ecx
    orl $0x3000, %ecx
    pushl %ecx
    popfl
    pushfl
    popl %eax
    UEXIT
u_lar:          /* LAR of a DPL 0 selector at CPL 3 fails (ZF = 0); of the user code selector succeeds.
                   Returns rights & 0x00F0FF00 | ZF(kernel) | ZF(user) << 1. */
    movl $0x08, %ecx
    lar %ecx, %eax
    setz %dl
    movl $0x1B, %ecx
    lar %ecx, %eax
    setz %dh
    andl $0x00F0FF00, %eax
    orb %dl, %al
    shlb $1, %dh
    orb %dh, %al
    UEXIT

/* void probe(struct probe *rec), callable at any CPL: what the sensitive-but-unprivileged instructions of Robin &
   Irvine show: SGDT, SIDT, then SLDT, STR, SMSW, PUSHF, MOV from CS and PUSH CS as dwords (selectors and MSW
   zero-extended: the upper half of a 32-bit PUSH CS is implementation-specific). */
    .globl probe, u_probe
probe:
    movl 4(%esp), %edx
    sgdt (%edx)
    sidt 6(%edx)
    sldt %ax
    movzwl %ax, %eax
    movl %eax, 12(%edx)
    str %ax
    movzwl %ax, %eax
    movl %eax, 16(%edx)
    smsw %ax
    movzwl %ax, %eax
    movl %eax, 20(%edx)
    pushfl
    popl 24(%edx)
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, 28(%edx)
    pushl %cs
    popl %eax
    movzwl %ax, %eax
    movl %eax, 32(%edx)
    ret
u_probe:        /* probe at CPL 3 into a record on the user stack; returns the record's address */
    subl $36, %esp
    pushl %esp
    call probe
    leal 4(%esp), %eax
    UEXIT

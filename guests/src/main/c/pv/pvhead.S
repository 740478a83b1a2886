/* PV lab kernel entry. Xen starts it in ring 1 with ESI = start_info, a bootstrap stack, events masked. */
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
/* The event callback (section 11): Xen masked events and built EIP, CS+mask, EFLAGS on this stack. */
event_entry:
    pushl %ds
    pushl %es
    pushal
    movl $0xE021, %eax
    movw %ax, %ds
    movw %ax, %es
    call pv_events
    popal
    popl %es
    popl %ds
    iret
syscall_entry:
    pushl %ds
    pushl %es
    pushal
    movl $0xE021, %eax              /* FLAT_KERNEL_DS: ring 3's data segments are no use here */
    movw %ax, %ds
    movw %ax, %es
    pushl %esp
    call pv_syscall
    addl $4, %esp
    .globl syscall_return
syscall_return:                     /* a new process starts here, from the frame its parent's fork copied */
    popal
    popl %es
    popl %ds
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
user_call:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, saved_esp
    movl 20(%esp), %eax
    movl 24(%esp), %ecx
    pushl $FLAT_USER_DS_SEL
    pushl %ecx
    pushl $0x202
    pushl $FLAT_USER_CS_SEL
    pushl %eax
    movl $FLAT_USER_DS_SEL, %eax
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

    .set FLAT_USER_CS_SEL, 0xE02B
    .set FLAT_USER_DS_SEL, 0xE033

    .data
saved_esp: .long 0
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

/* Multiboot v1 entry. The header must lie in the first 8 KiB of the file (lab.ld puts it first). */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003   /* page-align modules, want memory info */

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
_start:
    cli
    cld
    movl $boot_stack_top, %esp
    movl %eax, %esi                 /* multiboot magic */
    movl %ebx, %edi                 /* multiboot info */
    /* Zero .bss; multiboot loaders need not do it for us. */
    movl $__bss_start, %edx
    movl $__bss_end, %ecx
1:  cmpl %ecx, %edx
    jae 2f
    movl $0, (%edx)
    addl $4, %edx
    jmp 1b
2:  pushl $0
    popfl
    pushl %edi
    pushl %esi
    call kmain
3:  cli
    hlt
    jmp 3b

    .bss
    .align 4096
    .globl boot_stack_top
boot_stack:
    .space 16384
boot_stack_top:

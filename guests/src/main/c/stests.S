/* Kernel-mode selftest helpers that need full control of EBP and ESP. */
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

    .data
    .globl fake_frame
fake_frame:
    .long 0xCAFE0001, 0xCAFE0002, 0xCAFE0003

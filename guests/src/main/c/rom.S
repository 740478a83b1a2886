/* A 64 KiB BIOS replacement: from the reset vector F000:FFF0 it enters protected mode, enables A20, copies the
   lab kernel (the same bytes as lab.elf's loadable part) to 1 MiB, builds a multiboot info block and enters the
   kernel as a multiboot loader would (EAX = 0x2BADB002, EBX = info). QEMU -bios and Bochs romimage: map the
   image at 0xF0000 and at the top of the 4 GiB space. Build: -DCMDLINE, -DKERNEL_BIN, -DKERNEL_ENTRY. */
#define ROMBASE   0xF0000
#define LOAD_ADDR 0x100000
#define MBI       0x6000
#define MBI_CMD   0x6100
#define OFF(x)    ((x) - rom_start)
#define LIN(x)    (ROMBASE + OFF(x))

    .text
rom_start:
kernel_blob:
    .incbin KERNEL_BIN
kernel_blob_end:

    .org 0xF000          /* the kernel must fit below the stub; the assembler fails here otherwise */
    .align 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF       /* 0x08: flat code */
    .quad 0x00CF92000000FFFF       /* 0x10: flat data */
gdt_end:
gdtr:
    .word gdt_end - gdt - 1
    .long LIN(gdt)
cmdline_str:
    .asciz CMDLINE
cmdline_end:

    .code16
start16:
    cli
    cld
    lgdtl %cs:OFF(gdtr)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $LIN(start32)

    .code32
start32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $0x7000, %esp
    /* A20 through the fast gate, port 0x92 bit 1 (bit 0 would reset). */
    inb $0x92, %al
    orb $0x02, %al
    andb $0xFE, %al
    outb %al, $0x92
    /* the kernel */
    movl $LIN(kernel_blob), %esi
    movl $LOAD_ADDR, %edi
    movl $(kernel_blob_end - kernel_blob), %ecx
    rep movsb
    /* the command line */
    movl $LIN(cmdline_str), %esi
    movl $MBI_CMD, %edi
    movl $(cmdline_end - cmdline_str), %ecx
    rep movsb
    /* multiboot info: flags = mem_* and cmdline */
    movl $MBI, %edi
    xorl %eax, %eax
    movl $32, %ecx
    rep stosl
    movl $0x5, MBI
    movl $MBI_CMD, MBI + 16
    /* mem_lower: CMOS 0x15/0x16, base memory in KiB */
    movb $0x16, %al
    call cmos_read
    movb %al, %bh
    movb $0x15, %al
    call cmos_read
    movb %al, %bl
    movzwl %bx, %ebx
    movl %ebx, MBI + 4
    /* mem_upper: CMOS 0x34/0x35 (64 KiB units above 16 MiB) if nonzero, else 0x30/0x31 (KiB above 1 MiB) */
    movb $0x35, %al
    call cmos_read
    movb %al, %bh
    movb $0x34, %al
    call cmos_read
    movb %al, %bl
    movzwl %bx, %ebx
    testl %ebx, %ebx
    jz 1f
    shll $6, %ebx
    addl $(15 * 1024), %ebx
    jmp 2f
1:  movb $0x31, %al
    call cmos_read
    movb %al, %bh
    movb $0x30, %al
    call cmos_read
    movb %al, %bl
    movzwl %bx, %ebx
2:  movl %ebx, MBI + 8
    movl $0x2BADB002, %eax
    movl $MBI, %ebx
    movl $KERNEL_ENTRY, %ecx
    jmp *%ecx

/* AL = CMOS register -> AL = value */
cmos_read:
    outb %al, $0x70
    inb $0x71, %al
    ret

    .org 0xFFF0
    .code16
reset_vector:
    ljmp $0xF000, $OFF(start16)
    .org 0x10000, 0x00

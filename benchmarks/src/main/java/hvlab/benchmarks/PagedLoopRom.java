package hvlab.benchmarks;

import hvlab.guests.TinyRom;

/**
 * A ROM for the MMU's fast path: from the reset vector it enters protected mode, identity-maps the first 4 MiB in
 * 4 KiB pages, turns paging on, copies its loop to RAM at 0x8000 and runs it there: two loads and two stores in
 * 10 instructions, striding over a 64 KiB window of 16 pages, for 2^32 - 1 rounds. The loop runs from RAM because
 * guest code does (fetches from the ROM take the fetch slow path every time). Assembled by hand; the comments give
 * the source.
 */
final class PagedLoopRom {
    /** Linear addresses of the loop in RAM: once EIP is in here, set-up is over. */
    static final int LOOP_START = 0x800A, LOOP_END = 0x8029;

    private static final int PROTECTED_MODE_OFFSET = 0x40, LOOP_BLOCK_OFFSET = 0xC0, GDT_OFFSET = 0x100;

    private static final int[] REAL_MODE = {              // bits 16, at F000:0000
        0xFA,                                             // cli
        0x2E, 0x66, 0x0F, 0x01, 0x16, 0x18, 0x01,         // o32 lgdt [cs:0x118]
        0x0F, 0x20, 0xC0,                                 // mov eax, cr0
        0x0C, 0x01,                                       // or al, 1 (PE)
        0x0F, 0x22, 0xC0,                                 // mov cr0, eax
        0x66, 0xEA, 0x40, 0x00, 0x0F, 0x00, 0x08, 0x00,   // jmp dword 0x08:0xF0040
    };

    private static final int[] PROTECTED_MODE = {         // bits 32, at 0xF0040
        0x66, 0xB8, 0x10, 0x00,                           // mov ax, 0x10
        0x8E, 0xD8,                                       // mov ds, ax
        0x8E, 0xC0,                                       // mov es, ax
        0x8E, 0xD0,                                       // mov ss, ax
        0xFC,                                             // cld
        0xBF, 0x00, 0x10, 0x00, 0x00,                     // mov edi, 0x1000       ; page directory
        0x31, 0xC0,                                       // xor eax, eax
        0xB9, 0x00, 0x04, 0x00, 0x00,                     // mov ecx, 1024
        0xF3, 0xAB,                                       // rep stosd
        0xC7, 0x05, 0x00, 0x10, 0x00, 0x00,
        0x03, 0x20, 0x00, 0x00,                           // mov dword [0x1000], 0x2003 ; PDE 0: table at 0x2000
        0xBF, 0x00, 0x20, 0x00, 0x00,                     // mov edi, 0x2000       ; page table
        0xB8, 0x03, 0x00, 0x00, 0x00,                     // mov eax, 3            ; present, writable
        0xB9, 0x00, 0x04, 0x00, 0x00,                     // mov ecx, 1024
        0xAB,                                             // fill: stosd
        0x05, 0x00, 0x10, 0x00, 0x00,                     // add eax, 0x1000
        0xE2, 0xF8,                                       // loop fill
        0xB8, 0x00, 0x10, 0x00, 0x00,                     // mov eax, 0x1000
        0x0F, 0x22, 0xD8,                                 // mov cr3, eax
        0x0F, 0x20, 0xC0,                                 // mov eax, cr0
        0x0D, 0x00, 0x00, 0x00, 0x80,                     // or eax, 0x80000000 (PG)
        0x0F, 0x22, 0xC0,                                 // mov cr0, eax
        0xBE, 0xC0, 0x00, 0x0F, 0x00,                     // mov esi, 0xF00C0      ; the loop block
        0xBF, 0x00, 0x80, 0x00, 0x00,                     // mov edi, 0x8000
        0xB9, 0x2F, 0x00, 0x00, 0x00,                     // mov ecx, 47           ; its length
        0xF3, 0xA4,                                       // rep movsb
        0xB8, 0x00, 0x80, 0x00, 0x00,                     // mov eax, 0x8000
        0xFF, 0xE0,                                       // jmp eax
    };

    private static final int[] LOOP_BLOCK = {             // bits 32, at 0xF00C0, run at 0x8000
        0xBE, 0x00, 0x00, 0x01, 0x00,                     // mov esi, 0x10000      ; the window
        0x31, 0xFF,                                       // xor edi, edi
        0x83, 0xC9, 0xFF,                                 // or ecx, -1
        0x8B, 0x04, 0x3E,                                 // loop: mov eax, [esi+edi]   (0x800A)
        0x01, 0xC8,                                       // add eax, ecx
        0x89, 0x44, 0x3E, 0x04,                           // mov [esi+edi+4], eax
        0x8B, 0x5C, 0x3E, 0x08,                           // mov ebx, [esi+edi+8]
        0x31, 0xC3,                                       // xor ebx, eax
        0x89, 0x5C, 0x3E, 0x08,                           // mov [esi+edi+8], ebx
        0x83, 0xC7, 0x40,                                 // add edi, 64
        0x81, 0xE7, 0xFF, 0xFF, 0x00, 0x00,               // and edi, 0xffff
        0x49,                                             // dec ecx
        0x75, 0xE1,                                       // jnz loop
        0xB0, 0x10,                                       // mov al, 0x10          (0x8029)
        0xE6, 0xF4,                                       // out 0xf4, al          ; exit, after 2^32 - 1 rounds
        0xFA, 0xF4,                                       // cli; hlt
    };

    private static final int[] GDT = {                    // at 0xF0100
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   // null
        0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00,   // 0x08: flat 32-bit code
        0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0xCF, 0x00,   // 0x10: flat data
        0x17, 0x00, 0x00, 0x01, 0x0F, 0x00,               // 0xF0118, gdtr: limit 23, base 0xF0100
    };

    private PagedLoopRom() {
    }

    static byte[] image() {
        byte[] code = new byte[GDT_OFFSET + GDT.length];
        place(code, 0, REAL_MODE);
        place(code, PROTECTED_MODE_OFFSET, PROTECTED_MODE);
        place(code, LOOP_BLOCK_OFFSET, LOOP_BLOCK);
        place(code, GDT_OFFSET, GDT);
        return TinyRom.withCodeAtF0000(code);
    }

    private static void place(byte[] code, int offset, int[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            code[offset + i] = (byte) bytes[i];
        }
    }
}

package hvlab.hw.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** 32-bit paging: SDM Vol. 3A 4.3 (walk), 4.6 (access rights), 4.7 (#PF error code), 4.8 (A/D), 4.10 (TLB). */
class PagingTest {
    private static final int PAGE_DIRECTORY = 0x20000, PAGE_TABLE = 0x21000;
    private static final int USER_RW = 7, SUPERVISOR_RO = 1, USER_RO = 5;

    /** mov ax,0x23; mov ds,ax: ring 3 needs its own data segment (the ring-0 one is nulled by IRET). */
    private static final String LOAD_USER_DS = "66 b8 23 00  8e d8  ";

    private final CpuBench bench = new CpuBench().flatProtectedMode();

    /** Identity-maps the first 4 MiB with 4 KiB pages, user read/write; paging and CR0.WP on. */
    private PagingTest identityPaging() {
        bench.memory.writeU32(PAGE_DIRECTORY, PAGE_TABLE | USER_RW);
        for (int page = 0; page < 1024; page++) {
            bench.memory.writeU32(PAGE_TABLE + page * 4, page << 12 | USER_RW);
        }
        bench.cpu.cr3 = PAGE_DIRECTORY;
        SystemOps.writeCr0(bench.cpu, bench.cpu.cr0 | Cpu.CR0_PG | Cpu.CR0_WP);
        return this;
    }

    private void pte(int linear, int value) {
        bench.memory.writeU32(PAGE_TABLE + (linear >>> 12) * 4, value);
    }

    /** A dword as the four instruction bytes that encode it. */
    private static String littleEndianHex(int value) {
        return String.format("%02x %02x %02x %02x", value & 0xFF, value >>> 8 & 0xFF, value >>> 16 & 0xFF,
                value >>> 24);
    }

    private int pteOf(int linear) {
        return bench.memory.readU32(PAGE_TABLE + (linear >>> 12) * 4);
    }

    @Test
    void notPresentPageFaultsWithErrorZeroAndCr2_sdm4_7() {
        identityPaging();
        pte(0x300000, 0);
        Cpu cpu = bench.code("a1 00 00 30 00").run(); // mov eax,[0x300000]
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.PF));
        assertThat(bench.stackDword(0)).isEqualTo(0);
        assertThat(bench.stackDword(1)).isEqualTo(CpuBench.CODE);
        assertThat(cpu.cr(2)).isEqualTo(0x300000);
    }

    @Test
    void supervisorWriteToReadOnlyPageFaultsWhenWpIsSet_sdm4_6() {
        identityPaging();
        pte(0x300000, 0x300000 | SUPERVISOR_RO);
        Cpu cpu = bench.code("c7 05 00 00 30 00 01 00 00 00").run(); // mov dword [0x300000],1
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.PF));
        assertThat(bench.stackDword(0)).isEqualTo(Mmu.PF_PRESENT | Mmu.PF_WRITE);
    }

    @Test
    void supervisorWriteToReadOnlyPageSucceedsWhenWpIsClear_sdm4_6() {
        identityPaging();
        SystemOps.writeCr0(bench.cpu, bench.cpu.cr0 & ~Cpu.CR0_WP);
        pte(0x300000, 0x300000 | SUPERVISOR_RO);
        bench.code("c7 05 00 00 30 00 01 00 00 00").run();
        assertThat(bench.memory.readU32(0x300000)).isEqualTo(1);
    }

    @Test
    void userReadOfSupervisorPageFaultsWithPresentAndUser_sdm4_6() {
        identityPaging();
        pte(0x300000, 0x300000 | SUPERVISOR_RO);
        Cpu cpu = bench.code("68 23 00 00 00  68 00 00 07 00  68 02 00 00 00  68 1b 00 00 00  68 00 01 01 00  cf")
                .codeAt(0x10100, LOAD_USER_DS + "a1 00 00 30 00").run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.PF));
        assertThat(bench.stackDword(0)).isEqualTo(Mmu.PF_PRESENT | Mmu.PF_USER);
        assertThat(cpu.cr(2)).isEqualTo(0x300000);
    }

    @Test
    void userWriteToReadOnlyUserPageFaults_sdm4_6() {
        identityPaging();
        pte(0x300000, 0x300000 | USER_RO);
        Cpu cpu = bench.code("68 23 00 00 00  68 00 00 07 00  68 02 00 00 00  68 1b 00 00 00  68 00 01 01 00  cf")
                .codeAt(0x10100, LOAD_USER_DS + "c7 05 00 00 30 00 01 00 00 00").run();
        assertThat(bench.stackDword(0)).isEqualTo(Mmu.PF_PRESENT | Mmu.PF_WRITE | Mmu.PF_USER);
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.PF));
    }

    @Test
    void readSetsAccessedAndWriteSetsDirty_sdm4_8() {
        identityPaging();
        pte(0x300000, 0x300000 | USER_RW);
        pte(0x301000, 0x301000 | USER_RW);
        // mov eax,[0x300000]; mov dword [0x301000],1
        bench.code("a1 00 00 30 00  c7 05 00 10 30 00 01 00 00 00").run();
        assertThat(pteOf(0x300000) & (Mmu.PTE_A | Mmu.PTE_D)).isEqualTo(Mmu.PTE_A);
        assertThat(pteOf(0x301000) & (Mmu.PTE_A | Mmu.PTE_D)).isEqualTo(Mmu.PTE_A | Mmu.PTE_D);
        assertThat(bench.memory.readU32(PAGE_DIRECTORY) & Mmu.PTE_A).isEqualTo(Mmu.PTE_A);
    }

    @Test
    void firstWriteToACleanCachedPageStillSetsDirty_sdm4_8() {
        identityPaging();
        pte(0x300000, 0x300000 | USER_RW);
        // mov eax,[0x300000] (caches the translation); mov dword [0x300004],1
        bench.code("a1 00 00 30 00  c7 05 04 00 30 00 01 00 00 00").run();
        assertThat(pteOf(0x300000) & Mmu.PTE_D).isEqualTo(Mmu.PTE_D);
    }

    @Test
    void invlpgMakesAChangedPteVisible_sdm4_10_4_1() {
        identityPaging();
        bench.memory.writeU32(0x300000, 0x11111111);
        bench.memory.writeU32(0x302000, 0x22222222);
        pte(0x300000, 0x300000 | USER_RW);
        // mov eax,[0x300000]; mov dword [PTE(0x300000)], 0x302007; invlpg [0x300000]; mov ebx,[0x300000]
        int pteAddress = PAGE_TABLE + (0x300000 >>> 12) * 4;
        String pteAddressHex = littleEndianHex(pteAddress);
        Cpu cpu = bench.code("a1 00 00 30 00  c7 05 " + pteAddressHex + " 07 20 30 00  0f 01 3d 00 00 30 00"
                + "  8b 1d 00 00 30 00").run();
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(0x11111111);
        assertThat(cpu.register(Cpu.EBX)).isEqualTo(0x22222222);
    }

    @Test
    void fourMegabytePageMapsWithPse_sdm4_3() {
        bench.memory.writeU32(PAGE_DIRECTORY, 0 | Mmu.PTE_PS | USER_RW); // 0-4 MiB identity, one 4 MiB page
        bench.memory.writeU32(PAGE_DIRECTORY + 4 * 1, 0 | Mmu.PTE_PS | USER_RW); // 4-8 MiB -> 0-4 MiB
        bench.cpu.cr3 = PAGE_DIRECTORY;
        SystemOps.writeCr4(bench.cpu, Cpu.CR4_PSE);
        SystemOps.writeCr0(bench.cpu, bench.cpu.cr0 | Cpu.CR0_PG);
        bench.memory.writeU32(0x5000, 0xCAFEBABE);
        Cpu cpu = bench.code("a1 00 50 40 00").run(); // mov eax,[0x405000]
        assertThat(cpu.register(Cpu.EAX)).isEqualTo(0xCAFEBABE);
        assertThat(bench.memory.readU32(PAGE_DIRECTORY + 4) & Mmu.PTE_A).isEqualTo(Mmu.PTE_A);
    }

    @Test
    void globalTranslationSurvivesCr3LoadWhenPgeIsSet_sdm4_10_4_1() {
        identityPaging();
        SystemOps.writeCr4(bench.cpu, Cpu.CR4_PGE);
        bench.memory.writeU32(0x300000, 0x11111111);
        bench.memory.writeU32(0x302000, 0x22222222);
        pte(0x300000, 0x300000 | USER_RW | Mmu.PTE_G);
        pte(0x301000, 0x301000 | USER_RW);
        int pteAddress = PAGE_TABLE + (0x300000 >>> 12) * 4;
        String pteAddressHex = littleEndianHex(pteAddress);
        // mov eax,[0x300000]; repoint the PTE; mov ecx,cr3; mov cr3,ecx; mov ebx,[0x300000]
        Cpu cpu = bench.code("a1 00 00 30 00  c7 05 " + pteAddressHex + " 07 21 30 00  0f 20 d9  0f 22 d9"
                + "  8b 1d 00 00 30 00").run();
        assertThat(cpu.register(Cpu.EBX)).isEqualTo(0x11111111);
        assertThat(cpu.counters().tlbFlushes()).isPositive();
    }

    /**
     * A fault restarts the faulting instruction with the state before it (SDM Vol. 3A 6.5): in a hot loop the
     * block compiler runs, ESP adjusted by the instruction before the faulting load stays adjusted.
     */
    @Test
    void pageFaultInHotLoopKeepsEspOfEarlierInstructions_sdm6_5() {
        identityPaging();
        pte(0x300000, 0);
        // loop: sub esp,4; mov eax,[ecx*4+0x2ffc00]; add esp,4; inc ecx; jmp loop — faults when ecx reaches 256
        Cpu cpu = bench.code("83 ec 04  8b 04 8d 00 fc 2f 00  83 c4 04  41  eb f0").run();
        assertThat(cpu.eip()).isEqualTo(bench.afterStub(Exceptions.PF));
        assertThat(bench.reg(Cpu.ECX)).isEqualTo(256);
        assertThat(bench.stackDword(1)).isEqualTo(CpuBench.CODE + 3);
        assertThat(cpu.register(Cpu.ESP)).isEqualTo(CpuBench.STACK_TOP - 4 - 16);
    }
}

/* Ring-3 halves of the benchmarks (this file lands in the user-accessible pages). */
#include "lab.h"
#include "user.h"

/* syscall: int 0x80 with a no-op service, timed in ring 3. */
void user_syscall_bench(u32 iterations) {
    u64 t0 = rdtsc();
    for (u32 i = 0; i < iterations; i++) {
        u32 r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(SYS_NOP) : "memory");
    }
    u64 t1 = rdtsc() - t0;
    usys(SYS_REPORT, (u32)t1, (u32)(t1 >> 32), 0);
    usys(SYS_EXIT, 0, 0, 0);
}

/* forkwait: fork a child (own page directory, copied pages), the child exits, the parent waits for it. */
void user_forkwait(u32 iterations) {
    u32 errors = 0;
    volatile u32 marker = 0x600DF00D;   /* on the stack: each child must see its own copy */
    for (u32 i = 0; i < iterations; i++) {
        u32 pid = usys(SYS_FORK, 0, 0, 0);
        if (pid == 0) {
            u32 ok = marker == 0x600DF00D;
            marker = 0xDEAD;
            usys(SYS_EXIT, ok ? (i & 0x7F) : 0xFF, 0, 0);
        }
        if (pid == 0xFFFFFFFFu) { errors++; break; }
        u32 st = usys(SYS_WAIT, pid, 0, 0);
        if (st != (i & 0x7F) || marker != 0x600DF00D) errors++;
    }
    usys(SYS_REPORT, errors, 0, 0);
    usys(SYS_EXIT, errors ? 1 : 0, 0, 0);
}

/* hello from a process: proves ring 3, syscalls, exit and reaping. */
void user_hello(u32 arg) {
    static const char msg[] = "hello from ring 3\n";
    usys(SYS_PUTS, (u32)msg, sizeof msg - 1, 0);
    u32 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    usys(SYS_EXIT, (cs & 3) == 3 ? arg : 0xEE, 0, 0);
}

/* Ring-3 side: the syscall convention and the entry points of the user programs. */
#ifndef USER_H
#define USER_H
#include "lab.h"

static inline u32 usys(u32 n, u32 a, u32 b, u32 c) {
    u32 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

void user_syscall_bench(u32 iterations);
void user_forkwait(u32 iterations);
void user_hello(u32 arg);
void user_compute(u32 iterations);
#endif

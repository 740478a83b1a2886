/* The callret nanobenchmark's loop, shared by the lab kernel and its PV port: n call/ret pairs. */
#ifndef CALLRET_H
#define CALLRET_H

static inline unsigned int callret_loop(unsigned int n) {
    unsigned int count = 0;
    __asm__ volatile("1: call 2f\n"
                     "   jmp 3f\n"
                     "2: incl %0\n"
                     "   ret\n"
                     "3: decl %1\n"
                     "   jnz 1b\n"
                     : "+r"(count), "+r"(n) : : "memory", "cc");
    return count;
}

#endif

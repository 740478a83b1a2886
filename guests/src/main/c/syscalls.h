/* The lab kernels' system calls (int 0x80), native and PV alike: number in EAX, arguments in EBX, ECX, EDX, ESI;
   result in EAX. */
#ifndef SYSCALLS_H
#define SYSCALLS_H

#define SYS_EXIT   1
#define SYS_FORK   2
#define SYS_WAIT   3
#define SYS_PUTS   4
#define SYS_NOP    5
#define SYS_REPORT 6

#endif

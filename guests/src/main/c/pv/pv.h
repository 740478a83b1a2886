/* What the PV lab kernel's C files share: pvkernel.c's domain state and page-table calls, for pvselftest.c. */
#ifndef PV_H
#define PV_H
#include "xen.h"

#define PV_TEST_BASE 0x800000u   /* the scratch region: one L1 of 1024 pages, outside the boot region */
#define WINDOW_SLOT  1008u       /* scratch-L1 slots 1008..1017 map frames the kernel fills (windows) */
#define WINDOW(n)    (PV_TEST_BASE + (WINDOW_SLOT + (n)) * 4096u)
#define MMUEXT_INVLPG_LOCAL 7

struct mmu_update { u64 ptr, val; };

extern struct start_info *si;
extern struct shared_info *shared;
extern u32 l2_mfn, scratch_l1_mfn;
extern struct trap_info traps[];
extern char trap_stack_top[];
extern u32 user_cs_sel, user_ds_sel;   /* pvhead.S: the selectors user_call enters ring 3 with */

u32 mfn_of(u32 pfn);
long mmu_update(struct mmu_update *req, u32 count);
long update_va_mapping(u32 va, u32 pte, u32 flags);
long mmuext(u32 cmd, u32 pfn);
u32 alloc_pfn(void);
void free_pfn(u32 pfn);
void windows(const u32 *pfns, u32 n);   /* maps n frames at WINDOW(0..n-1); pfns NULL unmaps them */
void events_on(void);
void console_write(const char *s);
int pv_selftest(void);

#endif

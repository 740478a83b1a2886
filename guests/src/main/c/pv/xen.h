/* The subset of Xen's x86_32 PV ABI the PV lab kernel uses, written from ../shared/reference/xen-pv-abi.md
   (numbers and layouts of Xen's public headers; no header copied). */
#ifndef XEN_H
#define XEN_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

/* Flat selectors in Xen's GDT (section 7). */
#define FLAT_KERNEL_CS 0xE019
#define FLAT_KERNEL_DS 0xE021
#define FLAT_USER_CS   0xE02B
#define FLAT_USER_DS   0xE033

/* Hypercall numbers (section 2). */
#define HYPERVISOR_set_trap_table    0
#define HYPERVISOR_mmu_update        1
#define HYPERVISOR_stack_switch      3
#define HYPERVISOR_set_callbacks     4
#define HYPERVISOR_update_va_mapping 14
#define HYPERVISOR_xen_version       17
#define HYPERVISOR_console_io        18
#define HYPERVISOR_vm_assist         21
#define HYPERVISOR_iret              23
#define HYPERVISOR_mmuext_op         26
#define HYPERVISOR_sched_op          29
#define HYPERVISOR_set_timer_op      15
#define HYPERVISOR_event_channel_op  32
#define HYPERVISOR_set_gdt           2
#define HYPERVISOR_memory_op         12
#define HYPERVISOR_physdev_op        33
#define PHYSDEVOP_set_iopl 6
#define MMUEXT_PIN_L2_TABLE 1
#define MMUEXT_UNPIN_TABLE  4
#define MMUEXT_NEW_BASEPTR  5
struct mmuext_op { u32 cmd, arg1, arg2; };
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_current_reservation  3
struct xen_memory_reservation { u32 *extent_start; u32 nr_extents, extent_order, address_bits; u16 domid; };

#define SCHEDOP_block 1
#define SCHEDOP_poll  3
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq 1
#define EVTCHNOP_close     3
#define EVTCHNOP_send      4
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_unmask    9
#define VIRQ_TIMER 0

/* shared_info (section 9): vcpu_info[0] at 0, the pending and mask bitmaps at 800 and 880. */
struct vcpu_info { volatile u8 upcall_pending, upcall_mask; u16 pad; volatile u32 pending_sel; u32 cr2; u32 pad2[5];
                   volatile u32 time_version, pad0; volatile u64 tsc_timestamp, system_time; u32 mul; signed char shift; u8 pad3[3]; };
struct shared_info { struct vcpu_info vcpu[32]; volatile u32 evtchn_pending[32], evtchn_mask[32]; };

#define CONSOLEIO_write 0
#define SCHEDOP_yield    0
#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_reboot   1
#define SHUTDOWN_crash    3

/* struct trap_info (section 10): flags bits 1:0 = DPL, bit 2 = mask events. */
struct trap_info { u8 vector, flags; u16 cs; u32 address; };

/* start_info (section 8), the fields this kernel reads. */
struct start_info {
    char magic[32];
    u32 nr_pages, shared_info, flags, store_mfn, store_evtchn, console_mfn, console_evtchn;
    u32 pt_base, nr_pt_frames, mfn_list, mod_start, mod_len;
    char cmd_line[1024];
};

static inline long hypercall3(u32 nr, u32 a1, u32 a2, u32 a3) {
    long r;
    __asm__ volatile("int $0x82" : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3) : "0"(nr) : "memory");
    return r;
}

static inline long hypercall4(u32 nr, u32 a1, u32 a2, u32 a3, u32 a4) {
    long r;
    __asm__ volatile("int $0x82" : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4) : "0"(nr) : "memory");
    return r;
}

#define DOMID_SELF 0x7FF0

#endif

/**
 * Xen's memory management for PV guests: every machine frame has an owner, a type (page directory, page table,
 * descriptor table, writable) with a type count, and a general reference count; page-table frames are validated
 * when they take their type, and no writable mapping of a typed frame can exist ([X32] xen/arch/x86/mm.c, the
 * design comment at its top; ../shared/reference/xen-pv-abi.md sections 4 and 5).
 */
package hvlab.hv.xenpv.mm;

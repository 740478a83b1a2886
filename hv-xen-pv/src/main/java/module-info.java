/**
 * Xen-style paravirtualization after Xen's x86_32 PV ABI (non-PAE, Xen in the top 64 MiB): the guest kernel in
 * ring 1, hypercalls, validated page tables, event channels. Work in progress: the memory manager's page types and
 * reference counts come first; the provider follows with the domain builder.
 */
module hvlab.hv.xenpv {
    requires hvlab.hw;
}

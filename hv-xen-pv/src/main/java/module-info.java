/**
 * Xen-style paravirtualization after Xen's x86_32 PV ABI (non-PAE, Xen in the top 64 MiB): the guest kernel in
 * ring 1, hypercalls, validated page tables. Exports nothing yet (its PV-I/O package comes with event channels).
 */
module hvlab.hv.xenpv {
    requires hvlab.hw;

    provides hvlab.spi.HypervisorProvider with hvlab.hv.xenpv.XenPvProvider;
}

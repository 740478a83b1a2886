/**
 * A VT-x hypervisor: VMX-root software that runs the unmodified lab kernel in VMX non-root operation, with shadow
 * page tables (first-generation VT-x, {@code vtx}) or EPT ({@code vtx-ept}) for its memory. Exports nothing.
 */
module hvlab.hv.vtx {
    requires hvlab.hw;

    provides hvlab.spi.HypervisorProvider with hvlab.hv.vtx.VtxProvider,
            hvlab.hv.vtx.VtxEptProvider;
}

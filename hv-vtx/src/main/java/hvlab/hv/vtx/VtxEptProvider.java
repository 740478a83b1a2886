package hvlab.hv.vtx;

/** {@code vtx-ept}: the {@code vtx} hypervisor with its memory always behind EPT (the TCK runs over both modes). */
public final class VtxEptProvider extends VtxProvider {
    public VtxEptProvider() {
        super(MemoryMode.EPT);
    }
}

package hvlab.hw.stats;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A paravirtual guest called its hypervisor. Off unless a recording enables it. */
@Name("hvlab.Hypercall")
@Label("Hypercall")
@Category("hvlab")
@Description("A guest called its hypervisor; emitted through HypervisorEvents.hypercall")
@Enabled(false)
@StackTrace(false)
final class HypercallEvent extends jdk.jfr.Event {
    @Label("Number")
    int number;

    @Label("Guest EIP")
    int guestEip;
}

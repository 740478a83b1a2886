package hvlab.hw.stats;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A guest left for its hypervisor (a VM exit, trap or callout). Off unless a recording enables it. */
@Name("hvlab.VmExit")
@Label("VM Exit")
@Category("hvlab")
@Description("The guest left for its hypervisor; emitted through HypervisorEvents.vmExit")
@Enabled(false)
@StackTrace(false)
final class VmExitEvent extends jdk.jfr.Event {
    @Label("Reason")
    String reason;

    @Label("Guest EIP")
    int guestEip;
}

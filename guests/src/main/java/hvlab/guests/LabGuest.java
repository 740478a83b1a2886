package hvlab.guests;

/**
 * One workload of the lab kernel.
 *
 * @param name        the workload's name, the second token of the kernel command line
 * @param description what the workload does and prints
 * @param commandLine the full multiboot command line a loader passes in {@code mbi.cmdline}; as with GRUB and
 *                    QEMU its first token is the image's path, which the kernel skips
 */
public record LabGuest(String name, String description, String commandLine) {

    /** The multiboot v1 ELF image (the same file for every workload; the command line selects the workload). */
    public byte[] kernelImage() {
        return LabGuests.resource(LabGuests.KERNEL_IMAGE);
    }

    /** The PV lab kernel (Xen's x86_32 PV interface, {@code lab-pv:NAME}); its workloads so far: {@link LabGuests#paravirtual()}. */
    public static byte[] paravirtualImage() {
        return LabGuests.resource(LabGuests.PARAVIRTUAL_IMAGE);
    }

    /** The command line of this workload for the PV lab kernel. */
    public String paravirtualCommandLine() {
        return LabGuests.PARAVIRTUAL_IMAGE + " " + commandLine.substring(commandLine.indexOf(' ') + 1);
    }

    /** The 64 KiB ROM that boots this workload from the reset vector, with the command line baked in. */
    public byte[] romImage() {
        return LabGuests.resource(romFileName());
    }

    /** The ROM's file name, as in {@code target/images}. */
    public String romFileName() {
        return "lab-" + name + ".rom";
    }

    /** The command line without its first token: what QEMU's {@code -append} takes. */
    public String arguments() {
        int space = commandLine.indexOf(' ');
        return space < 0 ? "" : commandLine.substring(space + 1);
    }

    /** This workload with extra {@code key=value} options, e.g. {@code withOptions("iterations=1000")}. */
    public LabGuest withOptions(String options) {
        return new LabGuest(name, description, options.isBlank() ? commandLine : commandLine + " " + options.strip());
    }
}

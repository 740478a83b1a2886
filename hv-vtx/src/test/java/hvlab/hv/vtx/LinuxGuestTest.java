package hvlab.hv.vtx;

import hvlab.guests.LinuxCache;
import hvlab.hw.boot.InitramfsArchive;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's unmodified i386 kernel as a VT-x guest with EPT (boot.rst's 32-bit protocol, an unrestricted guest): it is
 * told of the VM's RAM only (its E820 map ends below the hypervisor's 4 MiB), finds the VM's own chipset, APICs,
 * timers and COM1, runs its initramfs script and powers off through the VM's ACPI registers, which ends the run as
 * S5 ends it natively. Skipped when guests/linux/fetch-linux.sh has not fetched the kernel.
 */
class LinuxGuestTest {
    private static final boolean LINUX_REQUIRED = "1".equals(System.getenv("HVLAB_REQUIRE_LINUX"));
    private static final int RAM = 256 << 20;
    private static final long BUDGET = 40_000_000_000L;
    private static final String COMMAND_LINE = "console=ttyS0";
    private static final String SCRIPT = """
            echo "script: uname $(uname -r -m)"
            echo "script: sum $((6 * 7))"
            echo "script: processors $(grep -c ^processor /proc/cpuinfo)"
            """;

    @BeforeAll
    static void needsTheFetchedKernel() {
        if (LINUX_REQUIRED && LinuxCache.missing().isPresent()) {
            throw new IllegalStateException("HVLAB_REQUIRE_LINUX=1 but " + LinuxCache.missing().get());
        }
        assumeTrue(LinuxCache.missing().isEmpty(), () -> LinuxCache.missing().orElse(""));
    }

    @Test
    void debiansKernelBootsUnderVtxEptRunsItsScriptAndPowersOff() throws Exception {
        byte[] initrd = InitramfsArchive.withFile(Files.readAllBytes(LinuxCache.initrd()), "test.sh",
                InitramfsArchive.EXECUTABLE, SCRIPT);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        RunOutcome outcome;
        long apicAccessExits;
        try (Machine machine = Machine.builder().ramBytes(RAM).serialOutput(console::write).build();
             Hypervisor vtx = new VtxProvider(MemoryMode.EPT).create(new MachineHostContext(machine,
                     machine.description(), System.getLogger("vtx")))) {
            vtx.boot(new GuestImage.LinuxKernel("vmlinuz", Files.readAllBytes(LinuxCache.kernel()), initrd,
                    COMMAND_LINE));
            outcome = vtx.run(BUDGET);
            apicAccessExits = machine.statistics().stream()
                    .filter(v -> v.family().equals(Counters.EXITS) && v.key().endsWith("APIC access"))
                    .mapToLong(Counters.CounterValue::value).sum();
        }
        String text = console.toString(StandardCharsets.ISO_8859_1);
        String release = LinuxCache.kernelPackage().split(" ")[0].replace("linux-image-", "");
        assertThat(outcome).as(text).isInstanceOf(RunOutcome.PowerOff.class);
        int vmRam = RAM - VmmLayout.SIZE;
        assertThat(text).as("E820: the VM's RAM, not the hypervisor's 4 MiB")
                .contains(String.format("BIOS-e820: [mem 0x0000000000100000-0x%016x] usable", vmRam - 1));
        assertThat(text).contains("script: uname " + release + " i686", "script: sum 42", "script: processors 1",
                "hvlab-init: /test.sh exited with 0", "reboot: Power down");
        assertThat(text).doesNotContain("Oops", "BUG:", "panic", "segfault");
        assertThat(apicAccessExits).as("its local APIC: the APIC-access page").isPositive();
    }
}

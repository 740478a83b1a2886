package hvlab.cli;

import hvlab.guests.LabGuests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input gets one line naming the problem and exit status 2, never a stack trace. */
class RunCommandBadInputTest {
    @TempDir
    Path dir;

    private record Result(int status, String err) { }

    private Result run(String... args) {
        StringWriter err = new StringWriter();
        int status = HvlabCommand.execute(new PrintWriter(err, true), args);
        return new Result(status, err.toString());
    }

    private void assertBadInput(Result result, String expectedText) {
        assertThat(result.status()).isEqualTo(HvlabCommand.EXIT_BAD_INPUT);
        assertThat(result.err()).startsWith("hvlab: ").contains(expectedText).doesNotContain("\tat ", "Exception");
    }

    @Test
    void kernelThatIsNotAnElfIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "this is not a kernel\n".repeat(100));
        assertBadInput(run("run", "--kernel", file.toString()), "no Multiboot header");
    }

    @Test
    void emptyKernelIsRefused() throws Exception {
        Path file = Files.write(dir.resolve("empty.elf"), new byte[0]);
        assertBadInput(run("run", "--kernel", file.toString()), "empty");
    }

    @Test
    void truncatedKernelIsRefused() throws Exception {
        byte[] lab = LabGuests.find("hello").orElseThrow().kernelImage();
        Path file = Files.write(dir.resolve("cut.elf"), Arrays.copyOf(lab, 4200));
        assertBadInput(run("run", "--kernel", file.toString()), "cut.elf");
    }

    @Test
    void sixtyFourBitElfIsRefused() throws Exception {
        byte[] lab = LabGuests.find("hello").orElseThrow().kernelImage().clone();
        lab[4] = 2; // EI_CLASS = ELFCLASS64
        Path file = Files.write(dir.resolve("k64.elf"), lab);
        assertBadInput(run("run", "--kernel", file.toString()), "64-bit");
    }

    @Test
    void kernelBiggerThanMemoryIsRefused() throws Exception {
        byte[] lab = LabGuests.find("hello").orElseThrow().kernelImage();
        Path file = Files.write(dir.resolve("lab.elf"), lab);
        // The lab kernel loads at 1 MiB: with 2 MiB of RAM it fits, so move RAM below its end.
        assertThat(run("run", "--kernel", file.toString(), "--memory", "1M").err()).contains("--memory");
    }

    @Test
    void missingFileIsNamed() {
        assertBadInput(run("run", "--kernel", dir.resolve("nope.elf").toString()), "no such file");
    }

    @Test
    void directoryIsNotAnImage() {
        assertBadInput(run("run", "--kernel", dir.toString()), "is a directory");
    }

    /** xl.cfg's cpu_weight range, 1..65535 (xen/common/sched_credit.c csched_dom_cntl). */
    @Test
    void cpuWeightsOutsideXensRangeAreRefused() {
        for (String weight : new String[] {"0", "-5", "65536"}) {
            assertBadInput(run("run", "--hypervisor", "xen-pv", "--guest", "lab-pv:hello", "--cpu-weight", weight),
                    "--cpu-weight " + weight + ": a domain's cpu weight is 1..65535");
        }
    }

    @Test
    void cpuWeightsGoOncePerGuest() {
        assertBadInput(run("run", "--hypervisor", "xen-pv", "--guest", "lab-pv:hello", "--guest", "lab-pv:hello",
                "--cpu-weight", "512"), "--cpu-weight goes once per --guest, in the same order: 1 weights for 2");
    }

    /** vtx gives its VMs equal slices in turn: a weight it cannot honour is refused, not dropped. */
    @Test
    void cpuWeightsUnderAHypervisorWithoutWeightsAreRefused() {
        assertBadInput(run("run", "--hypervisor", "vtx", "--guest", "lab:hello", "--guest", "lab:hello",
                "--cpu-weight", "256", "--cpu-weight", "512"), "'vtx' does not");
        assertBadInput(run("run", "--guest", "lab:hello", "--cpu-weight", "512"), "--cpu-weight needs a hypervisor");
    }

    @Test
    void severalGuestsOnTheBareMachineAreRefused() {
        assertBadInput(run("run", "--guest", "lab:hello", "--guest", "lab:hello"),
                "2 --guest options need a hypervisor that runs several domains");
    }

    @Test
    void unknownLabGuestListsTheKnownOnes() {
        assertBadInput(run("run", "--guest", "lab:nonesuch"), "known: hello, selftest");
    }

    @Test
    void badRomSizeIsRefused() throws Exception {
        Path file = Files.write(dir.resolve("bios.bin"), new byte[1000]);
        assertBadInput(run("run", "--bios", file.toString()), "bios.bin");
    }

    @Test
    void badMemorySizeIsRefused() {
        assertBadInput(run("run", "--guest", "lab:hello", "--memory", "lots"), "not a memory size");
    }

    @Test
    void twoImagesAtOnceAreAUsageError() throws Exception {
        assertBadInput(run("run", "--guest", "lab:hello", "--bios", "x.rom"), "mutually exclusive");
    }

    @Test
    void cpuVectorsNeedsAFolder() {
        assertBadInput(run("cpu-vectors", dir.resolve("missing").toString()), "not a folder of test vectors");
    }
}

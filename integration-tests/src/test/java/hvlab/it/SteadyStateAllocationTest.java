package hvlab.it;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.it.tck.GuestRun;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The execution loop allocates nothing per guest instruction (../shared/design/performance.md): a JFR recording of a
 * warmed-up run has no allocation sample whose allocating hvlab frame is in the interpreter, the MMU, the ALU, the
 * system operations or the code compiled blocks call. Compiling blocks allocates, and is not part of the loop.
 */
class SteadyStateAllocationTest {
    private static final Set<String> LOOP_CLASSES = Set.of("hvlab.hw.cpu.Interpreter", "hvlab.hw.cpu.TwoByteOps",
            "hvlab.hw.cpu.StringOps", "hvlab.hw.cpu.SystemOps", "hvlab.hw.cpu.Alu", "hvlab.hw.cpu.Mmu",
            "hvlab.hw.cpu.CompiledOps");
    private static final Set<String> LOOP_METHODS_OF_CPU = Set.of("run", "runInstructions", "checkEvents",
            "deliverExternalInterrupt", "deliverException", "interrupt", "push32", "pop32", "read32", "write32");
    /** The machine's run loop; statistics() and boot() run before and after it, not in it. */
    private static final Set<String> LOOP_METHODS_OF_MACHINE = Set.of("run", "deliverInput", "fireTimers",
            "nextTimerEvent", "skipToNextTimer", "end");

    @ParameterizedTest(name = "lab:{0}")
    @ValueSource(strings = {"compute", "syscall"})
    void warmedUpRunAllocatesNothingInTheExecutionLoop(String name) throws Exception {
        LabGuest guest = LabGuests.find(name).orElseThrow();
        GuestRun.multiboot("lab.elf", guest.kernelImage(), guest.commandLine()); // warm up HotSpot
        Path file = Files.createTempFile("hvlab-alloc", ".jfr");
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ObjectAllocationSample").with("throttle", "1000/s");
            recording.start();
            GuestRun.multiboot("lab.elf", guest.kernelImage(), guest.commandLine());
            recording.stop();
            recording.dump(file);
            List<String> inLoop = new ArrayList<>();
            for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                RecordedFrame frame = firstHvlabFrame(event);
                if (frame != null && inExecutionLoop(frame)) {
                    inLoop.add(event.getClass("objectClass").getName() + " at " + frame.getMethod().getType().getName()
                            + "." + frame.getMethod().getName() + ":" + frame.getLineNumber());
                }
            }
            assertThat(inLoop).as("allocations sampled in the execution loop").isEmpty();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static RecordedFrame firstHvlabFrame(RecordedEvent event) {
        if (event.getStackTrace() == null) {
            return null;
        }
        for (RecordedFrame frame : event.getStackTrace().getFrames()) {
            if (frame.isJavaFrame() && frame.getMethod().getType().getName().startsWith("hvlab.")) {
                return frame;
            }
        }
        return null;
    }

    private static boolean inExecutionLoop(RecordedFrame frame) {
        String type = frame.getMethod().getType().getName();
        String method = frame.getMethod().getName();
        if (method.equals("<init>") || method.equals("<clinit>")) {
            return false; // building the machine for the run, not running it
        }
        return LOOP_CLASSES.contains(type)
                || type.equals("hvlab.hw.cpu.Cpu") && LOOP_METHODS_OF_CPU.contains(method)
                || type.equals("hvlab.hw.machine.Machine") && LOOP_METHODS_OF_MACHINE.contains(method);
    }
}

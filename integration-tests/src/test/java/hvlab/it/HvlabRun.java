package hvlab.it;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** One guest run on hvlab in this JVM: console output and how the run ended. */
record HvlabRun(String console, RunOutcome outcome, long instructions, CpuState finalState) {
    static final long MAX_INSTRUCTIONS = 2_000_000_000L;
    static final int MEMORY = 128 << 20;

    static HvlabRun multiboot(String imageName, byte[] image, String commandLine) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(MEMORY).serialOutput(console::write).build()) {
            machine.bootMultiboot(imageName, image, commandLine);
            return finish(machine, console);
        }
    }

    static HvlabRun firmware(String imageName, byte[] rom) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(MEMORY).serialOutput(console::write).build()) {
            machine.bootFirmware(imageName, rom);
            return finish(machine, console);
        }
    }

    private static HvlabRun finish(Machine machine, ByteArrayOutputStream console) {
        RunOutcome outcome = machine.run(MAX_INSTRUCTIONS);
        return new HvlabRun(console.toString(StandardCharsets.ISO_8859_1), outcome,
                machine.cpu().retiredInstructions(), machine.cpu().captureState());
    }

    /** The debug-exit value, or -1 when the run ended another way. */
    int exitValue() {
        return outcome instanceof RunOutcome.Exited exited ? exited.value() : -1;
    }
}

package hvlab.it;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.it.tck.GuestRun;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Main class for {@link ExecutionEngineEquivalenceTest}: runs one lab guest and prints console and final state. */
final class InterpreterOnlyRun {
    private InterpreterOnlyRun() {
    }

    public static void main(String[] args) throws Exception {
        LabGuest guest = LabGuests.find(args[0]).orElseThrow();
        GuestRun run = GuestRun.multiboot("lab.elf", guest.kernelImage(), guest.commandLine());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.ISO_8859_1);
        out.print(run.console() + ExecutionEngineEquivalenceTest.summary(run));
        out.flush();
    }
}

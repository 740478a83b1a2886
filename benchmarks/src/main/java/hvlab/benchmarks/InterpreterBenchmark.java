package hvlab.benchmarks;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;

/**
 * The interpreter loop on real guest code: the lab kernel's {@code compute} workload (ring 3, paging on: lists,
 * matrices, a state machine, CRC), booted as a Multiboot ELF with so many iterations that it never ends.
 */
public class InterpreterBenchmark extends GuestLoopBenchmark {
    /** 150 iterations are 31 M instructions; this many run for hours. */
    private static final String ENDLESS = "iterations=100000000";
    /** The kernel's start-up (GDT, IDT, paging, PIT) is over well before this. */
    private static final long START_UP_INSTRUCTIONS = 2_000_000;

    @Override
    void enterLoop(Machine machine) throws BootImageException {
        LabGuest compute = LabGuests.find("compute").orElseThrow().withOptions(ENDLESS);
        machine.bootMultiboot(compute.name(), compute.kernelImage(), compute.commandLine());
        run(machine, START_UP_INSTRUCTIONS);
    }
}

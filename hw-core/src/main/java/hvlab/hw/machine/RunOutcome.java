package hvlab.hw.machine;

/** How a run of the machine ended. */
public sealed interface RunOutcome {
    /** The guest wrote {@code value} to the debug-exit port (QEMU's isa-debug-exit). */
    record Exited(int value) implements RunOutcome { }

    /** The processor shut down (triple fault): SDM Vol. 3A 6.15, interrupt 8. */
    record Shutdown(String reason) implements RunOutcome { }

    /** The guest turned the machine off: ACPI soft off (S5), as QEMU ends its run on {@code poweroff}. */
    record PowerOff(String source) implements RunOutcome { }

    /** The guest asked for a reset (i8042 pulse, port 0x92, the PIIX reset control register 0xCF9). */
    record Reset(String source) implements RunOutcome { }

    /** The CPU halted with no way to wake up: interrupts disabled, or no interrupt source left. */
    record HaltedForever(int eip) implements RunOutcome { }

    /** The instruction budget ran out before the guest ended. */
    record InstructionLimit(long instructions) implements RunOutcome { }
}

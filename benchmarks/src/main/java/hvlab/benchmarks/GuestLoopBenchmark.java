package hvlab.benchmarks;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * A machine booted once and kept inside a guest loop that does not end; each operation runs it a million guest
 * instructions further, so JMH's ops/s is the guest's MIPS. Subclasses say which guest and how to reach its loop
 * (JMH takes the annotations here for them).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Xss8m") // the stack ./hvlab gives the machine
public abstract class GuestLoopBenchmark {
    static final long INSTRUCTIONS_PER_OPERATION = 1_000_000;

    private Machine machine;

    /** Boots the guest on {@code machine} and runs it into its endless loop. */
    abstract void enterLoop(Machine machine) throws BootImageException;

    @Setup(Level.Trial)
    public void boot() throws BootImageException {
        machine = Machine.builder().ramBytes(128 << 20).build();
        enterLoop(machine);
    }

    @Benchmark
    public long millionInstructions() {
        return run(machine, INSTRUCTIONS_PER_OPERATION);
    }

    @TearDown(Level.Trial)
    public void close() {
        machine.close();
    }

    /** Runs {@code instructions} more; the guest must still be running afterwards, or the figure would lie. */
    static long run(Machine machine, long instructions) {
        RunOutcome outcome = machine.run(instructions);
        if (!(outcome instanceof RunOutcome.InstructionLimit limit)) {
            throw new IllegalStateException("the guest left its loop: " + outcome);
        }
        return limit.instructions();
    }
}

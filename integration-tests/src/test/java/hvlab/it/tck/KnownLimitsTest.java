package hvlab.it.tck;

import hvlab.guests.LabGuests;
import hvlab.hw.machine.RunOutcome;
import hvlab.spi.VirtualizationLimit;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The suite excuses a deviation only when the provider's declared limits explain all of it. */
class KnownLimitsTest {
    private static final String NATIVE = "lab: workload=probe\nPASS ring0_sgdt\nPASS ring0_popf_if_iopl\nPASS mul\n"
            + "probe: 3 passed, 0 failed\nlab: done status=pass\n";
    private static final Set<VirtualizationLimit> SGDT_AND_POPF = EnumSet.of(VirtualizationLimit.SGDT,
            VirtualizationLimit.POPF);

    private static GuestRun run(String console, int exit, VirtualizationLimit stoppedAt) {
        RunOutcome outcome = exit < 0 ? new RunOutcome.Shutdown("stopped") : new RunOutcome.Exited(exit);
        return new GuestRun(console, outcome, 1, null, List.of(), Optional.ofNullable(stoppedAt));
    }

    private static final GuestRun REFERENCE = run(NATIVE, LabGuests.EXIT_SUCCESS, null);

    @Test
    void checksExerciseWhatTheirNamesSay() {
        assertThat(KnownLimits.exercisedBy("ring3_sgdt")).containsExactly(VirtualizationLimit.SGDT);
        assertThat(KnownLimits.exercisedBy("sgdt_sidt")).containsExactlyInAnyOrder(VirtualizationLimit.SGDT,
                VirtualizationLimit.SIDT);
        assertThat(KnownLimits.exercisedBy("task_jmp_and_back")).containsExactly(
                VirtualizationLimit.HARDWARE_TASK_SWITCH);
        assertThat(KnownLimits.exercisedBy("wp0_supervisor_write_read_only")).containsExactly(
                VirtualizationLimit.RING_COMPRESSION); // clearing CR0.WP takes ring 0
        assertThat(KnownLimits.exercisedBy("pit_irq0_ticks")).containsExactly(VirtualizationLimit.INTERRUPT_HARDWARE);
        assertThat(KnownLimits.exercisedBy("pf_supervisor_write_read_only_wp1")).isEmpty();
        assertThat(KnownLimits.exercisedBy("ring3_cli_gp0")).isEmpty();
        assertThat(KnownLimits.exercisedBy("mul")).isEmpty();
    }

    @Test
    void failuresOfDeclaredHolesAreExplained() {
        GuestRun deviating = run(NATIVE.replace("PASS ring0_sgdt", "FAIL ring0_sgdt gdt=0xffc10000")
                .replace("PASS ring0_popf", "FAIL ring0_popf").replace("3 passed, 0", "1 passed, 2")
                .replace("status=pass", "status=fail"), LabGuests.EXIT_FAILURE, null);
        assertThat(KnownLimits.explanation(deviating, REFERENCE, SGDT_AND_POPF))
                .hasValue("fails ring0_sgdt, ring0_popf_if_iopl [SGDT, POPF]");
    }

    @Test
    void anUndeclaredHoleIsNotExplained() {
        GuestRun deviating = run(NATIVE.replace("PASS ring0_popf", "FAIL ring0_popf"), LabGuests.EXIT_FAILURE, null);
        assertThat(KnownLimits.explanation(deviating, REFERENCE, EnumSet.of(VirtualizationLimit.SGDT))).isEmpty();
    }

    @Test
    void aFailedCheckNoLimitExercisesIsNotExplained() {
        GuestRun deviating = run(NATIVE.replace("PASS mul", "FAIL mul"), LabGuests.EXIT_FAILURE, null);
        assertThat(KnownLimits.explanation(deviating, REFERENCE, EnumSet.allOf(VirtualizationLimit.class)))
                .isEmpty();
    }

    @Test
    void otherOutputThatDiffersIsNotExplained() {
        GuestRun deviating = run(NATIVE.replace("PASS ring0_sgdt", "FAIL ring0_sgdt") + "PANIC oops\n",
                LabGuests.EXIT_FAILURE, null);
        assertThat(KnownLimits.explanation(deviating, REFERENCE, SGDT_AND_POPF)).isEmpty();
    }

    @Test
    void aStopAtADeclaredLimitExplainsTheChecksNeverReached() {
        GuestRun stopped = run("lab: workload=probe\nPASS ring0_sgdt\n", -1,
                VirtualizationLimit.HARDWARE_TASK_SWITCH);
        assertThat(KnownLimits.explanation(stopped, REFERENCE,
                EnumSet.of(VirtualizationLimit.HARDWARE_TASK_SWITCH))).hasValue("stops at HARDWARE_TASK_SWITCH"
                        + " [HARDWARE_TASK_SWITCH]");
        assertThat(KnownLimits.explanation(stopped, REFERENCE, SGDT_AND_POPF)).as("not declared").isEmpty();
    }

    @Test
    void checksMissingWithoutADeclaredStopAreNotExplained() {
        GuestRun crashed = run("lab: workload=probe\nPASS ring0_sgdt\n", -1, null);
        assertThat(KnownLimits.explanation(crashed, REFERENCE, EnumSet.allOf(VirtualizationLimit.class)))
                .isEmpty();
    }
}

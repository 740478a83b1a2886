package hvlab.hv.xenpv.sched;

import hvlab.hv.xenpv.sched.CreditScheduler.Priority;
import hvlab.hv.xenpv.sched.CreditScheduler.Vcpu;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Xen's credit scheduler (sched_credit.c: weights, credits debited per 10 ms tick, accounting every 30 ms, UNDER
 * before OVER, blocked vCPUs not charged, BOOST on wake-up), driven tick by tick as Xen's timer drives it.
 */
class CreditSchedulerTest {
    /** Runs {@code ticks} ticks of always-busy vCPUs, rescheduling when a timeslice ends, as Xen's tick does. */
    private static void runBusy(CreditScheduler scheduler, int ticks) {
        if (scheduler.current() == null) {
            scheduler.schedule();
        }
        for (int t = 0; t < ticks; t++) {
            if (scheduler.tick()) {
                scheduler.schedule();
            }
        }
    }

    @Test
    void weights256And512GiveOneThirdAndTwoThirdsOfTheCpu() {
        CreditScheduler scheduler = new CreditScheduler();
        Vcpu light = scheduler.add(1, 256), heavy = scheduler.add(2, 512);
        runBusy(scheduler, 3000); // 30 s of virtual time, 1000 accounting periods
        double share = (double) light.ticksRun() / (light.ticksRun() + heavy.ticksRun());
        assertThat(share).isCloseTo(1.0 / 3, within(0.02));
        assertThat(light.ticksRun() + heavy.ticksRun()).isEqualTo(3000); // work-conserving: never idle
    }

    @Test
    void equalWeightsShareTheCpuEqually() {
        CreditScheduler scheduler = new CreditScheduler();
        Vcpu a = scheduler.add(1, CreditScheduler.DEFAULT_WEIGHT), b = scheduler.add(2, CreditScheduler.DEFAULT_WEIGHT);
        Vcpu c = scheduler.add(3, CreditScheduler.DEFAULT_WEIGHT);
        runBusy(scheduler, 3000);
        assertThat(a.ticksRun()).isCloseTo(1000, within(30L));
        assertThat(b.ticksRun()).isCloseTo(1000, within(30L));
        assertThat(c.ticksRun()).isCloseTo(1000, within(30L));
    }

    @Test
    void weights1To3To4HoldOverManyPeriods() {
        CreditScheduler scheduler = new CreditScheduler();
        Vcpu a = scheduler.add(1, 128), b = scheduler.add(2, 384), c = scheduler.add(3, 512);
        runBusy(scheduler, 8000);
        assertThat((double) a.ticksRun() / 8000).isCloseTo(1.0 / 8, within(0.02));
        assertThat((double) b.ticksRun() / 8000).isCloseTo(3.0 / 8, within(0.02));
        assertThat((double) c.ticksRun() / 8000).isCloseTo(4.0 / 8, within(0.02));
    }

    @Test
    void aTimesliceIsThreeTicks() {
        CreditScheduler scheduler = new CreditScheduler();
        scheduler.add(1, 256);
        scheduler.add(2, 256);
        assertThat(scheduler.schedule().id).isEqualTo(1);
        assertThat(scheduler.tick()).isFalse();
        assertThat(scheduler.tick()).isFalse();
        assertThat(scheduler.tick()).isTrue();
        assertThat(scheduler.schedule().id).isEqualTo(2);
    }

    @Test
    void aBlockedVcpuIsNotChargedAndTheOtherRuns() {
        CreditScheduler scheduler = new CreditScheduler();
        Vcpu sleeper = scheduler.add(1, 256), worker = scheduler.add(2, 256);
        scheduler.schedule();
        scheduler.block(sleeper);
        assertThat(scheduler.schedule()).isSameAs(worker);
        runBusy(scheduler, 300);
        assertThat(sleeper.ticksRun()).isZero();
        assertThat(worker.ticksRun()).isEqualTo(300);
        assertThat(sleeper.credit()).isZero(); // never active, never debited
    }

    @Test
    void everyVcpuBlockedMeansIdleAndNobodyIsCharged() {
        CreditScheduler scheduler = new CreditScheduler();
        Vcpu only = scheduler.add(1, 256);
        scheduler.schedule();
        scheduler.block(only);
        assertThat(scheduler.schedule()).isNull();
        assertThat(scheduler.tick()).isFalse();
        assertThat(only.ticksRun()).isZero();
        assertThat(scheduler.wake(only)).isTrue(); // the idle CPU takes it at once
        assertThat(scheduler.schedule()).isSameAs(only);
    }

    @Test
    void aWokenUnderVcpuIsBoostedAndPreemptsTheRunningOne() {
        CreditScheduler scheduler = new CreditScheduler();
        Vcpu io = scheduler.add(1, 256), cpu = scheduler.add(2, 256);
        scheduler.schedule();
        scheduler.block(io);
        scheduler.schedule();
        assertThat(scheduler.current()).isSameAs(cpu);
        assertThat(scheduler.wake(io)).isTrue();
        assertThat(io.priority()).isEqualTo(Priority.BOOST);
        assertThat(scheduler.schedule()).isSameAs(io);
        scheduler.tick();
        assertThat(io.priority()).isEqualTo(Priority.UNDER); // a tick's debit ends the boost
    }

    @Test
    void yieldLetsAnEqualRun() {
        CreditScheduler scheduler = new CreditScheduler();
        scheduler.add(1, 256);
        scheduler.add(2, 256);
        assertThat(scheduler.schedule().id).isEqualTo(1);
        assertThat(scheduler.schedule().id).isEqualTo(2); // SCHEDOP_yield: back of the queue
        assertThat(scheduler.schedule().id).isEqualTo(1);
    }

    @Test
    void aVcpuInDebtIsOverAndRunsOnlyWhenNoUnderOneCan() {
        CreditScheduler scheduler = new CreditScheduler();
        Vcpu a = scheduler.add(1, 256), b = scheduler.add(2, 256);
        scheduler.schedule();
        runTimeslice(scheduler); // a alone is active at this accounting: its 300 credits all its own
        assertThat(scheduler.schedule()).isSameAs(b);
        runTimeslice(scheduler); // b debited 300, then 150 each
        assertThat(b.credit()).isEqualTo(-150);
        assertThat(b.priority()).isEqualTo(Priority.OVER);
        assertThat(a.priority()).isEqualTo(Priority.UNDER);
        assertThat(scheduler.schedule()).isSameAs(a);
        scheduler.block(a);
        assertThat(scheduler.schedule()).isSameAs(b); // work-conserving
    }

    private static void runTimeslice(CreditScheduler scheduler) {
        scheduler.tick();
        scheduler.tick();
        assertThat(scheduler.tick()).isTrue();
    }

    @Test
    void aRemovedVcpuNeverRunsAgain() {
        CreditScheduler scheduler = new CreditScheduler();
        Vcpu dead = scheduler.add(1, 256), alive = scheduler.add(2, 256);
        scheduler.schedule();
        scheduler.remove(dead);
        assertThat(scheduler.schedule()).isSameAs(alive);
        runBusy(scheduler, 30);
        assertThat(dead.ticksRun()).isZero();
        assertThat(scheduler.wake(dead)).isFalse();
    }
}

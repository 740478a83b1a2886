package hvlab.hv.xenpv.sched;

import hvlab.spi.DomainConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Xen's credit scheduler for one physical CPU (xen/common/sched_credit.c of Xen 3.x, later sched/credit.c; defaults
 * in ../shared/reference/perf-anchors.md section 6): each vCPU has a weight; the running one is debited
 * {@link #CREDITS_PER_TICK} at every 10 ms tick; every {@link #TICKS_PER_ACCOUNTING} ticks the period's
 * {@link #CREDITS_PER_ACCOUNTING} credits are shared among the active vCPUs in proportion to their weights. A vCPU
 * with credit left is UNDER, one in debt OVER; UNDER runs before OVER, round-robin within a priority, for a
 * timeslice of {@link #TICKS_PER_TIMESLICE} ticks. A blocked vCPU is never charged (only the running one is); one
 * woken while UNDER is BOOSTed until its next tick, so event-driven domains get in quickly. Work-conserving: OVER
 * vCPUs run when no UNDER one is runnable. Driven by Xen's tick on the virtual clock, so every run is deterministic.
 */
public final class CreditScheduler {
    /** CSCHED_DEFAULT_WEIGHT. */
    public static final int DEFAULT_WEIGHT = DomainConfig.DEFAULT_CPU_WEIGHT;
    /** CSCHED_CREDITS_PER_TICK: 10 credits per ms, 10 ms ticks. */
    public static final int CREDITS_PER_TICK = 100;
    /** CSCHED_TICKS_PER_TSLICE and CSCHED_TICKS_PER_ACCT: 30 ms. */
    public static final int TICKS_PER_TIMESLICE = 3, TICKS_PER_ACCOUNTING = 3;
    /** CSCHED_CREDITS_PER_TSLICE (a vCPU's credit is kept within plus or minus this) and CSCHED_CREDITS_PER_ACCT. */
    public static final int CREDITS_PER_TIMESLICE = 300, CREDITS_PER_ACCOUNTING = 300;

    /** CSCHED_PRI_TS_BOOST, _UNDER, _OVER: earlier constants run first. */
    public enum Priority { BOOST, UNDER, OVER }

    /** One vCPU as the scheduler sees it (a domain here: each has one vCPU). */
    public static final class Vcpu {
        public final int id;
        int weight;
        int credit;
        Priority priority = Priority.UNDER;
        boolean runnable = true, active, gone;
        long ticksRun;

        Vcpu(int id, int weight) {
            this.id = id;
            this.weight = weight;
        }

        public int weight() {
            return weight;
        }

        public int credit() {
            return credit;
        }

        public Priority priority() {
            return priority;
        }

        public boolean runnable() {
            return runnable;
        }

        /** The ticks during which this vCPU was the one running: its scheduled time in 10 ms units. */
        public long ticksRun() {
            return ticksRun;
        }
    }

    /** Every vCPU, in order of creation. */
    private final List<Vcpu> vcpus = new ArrayList<>();
    /** The runnable vCPUs that are not running, in the order they queued. */
    private final List<Vcpu> runQueue = new ArrayList<>();
    private Vcpu current;
    private int ticks, sliceTicks;

    public Vcpu add(int id, int weight) {
        checkWeight(weight);
        Vcpu vcpu = new Vcpu(id, weight);
        vcpus.add(vcpu);
        runQueue.add(vcpu);
        return vcpu;
    }

    /** A new weight for the vCPU's domain, as {@code xl sched-credit -w} sets it (csched_dom_cntl). */
    public void setWeight(Vcpu vcpu, int weight) {
        checkWeight(weight);
        vcpu.weight = weight;
    }

    private static void checkWeight(int weight) {
        if (weight < DomainConfig.MIN_CPU_WEIGHT || weight > DomainConfig.MAX_CPU_WEIGHT) {
            throw new IllegalArgumentException("a credit weight is 1..65535, not " + weight);
        }
    }

    /** The domain is gone (shut down, crashed, destroyed): it never runs again and takes no more credit. */
    public void remove(Vcpu vcpu) {
        vcpu.gone = true;
        vcpu.runnable = false;
        vcpu.active = false;
        runQueue.remove(vcpu);
        if (current == vcpu) {
            current = null;
        }
    }

    /** The running vCPU, or null while the CPU idles (every vCPU blocked). */
    public Vcpu current() {
        return current;
    }

    public List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    /**
     * Xen's tick (csched_tick): the running vCPU is charged a tick's credits and becomes active (a BOOST ends);
     * every {@link #TICKS_PER_ACCOUNTING} ticks, accounting. True when the running vCPU's timeslice is over.
     */
    public boolean tick() {
        if (current != null) {
            current.ticksRun++;
            current.credit -= CREDITS_PER_TICK;
            current.active = true;
            if (current.priority == Priority.BOOST) {
                current.priority = Priority.UNDER;
            }
        }
        if (++ticks % TICKS_PER_ACCOUNTING == 0) {
            account();
        }
        return current != null && ++sliceTicks >= TICKS_PER_TIMESLICE;
    }

    /**
     * csched_acct: the period's credits go to the active vCPUs by weight (rounded up, as Xen's credit_fair); in debt
     * means OVER. Credit is kept above minus a timeslice; a vCPU that saves more than a timeslice stops earning (it
     * is not using its share) until it runs again.
     */
    private void account() {
        long weightTotal = 0;
        for (Vcpu vcpu : vcpus) {
            if (vcpu.active) {
                weightTotal += vcpu.weight;
            }
        }
        if (weightTotal == 0) {
            return;
        }
        for (Vcpu vcpu : vcpus) {
            if (!vcpu.active) {
                continue;
            }
            vcpu.credit += (int) ((CREDITS_PER_ACCOUNTING * (long) vcpu.weight + weightTotal - 1) / weightTotal);
            if (vcpu.credit < 0) {
                vcpu.priority = Priority.OVER;
                vcpu.credit = Math.max(vcpu.credit, -CREDITS_PER_TIMESLICE);
            } else {
                vcpu.priority = Priority.UNDER;
                if (vcpu.credit > CREDITS_PER_TIMESLICE) {
                    vcpu.active = false;
                    vcpu.credit = 0;
                }
            }
        }
    }

    /** SCHEDOP_block (or SCHEDOP_poll): the vCPU leaves the run queue until an event wakes it. */
    public void block(Vcpu vcpu) {
        if (vcpu.gone) {
            return;
        }
        vcpu.runnable = false;
        runQueue.remove(vcpu);
    }

    /**
     * An event for a blocked vCPU (csched_vcpu_wake): runnable again, BOOSTed if it was UNDER. True when it should
     * preempt the running vCPU (it has a higher priority, or the CPU idles).
     */
    public boolean wake(Vcpu vcpu) {
        if (vcpu.gone || vcpu.runnable) {
            return false;
        }
        vcpu.runnable = true;
        if (vcpu.priority == Priority.UNDER) {
            vcpu.priority = Priority.BOOST;
        }
        if (vcpu != current) {
            runQueue.add(vcpu);
        }
        return current == null || vcpu.priority.compareTo(current.priority) < 0;
    }

    /**
     * csched_schedule: the running vCPU, if still runnable, queues behind those of its priority (so SCHEDOP_yield
     * lets its equals run), and the first runnable vCPU of the highest priority runs for a new timeslice. Returns it,
     * or null to idle.
     */
    public Vcpu schedule() {
        if (current != null && current.runnable) {
            runQueue.add(current);
        }
        Vcpu next = null;
        for (Vcpu vcpu : runQueue) {
            if (next == null || vcpu.priority.compareTo(next.priority) < 0) {
                next = vcpu;
            }
        }
        if (next != null) {
            runQueue.remove(next);
        }
        current = next;
        sliceTicks = 0;
        return next;
    }
}

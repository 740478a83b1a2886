package hvlab.hv.xenpv;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hv.xenpv.mm.FrameTable;
import hvlab.hw.stats.Counters;
import hvlab.spi.DomainConfig;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Several domains under one Xen (Barham et al. 2003, section 2; Xen's credit scheduler): each its own memory, tables,
 * event channels and vCPU; switched on the timer, on block and on events; one that crashes or is destroyed leaves
 * the others' output unchanged; interdomain event channels with Xen's public/event_channel.h semantics.
 */
class XenDomainsTest {
    private static final long BUDGET = 1_000_000_000;

    private record Run(String console, RunOutcome outcome, Machine machine) {
        /** Domain N's console lines, without the "(dN) " prefix Xen gives them. */
        String linesOf(int domain) {
            String prefix = "(d" + domain + ") ";
            return Arrays.stream(console.split("\n")).filter(l -> l.startsWith(prefix))
                    .map(l -> l.substring(prefix.length())).collect(Collectors.joining("\n", "", "\n"));
        }

        long counter(String family, String key) {
            return machine.statistics().stream().filter(v -> v.family().equals(family) && v.key().equals(key))
                    .mapToLong(Counters.CounterValue::value).sum();
        }
    }

    private static GuestImage pv(String workload, String... options) {
        LabGuest guest = LabGuests.paravirtual().stream().filter(g -> g.name().equals(workload)).findFirst()
                .orElseThrow();
        if (options.length > 0) {
            guest = guest.withOptions(String.join(" ", options));
        }
        return new GuestImage.Multiboot("lab-pv:" + workload, LabGuest.paravirtualImage(),
                guest.paravirtualCommandLine());
    }

    private static Run run(List<GuestImage> images) throws Exception {
        return run(images, xen -> { });
    }

    /** Boots the domains; {@code midway} acts on Xen after a first stretch of the run. */
    private static Run run(List<GuestImage> images, Consumer<Xen> midway) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Machine machine = Machine.builder().ramBytes(128 << 20).serialOutput(console::write).build();
        try (Xen xen = (Xen) new XenPvProvider().create(new MachineHostContext(machine, machine.description(),
                System.getLogger("xen")))) {
            xen.boot(images);
            RunOutcome outcome = xen.run(2_000_000);
            if (outcome instanceof RunOutcome.InstructionLimit) {
                midway.accept(xen);
                outcome = xen.run(BUDGET);
            }
            return new Run(console.toString(StandardCharsets.ISO_8859_1), outcome, machine);
        }
    }

    /** Each image's console alone on Xen, run once per test class (runs are deterministic). */
    private static final java.util.Map<String, String> ALONE = new java.util.concurrent.ConcurrentHashMap<>();

    private static String alone(GuestImage image) throws Exception {
        GuestImage.Multiboot kernel = (GuestImage.Multiboot) image;
        String console = ALONE.get(kernel.commandLine());
        if (console == null) {
            console = run(List.of(image)).console();
            ALONE.put(kernel.commandLine(), console);
        }
        return console;
    }

    @Test
    void twoDomainsEachPrintTheirOwnLinesBehindTheirPrefix() throws Exception {
        Run run = run(List.of(pv("hello"), pv("hello")));
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
        assertThat(run.linesOf(1)).isEqualTo(alone(pv("hello")));
        assertThat(run.linesOf(2)).isEqualTo(alone(pv("hello")));
        assertThat(run.console()).contains("(XEN) domain 1 shut down: poweroff", "(XEN) domain 2 shut down: poweroff");
        assertThat(run.console().lines()).allMatch(l -> l.startsWith("(d1) ") || l.startsWith("(d2) ")
                || l.startsWith("(XEN) "));
    }

    /** Issue 6: one domain that crashes leaves the other running with unchanged output. */
    @Test
    void aDomainThatCrashesLeavesTheOthersOutputUnchanged() throws Exception {
        GuestImage callret = pv("callret", "iterations=15000000"); // still running when its first timeslice ends
        Run run = run(List.of(callret, pv("crash")));
        assertThat(run.console().indexOf("(XEN) domain 2 crashed")).isLessThan(run.console().indexOf("(d1) result"));
        assertThat(run.console()).contains("(d2) crash: a page fault with no handler",
                "(XEN) domain 2 crashed: no handler for vector 14", "(XEN) domain 2 shut down: crash");
        assertThat(LabGuests.maskTimeDependent(run.linesOf(1))).isEqualTo(LabGuests.maskTimeDependent(alone(callret)))
                .contains("lab: done status=pass");
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS)); // the first domain's
    }

    /**
     * domain_kill / domain_relinquish_resources ([X32] xen/common/domain.c, xen/arch/x86/domain.c): the frames of a
     * domain that crashed beside another go back to Xen's free pool with their M2P entries invalid, counted in
     * --stats; the survivor keeps its own.
     */
    @Test
    void aCrashedDomainsFramesGoBackToXen() throws Exception {
        GuestImage callret = pv("callret", "iterations=15000000");
        Machine machine = Machine.builder().ramBytes(128 << 20).serialOutput(b -> { }).build();
        try (Xen xen = (Xen) new XenPvProvider().create(new MachineHostContext(machine, machine.description(),
                System.getLogger("xen")))) {
            xen.boot(List.of(callret, pv("crash")));
            FrameTable frames = xen.mm().frames();
            int d2First = XenLayout.FIRST_DOMAIN_FRAME + Xen.DOMAIN_PAGES;
            assertThat(frames.owner(d2First)).isEqualTo(2);
            assertThat(xen.run(BUDGET)).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
            Run run = new Run("", null, machine);
            // its reservation and the shared_info page Xen shared with it (share_xen_page_with_guest)
            assertThat(run.counter("domain d2", "frames freed at its death")).isEqualTo(Xen.DOMAIN_PAGES + 1);
            assertThat(run.counter("domain d1", "frames freed at its death")).isZero(); // it ended last: power off
            int m2p = xen.layout().physical(XenLayout.M2P);
            for (int mfn = d2First; mfn < d2First + Xen.DOMAIN_PAGES; mfn++) {
                assertThat(frames.owner(mfn)).isEqualTo(FrameTable.FREE);
                assertThat(machine.platform().memory().readU32(m2p + mfn * 4)).isEqualTo(-1); // INVALID_M2P_ENTRY
            }
            assertThat(frames.owner(XenLayout.FIRST_DOMAIN_FRAME)).isEqualTo(1);
            // free for Xen to give again (a balloon claiming pages back), zeroed first
            assertThat(xen.allocateFrame(1)).isEqualTo(d2First);
            assertThat(frames.owner(d2First)).isEqualTo(1);
            assertThat(machine.platform().memory().readU32(d2First << 12)).isZero();
        }
    }

    static List<String> workloads() {
        return List.of("hello", "syscall", "callret", "pgfault", "divzero", "ptemod", "attacks", "events", "oneshot");
    }

    /**
     * Every PV workload as d2 beside a busy d1 prints what it prints alone: the switches in and out of it (page
     * tables, trap table, fast system-call gate, kernel stack, GDT, CR2, events) leave it nothing of d1's.
     */
    @ParameterizedTest
    @MethodSource("workloads")
    void aWorkloadBesideABusyDomainPrintsWhatItPrintsAlone(String workload) throws Exception {
        GuestImage busy = pv("callret", "iterations=15000000");
        GuestImage image = workload.equals("callret") ? busy : pv(workload);
        Run run = run(List.of(busy, image));
        assertThat(LabGuests.maskTimeDependent(run.linesOf(2))).isEqualTo(LabGuests.maskTimeDependent(alone(image)))
                .contains("lab: done status=pass");
        assertThat(LabGuests.maskTimeDependent(run.linesOf(1))).isEqualTo(LabGuests.maskTimeDependent(alone(busy)));
        assertThat(run.counter(Counters.WORLD_SWITCHES, "domain switch")).isPositive();
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
    }

    /** The run's status is the first domain's, whichever ended first. */
    @Test
    void theRunEndsWithTheFirstDomainsStatus() throws Exception {
        Run run = run(List.of(pv("crash"), pv("hello")));
        assertThat(run.linesOf(2)).isEqualTo(alone(pv("hello")));
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_PANIC));
    }

    /** A domain destroyed from outside (as xl destroy) leaves the other running with unchanged output. */
    @Test
    void aDestroyedDomainLeavesTheOtherRunning() throws Exception {
        GuestImage callret = pv("callret", "iterations=3000000");
        Run run = run(List.of(pv("callret", "iterations=3000000"), callret), xen -> xen.destroy(1));
        assertThat(run.console()).contains("(XEN) domain 1 destroyed").doesNotContain("(d1) lab: done");
        assertThat(LabGuests.maskTimeDependent(run.linesOf(2))).isEqualTo(LabGuests.maskTimeDependent(alone(callret)));
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_PANIC));
    }

    /** Xen's credit scheduler: two busy domains of equal weight get the CPU in turns, about half each. */
    @Test
    void twoBusyDomainsShareTheCpuEqually() throws Exception {
        GuestImage busy = pv("callret", "iterations=40000000"); // about 130 ms of virtual time each
        Run run = run(List.of(busy, busy));
        long first = run.counter("domain d1", "scheduled ms"), second = run.counter("domain d2", "scheduled ms");
        assertThat(first).isGreaterThan(100);
        assertThat((double) first / (first + second)).isBetween(0.4, 0.6);
        assertThat(run.counter(Counters.WORLD_SWITCHES, "domain switch")).isGreaterThan(4);
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
    }

    /**
     * Xen's credit scheduler by weight (xen/common/sched_credit.c csched_acct; xl.cfg cpu_weight), given through the
     * SPI's DomainConfig: 256 and 512 give the busy domains a third and two thirds of the CPU.
     */
    @Test
    void weights256And512GiveOneThirdAndTwoThirds() throws Exception {
        GuestImage busy = pv("callret", "iterations=100000000");
        Machine machine = Machine.builder().ramBytes(128 << 20).serialOutput(b -> { }).build();
        try (Hypervisor xen = new XenPvProvider().create(new MachineHostContext(machine, machine.description(),
                System.getLogger("xen")))) {
            xen.boot(List.of(busy, busy), List.of(DomainConfig.DEFAULT, new DomainConfig(512)));
            Run run = new Run("", null, machine);
            xen.run(120_000_000); // past the first accounting periods, where both start UNDER with no credit
            long light0 = run.counter("domain d1", "scheduled ms"), heavy0 = run.counter("domain d2", "scheduled ms");
            assertThat(xen.run(270_000_000)).isInstanceOf(RunOutcome.InstructionLimit.class); // both still busy
            long light = run.counter("domain d1", "scheduled ms") - light0;
            long heavy = run.counter("domain d2", "scheduled ms") - heavy0;
            assertThat(light + heavy).isGreaterThan(250);
            assertThat((double) light / (light + heavy)).isCloseTo(1.0 / 3, org.assertj.core.api.Assertions.within(0.05));
        }
    }

    @Test
    void oneConfigPerImage() {
        Machine machine = Machine.builder().ramBytes(128 << 20).build();
        Hypervisor xen = new XenPvProvider().create(new MachineHostContext(machine, machine.description(),
                System.getLogger("xen")));
        assertThatThrownBy(() -> xen.boot(List.of(pv("hello"), pv("hello")), List.of(DomainConfig.DEFAULT)))
                .hasMessageContaining("2 images but 1 domain configs");
    }

    /** Each domain keeps its own FPU registers: Xen switches them lazily, on #NM, with the domain. */
    @Test
    void eachDomainKeepsItsOwnFpuRegisters() throws Exception {
        Run run = run(List.of(pv("fpustate", "seed=5"), pv("fpustate", "seed=9")));
        assertThat(run.console()).contains("(d1) fpustate: seed 5 kept 5 over 100 yields",
                "(d2) fpustate: seed 9 kept 9 over 100 yields");
        assertThat(run.counter(Counters.WORLD_SWITCHES, "domain switch")).isGreaterThanOrEqualTo(200);
        assertThat(run.counter(Counters.EXCEPTIONS, "#NM")).isGreaterThanOrEqualTo(2);
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
    }

    /**
     * The PV clispin: a domain that masks its events (evtchn_upcall_mask, [X32] public/xen.h vcpu_info) and spins
     * cannot keep the CPU, as Xen's tick is Xen's interrupt, not one the guest can mask; the domain beside it runs and
     * finishes with unchanged output meanwhile, and the spinner saw system time advance and VIRQ_TIMER wait pending
     * until it unmasked.
     */
    @Test
    void aDomainSpinningWithEventsMaskedIsStillPreemptedByXensTick() throws Exception {
        Run run = run(List.of(pv("evtspin", "ms=100"), pv("hello")));
        assertThat(run.console().indexOf("(d2) lab: done status=pass")).isPositive()
                .isLessThan(run.console().indexOf("(d1) PASS system_time_kept_advancing"));
        assertThat(run.linesOf(2)).isEqualTo(alone(pv("hello")));
        assertThat(run.linesOf(1)).doesNotContain("FAIL ").contains("PASS system_time_kept_advancing",
                "PASS timer_virq_held_while_masked", "PASS timer_virq_pending", "PASS timer_virq_delivered_on_unmask",
                "evtspin: masked for 100 ms of system time", "lab: done status=pass");
        assertThat(run.counter("domain d1", "scheduled ms")).isGreaterThanOrEqualTo(100);
        assertThat(run.counter(Counters.WORLD_SWITCHES, "domain switch")).isPositive();
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
    }

    /** Interdomain event channels: pong offers a port (alloc_unbound), ping binds it and they notify each other. */
    @Test
    void pingAndPongNotifyEachOtherThroughAnInterdomainChannel() throws Exception {
        Run run = run(List.of(pv("ping", "iterations=200"), pv("pong", "iterations=200")));
        assertThat(run.console()).contains("(d2) pong: port 2 offered to d1", "(d2) pong: 200 replies",
                "(d1) result workload=pingpong iterations=200", "(d1) PASS close_interdomain_port",
                "(d1) lab: done status=pass", "(d2) lab: done status=pass");
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
        assertThat(run.counter("domain d2", "events delivered (upcalls)")).isGreaterThanOrEqualTo(200);
        assertThat(run.counter(Counters.WORLD_SWITCHES, "domain switch")).isGreaterThanOrEqualTo(400);
    }

    /** Issue 6's attack "an event channel of another domain": refused with Xen's codes, counted, harmless. */
    @Test
    void anotherDomainsEventChannelsAreRefusedWithXensErrorCodes() throws Exception {
        GuestImage victim = pv("callret", "iterations=15000000"); // still running after its first timeslice
        Run run = run(List.of(victim, pv("intruder")));
        assertThat(run.linesOf(2)).doesNotContain("FAIL ").contains("PASS bind_peers_virq_port",
                "PASS bind_peers_free_port", "PASS bind_no_such_domain", "PASS alloc_unbound_in_peer",
                "PASS send_port_not_ours", "PASS bind_port_offered_to_another", "PASS map_peers_frame",
                "PASS write_peers_frame", "PASS machphys_update_peers_frame", "PASS update_va_mapping_peers_frame",
                "PASS balloon_out_peers_frame", "lab: done status=pass");
        assertThat(run.counter("events", "interdomain channel ops refused")).isEqualTo(6);
        assertThat(LabGuests.maskTimeDependent(run.linesOf(1))).isEqualTo(LabGuests.maskTimeDependent(alone(victim)));
        assertThat(run.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
    }

    @Test
    void moreDomainsThanMemoryIsRefusedWithTheReason() {
        GuestImage hello = pv("hello");
        assertThatThrownBy(() -> run(java.util.Collections.nCopies(20, hello)))
                .hasMessageContaining("20 domains need").hasMessageContaining("--memory");
    }
}

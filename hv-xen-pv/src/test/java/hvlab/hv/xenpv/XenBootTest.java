package hvlab.hv.xenpv;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.MachineHostContext;
import hvlab.hw.machine.RunOutcome;
import hvlab.hw.stats.Counters;
import hvlab.spi.GuestImage;
import hvlab.spi.Hypervisor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A PV domain built and started as Xen's domain builder does (xen-pv-abi.md section 8), run to its shutdown. */
class XenBootTest {
    private static final long BUDGET = 50_000_000;

    private record Run(String console, RunOutcome outcome, Machine machine) { }

    private static Run run(GuestImage image) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Machine machine = Machine.builder().ramBytes(128 << 20).serialOutput(console::write).build();
        try (Hypervisor xen = new XenPvProvider().create(new MachineHostContext(machine, machine.description(),
                System.getLogger("xen")))) {
            xen.boot(image);
            RunOutcome outcome = xen.run(BUDGET);
            return new Run(console.toString(StandardCharsets.ISO_8859_1), outcome, machine);
        }
    }

    /** The PV lab kernel's workload of that name alone on Xen. */
    private static Run runPv(String workload) throws BootImageException {
        LabGuest guest = LabGuests.paravirtual().stream().filter(g -> g.name().equals(workload)).findFirst()
                .orElseThrow();
        return run(new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(), guest.paravirtualCommandLine()));
    }

    private static String nativeConsole(LabGuest guest) throws BootImageException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine machine = Machine.builder().ramBytes(128 << 20).serialOutput(console::write).build()) {
            machine.boot(new GuestImage.Multiboot("lab.elf", guest.kernelImage(), guest.commandLine()));
            machine.run(BUDGET);
        }
        return console.toString(StandardCharsets.ISO_8859_1);
    }

    static Stream<LabGuest> paravirtualWorkloads() {
        return LabGuests.paravirtualPortsAsNative().stream();
    }

    /** Issue 6's attacks, each refused with Xen's error code; the domain runs on to a clean shutdown. */
    @Test
    void everyAttackIsRefusedWithXensErrorCodeAndTheDomainGoesOn() throws Exception {
        Run pv = runPv("attacks");
        assertThat(pv.console()).doesNotContain("FAIL ").contains("PASS map_page_table_writable",
                "PASS write_xen_slot", "PASS map_foreign_frame", "PASS update_foreign_frame", "PASS trap_table_ring0_cs",
                "PASS mmu_update_pointer_into_xen", "PASS mmu_update_huge_count", "PASS descriptor_reaching_xen",
                "PASS descriptor_into_page_table", "PASS balloon_past_maximum", "PASS balloon_foreign_frame",
                "PASS balloon_back_in", "PASS set_gdt_reaching_xen", "PASS gdt_selector_loads",
                "PASS map_gdt_frame_writable", "PASS in_without_iopl_reflected_gp", "PASS set_iopl_past_3",
                "PASS in_with_iopl_emulated_reads_ones", "PASS mov_cr0_sets_ts", "PASS mov_cr0_clearing_wp_reflected_gp",
                "PASS mov_cr3_reloads_the_base", "PASS mov_cr3_writable_frame_reflected_gp", "lab: done status=pass");
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
    }

    /** Issue 6's measure: lab-pv:NAME under xen-pv gives lab:NAME's result lines on the bare machine. */
    @ParameterizedTest
    @MethodSource("paravirtualWorkloads")
    void paravirtualWorkloadPrintsWhatTheNativeOnePrints(LabGuest guest) throws Exception {
        Run pv = run(new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(),
                guest.paravirtualCommandLine()));
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
        assertThat(LabGuests.maskTimeDependent(pv.console()))
                .isEqualTo(LabGuests.maskTimeDependent(nativeConsole(guest)));
    }

    /**
     * hvmem: the top 64 MiB is Xen's in every address space, so the two mappings of own RAM there that native makes
     * are refused with -EINVAL ([X32] do_update_va_mapping); the I/O hole's frame is not the domain's either.
     */
    @Test
    void theTopSixtyFourMegabytesAreXensAndRefusedToTheGuest() throws Exception {
        Run pv = runPv("hvmem");
        assertThat(pv.console()).contains("FAIL top64m_linear_maps_own_ram got 0xffffffea want 0x0",
                "FAIL last_linear_dword_maps_own_ram got 0xffffffea want 0x0", "PASS phys_top64m_holds_nothing",
                "PASS own_memory_intact", "hvmem: 2 passed, 2 failed", "lab: done status=fail");
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_FAILURE));
    }

    /**
     * selftest in ring 1 with native's check names and order: everything a PV kernel can check passes as on native;
     * exactly these fail, each attempted and saying what Xen did: ring compression shows through LAR, LSL, SGDT,
     * SIDT, STR, INT3 (Xen's gate 3 is DPL 3) and the call gate to ring 1; MOV to CR0 may change only TS ([X32]
     * traps.c emulate_privileged_op); check_descriptor refuses TSSs and task gates (-EINVAL); the iret hypercall
     * with EFLAGS.VM is refused by hvlab's Xen (-EINVAL, checked before CS as [X32] do_iret does, not a crash); and
     * physical IRQ 0 is not the domain's ([X32] event_channel.c evtchn_bind_pirq: -EPERM).
     */
    @Test
    void selftestFailsOnlyWhereXensDesignDiffersFromAPc() throws Exception {
        Run pv = runPv("selftest");
        List<String> failed = pv.console().lines().filter(l -> l.startsWith("FAIL ")).map(l -> l.split(" ")[1])
                .toList();
        assertThat(failed).containsExactly("lar", "lsl", "sgdt_sidt", "smsw_str", "wp0_supervisor_write_read_only",
                "ring3_int3_dpl0_gate_gp", "callgate_ring3_to_ring0_frame", "task_jmp_and_back",
                "task_call_nt_and_back_link", "task_iret_to_back_link", "task_call_resumes_after_iret",
                "task_tss_limit_ts", "task_jmp_busy_gp", "df_through_task_gate", "v86_iret_entry_real_mode_addressing",
                "v86_int_iopl3_monitor_frame", "v86_iret_back_to_v86", "v86_int_iopl0_gp",
                "v86_in_checks_io_bitmap_not_iopl", "pit_irq0_ticks");
        assertThat(pv.console()).contains("FAIL wp0_supervisor_write_read_only mov to cr0 (WP=0): faults=1 vector=13"
                        + " err=0x0", "the write then: faults=1 vector=14 err=0x3",
                "FAIL task_jmp_and_back update_descriptor(TSS) -22; ljmp 0x50: faults=1 vector=13 err=0x50",
                "FAIL v86_iret_entry_real_mode_addressing HYPERVISOR_iret to virtual-8086 mode: -22",
                "FAIL pit_irq0_ticks bind_pirq(IRQ0) -1", "PASS verr_verw", "PASS gp_selector_beyond_limit",
                "PASS accessed_dirty_bits", "PASS mov_cr3_flushes_tlb", "PASS ring3_fault_frame_on_tss_esp0",
                "PASS ring3_interrupt_tss_stack_and_iret", "PASS user_write_user_page", "PASS callgate_ret_to_ring3",
                "selftest: 88 passed, 20 failed", "lab: done status=fail");
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_FAILURE));
    }

    /** The PV selftest prints native's check names, in native's order, and no other kind of line. */
    @Test
    void selftestChecksAreNativesInNativesOrder() throws Exception {
        LabGuest selftest = LabGuests.find("selftest").orElseThrow();
        assertThat(checkNames(runPv("selftest").console())).isEqualTo(checkNames(nativeConsole(selftest)));
    }

    private static List<String> checkNames(String console) {
        return console.lines().filter(l -> l.startsWith("PASS ") || l.startsWith("FAIL ")).map(l -> l.split(" ")[1])
                .toList();
    }

    /**
     * robin-irvine in ring 1: ring compression shows through exactly Robin & Irvine's instructions. SGDT, SIDT and
     * STR show Xen's tables and TSS, PUSHF the real IF, CS RPL 1, POPF leaves IF and IOPL, LAR shows the DPL 1 Xen
     * raised the kernel's descriptors to ([X32] check_descriptor), LSL their limits cut below Xen, INT3 goes past a
     * DPL-0 trap-table entry (Xen's gate 3 is DPL 3, do_int3), a call gate lands in ring 1; the rest is native's.
     */
    @Test
    void ringCompressionShowsThroughRobinAndIrvinesInstructionsOnly() throws Exception {
        Run pv = runPv("robin-irvine");
        assertThat(pv.console()).contains("FAIL ring0_sgdt shows 0xff", "FAIL ring0_sidt shows 0xff",
                "FAIL ring0_str shows 0xe040", "FAIL ring0_pushf_if_iopl shows 0x246", "FAIL ring0_mov_cs_rpl shows 0xe019",
                "FAIL ring0_push_cs_rpl shows 0xe019", "FAIL ring0_popf_if_iopl shows 0x202", "FAIL ring3_sgdt",
                "FAIL ring3_sidt", "FAIL ring3_str", "FAIL lar shows 0xc0bb00", "FAIL lsl shows 0xfc3fffff",
                "FAIL sgdt_sidt", "FAIL smsw_str", "FAIL ring3_int3_dpl0_gate_gp",
                "FAIL callgate_ring3_to_ring0_frame shows 0x1", "robin-irvine: 14 passed, 16 failed");
        assertThat(pv.console()).contains("PASS ring0_sldt", "PASS ring0_smsw", "PASS ring3_probe_ran",
                "PASS ring3_pushf_if_iopl", "PASS ring3_mov_cs_rpl", "PASS ring3_push_cs_rpl", "PASS verr_verw",
                "PASS ring3_int_dpl0_gate_gp", "PASS ring3_interrupt_tss_stack_and_iret",
                "PASS ring3_popf_if_iopl_unchanged", "PASS ring3_lar_privilege", "PASS callgate_ret_to_ring3");
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_FAILURE));
    }

    /**
     * set_timer_op ([X32] public/xen.h; common/schedule.c do_set_timer_op): VIRQ_TIMER is sent when system time passes
     * the deadline, not at Xen's next 10 ms tick, and SCHEDOP_block (public/sched.h) wakes on it; a deadline already
     * past fires at once; 0 cancels. Xen serves it with the local APIC timer, one shot to the earliest deadline,
     * which also ends SCHEDOP_poll's timeout.
     */
    @Test
    void setTimerOpDeadlinesAndPollTimeoutsAreServedOnTime() throws Exception {
        Run pv = runPv("oneshot");
        assertThat(pv.console()).doesNotContain("FAIL ").contains("PASS block_wakes_at_deadline",
                "PASS past_deadline_fires_at_once", "PASS past_deadline_delivered_on_unmask",
                "PASS cancelled_deadline_leaves_periodic_tick", "lab: done status=pass");
        // SCHEDOP_poll (public/sched.h): a pending port returns at once; a masked polled port going pending wakes
        // the vCPU without an upcall; the timeout wakes it at the timeout; more than 128 ports is -EINVAL
        assertThat(pv.console()).contains("PASS poll_returns_at_once_when_pending", "PASS poll_wakes_on_masked_port",
                "PASS poll_times_out_at_timeout", "PASS poll_too_many_ports");
        assertThat(pv.machine().statistics()).anySatisfy(v -> assertThat(v.key()).isEqualTo("external 0xf0"));
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
    }

    /** Events replace interrupts: the timer VIRQ's upcalls, blocking, and the guest's software mask. */
    @Test
    void timerEventsArriveAsUpcallsAndTheGuestsMaskDefersThem() throws Exception {
        Run pv = runPv("events");
        assertThat(pv.console()).doesNotContain("FAIL ").contains("PASS timer_virq_upcalls_wake_block",
                "PASS upcall_mask_defers_events", "PASS unmask_delivers_pending_event", "PASS bind_virq_twice",
                "lab: done status=pass");
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
        assertThat(pv.machine().statistics()).anySatisfy(v -> {
            assertThat(v.key()).isEqualTo("upcalls delivered");
            assertThat(v.value()).isGreaterThanOrEqualTo(4);
        });
    }

    /** pgfault's faults reach the guest as bounces, and its handler maps each page with update_va_mapping. */
    @Test
    void pageFaultsAreBouncedAndMappedThroughCheckedUpdates() throws Exception {
        LabGuest pgfault = LabGuests.find("pgfault").orElseThrow().withOptions("iterations=3000");
        Run pv = run(new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(),
                pgfault.paravirtualCommandLine()));
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
        assertThat(pv.machine().statistics()).anySatisfy(v -> {
            assertThat(v.key()).isEqualTo("14 update_va_mapping");
            assertThat(v.value()).isEqualTo(3000 + 1); // and one at boot, mapping shared_info
        }).anySatisfy(v -> {
            assertThat(v.key()).isEqualTo("bounced to the guest: #PF");
            assertThat(v.value()).isEqualTo(3000);
        });
    }

    /**
     * forkwait's address spaces go through Xen as the paper has it: each new page directory is filled as plain memory,
     * then pinned (validated once), switched to and from by MMUEXT_NEW_BASEPTR and unpinned when reaped: four
     * mmuext_ops and two mmu_update batches (map the frames being filled, unmap them) per process.
     */
    @Test
    void eachForkPinsSwitchesToAndUnpinsANewPageDirectory() throws Exception {
        LabGuest forkwait = LabGuests.find("forkwait").orElseThrow().withOptions("iterations=20");
        Run pv = run(new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(),
                forkwait.paravirtualCommandLine()));
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
        assertThat(pv.machine().statistics()).anySatisfy(v -> {
            assertThat(v.key()).isEqualTo("26 mmuext_op");
            assertThat(v.value()).isEqualTo(4 * (20 + 1)); // the forked children and the process that forks them
        }).anySatisfy(v -> {
            assertThat(v.key()).isEqualTo("1 mmu_update");
            assertThat(v.value()).isEqualTo(2 * (20 + 1) + 2); // and two at boot: the scratch table, the kernel's U/S
        });
    }

    /**
     * in: the guest kernel in ring 1 with virtual IOPL 1 (PHYSDEVOP_set_iopl) gets #GP for IN, as the real IOPL is 0;
     * Xen emulates each one ([X32] traps.c emulate_privileged_op) and bounces none.
     */
    @Test
    void portReadsOfTheKernelAreEmulatedByXenAfterTheGeneralProtectionFault() throws Exception {
        LabGuest in = LabGuests.find("in").orElseThrow().withOptions("iterations=500");
        Run pv = run(new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(), in.paravirtualCommandLine()));
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
        assertThat(pv.machine().statistics()).anySatisfy(v -> {
            assertThat(v.key()).isEqualTo("emulated after #GP: in");
            assertThat(v.value()).isEqualTo(500);
        }).anySatisfy(v -> {
            assertThat(v.key()).isEqualTo("#GP");
            assertThat(v.value()).isEqualTo(500);
        }).noneSatisfy(v -> assertThat(v.key()).startsWith("bounced to the guest"));
    }

    /** Console output, traps and the shutdown all went through hypercalls: they are counted by number and name. */
    @Test
    void hypercallsAreCountedByNumberAndName() throws Exception {
        LabGuest hello = LabGuests.find("hello").orElseThrow();
        Run pv = run(new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(),
                hello.paravirtualCommandLine()));
        assertThat(pv.machine().statistics()).anySatisfy(v -> {
            assertThat(v.family()).isEqualTo(Counters.HYPERCALLS);
            assertThat(v.key()).isEqualTo("18 console_io");
            assertThat(v.value()).isPositive();
        }).anySatisfy(v -> {
            assertThat(v.key()).isEqualTo("29 sched_op");
            assertThat(v.value()).isEqualTo(1);
        });
    }

    /**
     * The fast system call: vector 80h's handler is DPL 3 and does not mask events, so Xen installs a real trap
     * gate for it and int 0x80 from ring 3 reaches the guest kernel without an exit ([X32] init_int80_direct_trap).
     */
    @Test
    void systemCallsGoStraightToTheGuestKernel() throws Exception {
        LabGuest syscall = LabGuests.find("syscall").orElseThrow().withOptions("iterations=1000");
        Run pv = run(new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(),
                syscall.paravirtualCommandLine()));
        assertThat(pv.outcome()).isEqualTo(new RunOutcome.Exited(LabGuests.EXIT_SUCCESS));
        assertThat(pv.machine().statistics()).noneSatisfy(v -> assertThat(v.family()).isEqualTo(Counters.EXITS))
                .anySatisfy(v -> {
                    assertThat(v.key()).isEqualTo("software 0x80");
                    assertThat(v.value()).isEqualTo(1000 + 2);
                });
    }

    @Test
    void aKernelWithoutXenGuestSectionIsRefusedByName() {
        LabGuest hello = LabGuests.find("hello").orElseThrow();
        assertThatThrownBy(() -> run(new GuestImage.Multiboot("lab.elf", hello.kernelImage(), hello.commandLine())))
                .isInstanceOf(BootImageException.class).hasMessageContaining("lab.elf")
                .hasMessageContaining("__xen_guest");
    }

    @Test
    void aFileThatIsNotElfIsRefused() {
        assertThatThrownBy(() -> run(new GuestImage.Multiboot("junk", new byte[100], "junk")))
                .isInstanceOf(BootImageException.class).hasMessageContaining("not a 32-bit");
    }
}

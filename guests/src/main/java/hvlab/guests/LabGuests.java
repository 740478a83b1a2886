package hvlab.guests;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The catalogue of lab workloads and the protocol their images follow. */
public final class LabGuests {

    /** The I/O port the kernel writes its exit value to (QEMU's isa-debug-exit). */
    public static final int EXIT_PORT = 0xF4;
    /** Exit value: the workload succeeded. QEMU exits with {@code (v << 1) | 1} = 33. */
    public static final int EXIT_SUCCESS = 0x10;
    /** Exit value: the workload ran and found a failure (a selftest FAIL, a wrong checksum, an unknown workload). */
    public static final int EXIT_FAILURE = 0x11;
    /** Exit value: kernel panic or an unexpected exception. */
    public static final int EXIT_PANIC = 0x12;
    /** Bochs's shutdown port; the kernel writes "Shutdown" there after the exit value. */
    public static final int BOCHS_SHUTDOWN_PORT = 0x8900;
    /** The serial console: COM1, polled. */
    public static final int CONSOLE_PORT = 0x3F8;

    /** Output fields whose numbers depend on time; everything else on the console is deterministic. */
    public static final Pattern TIME_DEPENDENT_FIELD = Pattern.compile("[a-z_]*(cycles|ticks)=[0-9]+");

    static final String KERNEL_IMAGE = "lab.elf";
    static final String PARAVIRTUAL_IMAGE = "lab-pv.elf";
    /** The native workloads the PV lab kernel has ports of. */
    private static final List<String> PARAVIRTUAL = List.of("hello", "selftest", "syscall", "in", "cr8wr", "callret",
            "pgfault", "divzero", "ptemod", "forkwait", "compute", "wildmem", "hvmem", "robin-irvine");
    /**
     * Ports whose checks differ from native's where Xen's design does (hvmem: the top 64 MiB is Xen's; robin-irvine:
     * ring compression shows through the sensitive unprivileged instructions; selftest: those too, and Xen keeps
     * CR0.WP, tasks, virtual-8086 mode and the PIT from a domain).
     */
    private static final List<String> PARAVIRTUAL_DEVIATING = List.of("selftest", "hvmem", "robin-irvine");
    private static final String IMAGE_NAME = "lab.elf";
    /** Workloads only the PV lab kernel has: it attacks the hypervisor through its paravirtual interface. */
    private static final List<LabGuest> PARAVIRTUAL_ONLY = List.of(guest("attacks", "hostile, PV only: asks"
            + " Xen to map a page table writable, write its slots, map or write frames not its own, install a ring-0"
            + " trap handler, follow pointers into Xen's area, batch absurd counts, install descriptors reaching Xen;"
            + " each must be refused with Xen's error code"),
            guest("events", "PV only: the timer VIRQ arrives as event-channel upcalls, SCHEDOP_block sleeps until"
                    + " one, the guest's upcall mask defers them and unmasking delivers; bad event-channel calls are"
                    + " refused"),
            guest("oneshot", "PV only: set_timer_op's one-shot deadline wakes SCHEDOP_block at the deadline,"
                    + " between Xen's 10 ms ticks; a past deadline fires at once, 0 cancels; SCHEDOP_poll wakes on a polled"
                    + " port or its timeout"),
            guest("evtspin", "hostile, PV only (the PV clispin): masks events (evtchn_upcall_mask) and spins"
                    + " for ms=N of system time; Xen's tick still preempts it, VIRQ_TIMER waits pending and arrives on"
                    + " unmask"),
            guest("ping", "PV only, with pong beside it (d1 of two): connects to d2's offered event channel"
                    + " (bind_interdomain) and times round trips through Xen; iterations=N, peer=D, port=P"),
            guest("pong", "PV only, with ping beside it (d2 of two): offers d1 an event channel (alloc_unbound)"
                    + " and answers each notification; iterations=N, peer=D"),
            guest("intruder", "hostile, PV only, beside another domain (d2 of two): binds, allocates in, sends"
                    + " and closes the other domain's event channels, and maps, writes and balloons out its frames;"
                    + " each must be refused with Xen's error code"),
            guest("crash", "hostile, PV only: takes a page fault with no handler, so Xen kills the domain;"
                    + " domains beside it must run on"),
            guest("fpustate", "PV only: keeps seed=N in the x87 stack while it yields the CPU (iterations=N"
                    + " times); beside another fpustate, checks each domain keeps its own FPU registers"));

    private static final List<LabGuest> ALL = List.of(
            guest("hello", "prints a greeting and exits with success"),
            guest("selftest", "checks CPU behaviour (flags, exceptions, paging, privilege, instructions);"
                    + " prints PASS/FAIL per check and a summary"),
            guest("syscall", "nanobenchmark: ring 3 int 0x80 to ring 0 and iret back, repeated"),
            guest("in", "nanobenchmark: IN from the master PIC's IMR (port 0x21) at CPL 0, repeated"),
            guest("cr8wr", "nanobenchmark: write the local APIC TPR (0xFEE00080, mapped uncached), repeated; PV port:"
                    + " the domain's interrupt priority is its event mask (evtchn_upcall_mask), written instead"),
            guest("callret", "nanobenchmark: call/ret pairs"),
            guest("pgfault", "nanobenchmark: touch a not-present page, the #PF handler maps it, repeated"),
            guest("divzero", "nanobenchmark: DIV by zero, the #DE handler skips the DIV, repeated"),
            guest("ptemod", "nanobenchmark: modify a PTE of the current address space and INVLPG, repeated"),
            guest("forkwait", "creates and reaps ring-3 processes: fork (own page directory, copied pages),"
                    + " exit, wait"),
            guest("compute", "self-checking integer workload in ring 3 (lists, matrices, state machine, CRC)"),
            guest("wildmem", "hostile: touches unmapped, supervisor and past-the-end-of-RAM memory from ring 0 and"
                    + " ring 3; checks the #PF error codes, open bus and that its own memory is unchanged"),
            guest("hvmem", "hostile: maps its own RAM into the top 64 MiB of linear space (a hypervisor's reserved"
                    + " region) and probes the physical I/O hole there; checks it owns the one and nothing stores in"
                    + " the other"),
            guest("clispin", "hostile: spins with CLI and every PIC line masked; checks the PIT kept counting and"
                    + " IRQ0 is delivered after STI"),
            guest("robin-irvine", "hostile: the sensitive-but-unprivileged instructions (SGDT, SIDT, SLDT, STR, SMSW,"
                    + " PUSHF/POPF, PUSH CS, LAR, LSL, VERR, VERW, INT, IRET, call gate) at CPL 0 and 3 show the"
                    + " kernel's own state"));

    /**
     * Workloads that end the machine on purpose, so nothing compares them across machines: not in {@link #all()},
     * found by {@link #find}. Beside other domains a hypervisor must end them alone.
     */
    private static final List<LabGuest> CRASHING = List.of(guest("crash", "hostile: loads an IDT of limit 0 and"
            + " executes UD2, so the CPU shuts down (a triple fault); domains beside it must run on"));

    private LabGuests() {
    }

    private static LabGuest guest(String name, String description) {
        return new LabGuest(name, description, IMAGE_NAME + " " + name);
    }

    /** Every workload, in a fixed order. */
    public static List<LabGuest> all() {
        return ALL;
    }

    /** The workloads the PV lab kernel ({@code lab-pv:NAME}) runs: its ports of native ones, then its own. */
    public static List<LabGuest> paravirtual() {
        return java.util.stream.Stream.concat(paravirtualPorts().stream(), PARAVIRTUAL_ONLY.stream()).toList();
    }

    /** The native workloads the PV lab kernel runs too, with their check names and result lines. */
    public static List<LabGuest> paravirtualPorts() {
        return ALL.stream().filter(g -> PARAVIRTUAL.contains(g.name())).toList();
    }

    /** Whether the PV lab kernel has a port of this native workload. */
    public static boolean hasParavirtualPort(LabGuest guest) {
        return PARAVIRTUAL.contains(guest.name());
    }

    /** The ports that print native's lines exactly: all but those where Xen's design differs from a PC's. */
    public static List<LabGuest> paravirtualPortsAsNative() {
        return paravirtualPorts().stream().filter(g -> !PARAVIRTUAL_DEVIATING.contains(g.name())).toList();
    }

    /** The workload with this name. */
    public static Optional<LabGuest> find(String name) {
        return java.util.stream.Stream.concat(ALL.stream(), CRASHING.stream()).filter(g -> g.name().equals(name))
                .findFirst();
    }

    /** The console output with every time-dependent number replaced by {@code _}, for comparing two machines. */
    public static String maskTimeDependent(String output) {
        return TIME_DEPENDENT_FIELD.matcher(output)
                .replaceAll(m -> Matcher.quoteReplacement(m.group().substring(0, m.group().indexOf('=') + 1) + "_"));
    }

    /**
     * Whether the console shows a failed run (a FAIL summary or a kernel panic): how to judge a run on a PC with no
     * exit port, such as Bochs, where the exit value is lost.
     */
    public static boolean reportsFailure(String console) {
        return console.contains("lab: done status=fail") || console.contains("PANIC ");
    }

    static byte[] resource(String file) {
        try (InputStream in = LabGuests.class.getResourceAsStream("images/" + file)) {
            if (in == null) {
                throw new IllegalStateException("guest image missing from the module: images/" + file);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

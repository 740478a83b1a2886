package hvlab.cli;

import hvlab.cli.bench.Bench;
import hvlab.cli.bench.BenchJson;
import hvlab.cli.bench.BenchResult;
import hvlab.cli.bench.BenchTable;
import hvlab.cli.bench.BochsEngine;
import hvlab.cli.bench.Engine;
import hvlab.cli.bench.HvlabEngine;
import hvlab.cli.bench.LinuxBootBench;
import hvlab.cli.bench.QemuEngine;
import hvlab.guests.LabGuest;
import hvlab.guests.LinuxCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code hvlab bench}: boots the lab ROMs on hvlab and on the peer emulators and prints wall time, start-up time,
 * guest instructions and MIPS per workload and engine, with hvlab's MIPS ratio to each peer.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measures guest MIPS of the lab ROMs on hvlab, QEMU TCG and Bochs.",
        footer = {"", "A peer that is not installed is skipped with a note. Progress goes to stderr, the table to"
                + " stdout.", "--linux boots Debian's kernel from guests/linux/fetch-linux.sh's cache ($HVLAB_LINUX_DIR"
                + " or ~/.cache/hvlab/linux) once on hvlab and once on QEMU, and is skipped with a note when it is not"
                + " fetched.", "Exit status: 0, or 1 if a workload failed on an engine (its row says why)."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--workloads", split = ",", paramLabel = "NAME",
            defaultValue = "compute,syscall,in,cr8wr,callret,pgfault,divzero,ptemod",
            description = "Lab workloads to boot from their ROMs (default ${DEFAULT-VALUE}).")
    List<String> workloads;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "3",
            description = "Runs per workload and engine; the first hvlab runs warm the JIT (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--peers", split = ",", paramLabel = "PEER", defaultValue = "qemu,bochs",
            description = "Peers to compare with: qemu, bochs, or none (default ${DEFAULT-VALUE}).")
    List<String> peers;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON to FILE.")
    Path json;

    @Option(names = "--linux", description = "Instead of the ROMs: boot the fetched Debian kernel and busybox initramfs"
            + " once per engine and report the wall time to the script's marker line, with hvlab's instructions and"
            + " MIPS (peers: QEMU).")
    boolean linux;

    @Override
    public Integer call() throws InterruptedException {
        if (runs < 1) {
            throw new UserInputException("--runs must be at least 1");
        }
        List<LabGuest> guests = workloads.stream().map(RunCommand::labGuestNamed).toList();
        PrintWriter out = spec.commandLine().getOut();
        List<Engine> available = new ArrayList<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (Engine peer : selectedPeers()) {
            peer.unavailable().ifPresentOrElse(reason -> {
                out.println(peer.name() + " not installed, its rows are skipped: " + reason);
                skipped.put(peer.name(), reason);
            }, () -> available.add(peer));
        }
        out.flush();
        if (linux) {
            return benchLinux(out, available);
        }
        List<BenchResult> results = new Bench(new HvlabEngine(), available, runs, spec.commandLine().getErr())
                .run(guests);
        out.print(BenchTable.format(results));
        out.flush();
        if (json != null) {
            write(json, BenchJson.format(runs, skipped, results));
        }
        return results.stream().anyMatch(r -> r instanceof BenchResult.Failed) ? 1 : 0;
    }

    private int benchLinux(PrintWriter out, List<Engine> peers) throws InterruptedException {
        Optional<String> missing = LinuxCache.missing();
        if (missing.isPresent()) {
            out.println("The Linux boot bench is skipped: " + missing.get());
            out.flush();
            return 0;
        }
        List<Engine> engines = new ArrayList<>();
        engines.add(new HvlabEngine());
        for (Engine peer : peers) {
            if (peer instanceof BochsEngine) {
                out.println("Bochs is skipped: it boots only firmware here, and a bzImage needs a boot loader");
            } else {
                engines.add(peer);
            }
        }
        out.flush();
        byte[] initrd;
        try {
            initrd = LinuxBootBench.initrdWithScript(Files.readAllBytes(LinuxCache.initrd()));
        } catch (IOException e) {
            throw new UserInputException("cannot read " + LinuxCache.initrd() + ": " + e.getMessage());
        }
        List<LinuxBootBench.Row> rows = LinuxBootBench.run(engines, LinuxCache.kernel(), initrd,
                spec.commandLine().getErr());
        String kernel = LinuxCache.kernelPackage() + " (" + LinuxCache.kernel() + ")";
        out.print(LinuxBootBench.table(rows, kernel));
        out.flush();
        if (json != null) {
            write(json, LinuxBootBench.json(rows, kernel));
        }
        return rows.stream().anyMatch(r -> r.boot() == null) ? 1 : 0;
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UserInputException("cannot write " + file + ": " + e.getMessage());
        }
    }

    private List<Engine> selectedPeers() {
        if (peers.equals(List.of("none"))) {
            return List.of();
        }
        List<Engine> selected = new ArrayList<>();
        for (String peer : peers.stream().distinct().toList()) {
            selected.add(switch (peer) {
                case "qemu" -> new QemuEngine();
                case "bochs" -> new BochsEngine();
                default -> throw new UserInputException("--peers takes qemu, bochs or none, not '" + peer + "'");
            });
        }
        return selected;
    }
}

package hvlab.cli.bench;

import hvlab.hw.boot.InitramfsArchive;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * The Linux boot benchmark: one boot per engine of the same bzImage, initrd and command line, timed from launch to
 * the console line the initramfs script prints ({@link #MARKER}), as peer-measurements.md section 4 timed QEMU.
 */
public final class LinuxBootBench {
    public static final String MARKER = "MARKER-OK";
    /** peer-measurements.md section 4's command line. */
    public static final String COMMAND_LINE = "console=ttyS0 panic=-1";
    /** /test.sh for the fetched initramfs's /init, which powers off after it: what section 4's /init ran. */
    public static final String SCRIPT = "uname -a\nhead -20 /proc/cpuinfo\necho " + MARKER + "\n";

    /** One engine's boot, or why it failed ({@code boot} is then null). */
    public record Row(String engine, Engine.Boot boot, String failure) {
        /** Guest instructions to the marker per microsecond past start-up, where the engine counts them. */
        OptionalDouble mips() {
            if (boot == null || boot.instructions().isEmpty()) {
                return OptionalDouble.empty();
            }
            Duration net = boot.wallTime().minus(boot.startupTime().orElse(Duration.ZERO));
            return net.isNegative() || net.isZero() ? OptionalDouble.empty()
                    : OptionalDouble.of(boot.instructions().getAsLong() / (net.toNanos() / 1e3));
        }
    }

    private LinuxBootBench() {
    }

    /** The initrd with {@link #SCRIPT} added as /test.sh. */
    public static byte[] initrdWithScript(byte[] initrd) {
        return InitramfsArchive.withFile(initrd, "test.sh", InitramfsArchive.EXECUTABLE, SCRIPT);
    }

    /** Boots once on each engine, one after another; a failure becomes a row, never an exception. */
    public static List<Row> run(List<Engine> engines, Path kernel, byte[] initrd, PrintWriter progress)
            throws InterruptedException {
        List<Row> rows = new ArrayList<>();
        for (Engine engine : engines) {
            progress.printf("bench: Linux boot to '%s' on %s (one run)%n", MARKER, engine.name());
            progress.flush();
            try {
                rows.add(new Row(engine.name(), engine.bootLinux(kernel, initrd, COMMAND_LINE, MARKER), null));
            } catch (Engine.EngineFailure | IOException e) {
                rows.add(new Row(engine.name(), null, e.getMessage()));
            }
        }
        return rows;
    }

    /** The rows as a table, hvlab's boot time over each peer's, and footnotes. */
    public static String table(List<Row> rows, String kernel) {
        StringBuilder out = new StringBuilder();
        out.append("Linux boot to the '").append(MARKER).append("' line: ").append(kernel).append(", command line \"")
                .append(COMMAND_LINE).append("\", one run each\n");
        out.append(String.format(Locale.ROOT, "%-8s  %14s  %10s  %16s  %8s  %s%n", "engine", "to marker",
                "start-up", "instructions", "MIPS", "hvlab/this"));
        Row hvlab = rows.stream().filter(r -> r.engine().equals(HvlabEngine.NAME) && r.boot() != null).findFirst()
                .orElse(null);
        for (Row row : rows) {
            if (row.boot() == null) {
                out.append(String.format(Locale.ROOT, "%-8s  failed: %s%n", row.engine(), row.failure()));
                continue;
            }
            Engine.Boot boot = row.boot();
            OptionalDouble mips = row.mips();
            String ratio = hvlab == null || row == hvlab ? "-" : String.format(Locale.ROOT, "%.2fx",
                    (double) hvlab.boot().wallTime().toNanos() / boot.wallTime().toNanos());
            out.append(String.format(Locale.ROOT, "%-8s  %14s  %10s  %16s  %8s  %s%n", row.engine(),
                    seconds(boot.wallTime()), boot.startupTime().map(LinuxBootBench::seconds).orElse("-"),
                    boot.instructions().isPresent() ? String.format(Locale.ROOT, "%,d", boot.instructions().getAsLong())
                            : "-",
                    mips.isPresent() ? BenchTable.mips(mips.getAsDouble()) : "-", ratio));
        }
        out.append("\n\"to marker\" is the wall time from launch to the marker line on the console (hvlab: building"
                + " the machine\nand loading the kernel in this JVM, cold; a peer: starting its process). hvlab/this"
                + " = hvlab's time over\nthis engine's. Instructions and MIPS count hvlab's guest instructions to the"
                + " marker line, over the\ntime past start-up; QEMU TCG counts none, and its boot takes another path"
                + " (timer calibration), so\nno count is borrowed.\n");
        return out.toString();
    }

    static String seconds(Duration time) {
        return String.format(Locale.ROOT, "%.2f s", time.toNanos() / 1e9);
    }

    /** The rows as JSON, in BenchJson's style. */
    public static String json(List<Row> rows, String kernel) {
        List<String> items = new ArrayList<>();
        for (Row row : rows) {
            String head = "{\"engine\": " + BenchJson.string(row.engine());
            if (row.boot() == null) {
                items.add(head + ", \"failure\": " + BenchJson.string(row.failure()) + "}");
                continue;
            }
            Engine.Boot boot = row.boot();
            items.add(head + ", \"to_marker_ns\": " + boot.wallTime().toNanos()
                    + ", \"startup_ns\": " + boot.startupTime().map(d -> Long.toString(d.toNanos())).orElse("null")
                    + ", \"instructions\": " + (boot.instructions().isPresent()
                    ? Long.toString(boot.instructions().getAsLong()) : "null")
                    + ", \"mips\": " + (row.mips().isPresent() ? BenchJson.number(row.mips().getAsDouble()) : "null")
                    + "}");
        }
        return "{\n  \"linux_boot\": {\"kernel\": " + BenchJson.string(kernel) + ", \"command_line\": "
                + BenchJson.string(COMMAND_LINE) + ", \"marker\": " + BenchJson.string(MARKER) + "},\n  \"results\": [\n    "
                + String.join(",\n    ", items) + "\n  ]\n}\n";
    }
}

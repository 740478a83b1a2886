package hvlab.it;

import hvlab.guests.LabGuest;
import hvlab.guests.LabGuests;
import hvlab.hw.stats.CostModel;
import hvlab.it.tck.ConformanceSuite;
import hvlab.it.tck.GuestRun;
import hvlab.spi.GuestImage;
import hvlab.spi.HypervisorProvider;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The modelled cost of syscall, pgfault and forkwait under xen-pv against native (lab-pv:NAME against lab:NAME),
 * printed beside Barham et al.'s lmbench ratios (SOSP 2003, Tables 3 and 5, Xen against L-UP;
 * ../shared/reference/perf-anchors.md 2b). Per operation: the difference of two runs at n and 2n iterations over n,
 * so boot, console and set-up cancel. The cost model prices a transition through Xen from the page-fault row, so
 * pgfault lands on it by construction; syscall and forkwait are what the model then predicts.
 */
class XenPvModelledCostTest {
    private record Workload(String name, int iterations, String lmbenchRow, double lmbenchXen, double lmbenchNative) {
        double published() {
            return lmbenchXen / lmbenchNative;
        }
    }

    private static final List<Workload> WORKLOADS = List.of(
            new Workload("syscall", 2000, "null call", 0.46, 0.45),
            new Workload("pgfault", 2048, "page fault", 2.73, 1.42),
            new Workload("forkwait", 50, "fork proc", 198, 110));

    @Test
    void modelledCostUnderXenPvAgainstNativeBesideBarhamEtAlsLmbenchRatios() throws Exception {
        HypervisorProvider xen = ConformanceSuite.installedProvider("xen-pv").orElseThrow();
        System.out.printf(Locale.ROOT, "%-9s %14s %14s %7s   %s%n", "workload", "native cyc/op", "xen-pv cyc/op",
                "ratio", "Barham et al. 2003 lmbench, Xen / Linux UP");
        double[] ratios = new double[WORKLOADS.size()];
        for (int i = 0; i < WORKLOADS.size(); i++) {
            Workload w = WORKLOADS.get(i);
            LabGuest guest = LabGuests.find(w.name()).orElseThrow();
            double natives = perOperation(w.iterations(), n -> GuestRun.onNative(nativeImage(guest, n)));
            double pv = perOperation(w.iterations(), n -> GuestRun.under(xen, paravirtualImage(guest, n)));
            ratios[i] = pv / natives;
            System.out.printf(Locale.ROOT, "%-9s %,14.0f %,14.0f %7.2f   %s %s / %s us = %.2f%n", w.name(), natives, pv,
                    ratios[i], w.lmbenchRow(), w.lmbenchXen(), w.lmbenchNative(), w.published());
        }
        // syscall: the fast trap gate, no Xen on the path, as the paper's null call
        assertThat(ratios[0]).isBetween(0.9, 1.1);
        // pgfault: two transitions through Xen, each priced from this very row
        assertThat(ratios[1]).isBetween(WORKLOADS.get(1).published() * 0.9, WORKLOADS.get(1).published() * 1.1);
        // forkwait: pin, base switches and unpin are hypercalls native does not make
        assertThat(ratios[2]).isGreaterThan(1.2);
    }

    @FunctionalInterface
    private interface Run {
        GuestRun at(int iterations) throws Exception;
    }

    /** Modelled cycles per iteration: (cost at 2n - cost at n) / n. */
    private static double perOperation(int n, Run run) throws Exception {
        long once = CostModel.totalCycles(run.at(n).statistics());
        long twice = CostModel.totalCycles(run.at(2 * n).statistics());
        return (double) (twice - once) / n;
    }

    private static GuestImage nativeImage(LabGuest guest, int iterations) {
        LabGuest g = guest.withOptions("iterations=" + iterations);
        return new GuestImage.Multiboot("lab.elf", g.kernelImage(), g.commandLine());
    }

    private static GuestImage paravirtualImage(LabGuest guest, int iterations) {
        LabGuest g = guest.withOptions("iterations=" + iterations);
        return new GuestImage.Multiboot("lab-pv.elf", LabGuest.paravirtualImage(), g.paravirtualCommandLine());
    }
}

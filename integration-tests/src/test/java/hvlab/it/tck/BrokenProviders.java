package hvlab.it.tck;

import hvlab.hw.stats.Counters;
import hvlab.spi.Capability;
import hvlab.spi.HostContext;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/** Deliberately broken providers, each breaking one rule of the suite and nothing else. */
final class BrokenProviders {
    private BrokenProviders() {
    }

    /** Writes a byte of its own to the guest's console after the guest ends: breaks equivalence of output. */
    static final class ConsoleChanging extends DelegatingProvider {
        @Override
        public String id() {
            return "broken-console";
        }

        @Override
        void afterRun(HostContext context) {
            context.ports().write(0x3F8, 1, '!'); // COM1's transmitter
        }
    }

    /**
     * Counts an exit for host state the guest never saw (how many runs this JVM did before): breaks determinism,
     * since two runs of one guest count differently.
     */
    static final class NonDeterministic extends DelegatingProvider {
        private static final AtomicLong RUNS = new AtomicLong();

        @Override
        public String id() {
            return "broken-determinism";
        }

        @Override
        void afterRun(HostContext context) {
            context.counters().counter(Counters.EXITS, "host timer").add(RUNS.incrementAndGet());
        }
    }

    /** Counts two exits per retired instruction: more exits than the guest had events to cause them. */
    static final class OverCounting extends DelegatingProvider {
        @Override
        public String id() {
            return "broken-accounting";
        }

        @Override
        void afterRun(HostContext context) {
            context.counters().counter(Counters.EXITS, "io instruction").add(2 * context.cpu().retiredInstructions());
        }
    }

    /** A paravirtual-only provider: the unmodified lab kernel is not for it, so lab-guest rules must skip. */
    static final class ParavirtualOnly extends DelegatingProvider {
        @Override
        public String id() {
            return "paravirtual-only";
        }

        @Override
        public Set<Capability> capabilities() {
            return Set.of(Capability.PARAVIRT_HYPERCALLS);
        }
    }
}

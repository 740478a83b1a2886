package hvlab.hw.boot;

import java.util.List;

/** What a kernel image asks to be loaded where, and its physical entry point. */
record KernelLayout(List<LoadSegment> segments, long entryPoint) {

    /** The first byte above everything the kernel occupies, BSS included: modules go from here on. */
    long end() {
        return segments.stream().mapToLong(LoadSegment::end).max().orElse(0);
    }
}

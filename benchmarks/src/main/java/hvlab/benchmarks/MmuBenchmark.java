package hvlab.benchmarks;

import hvlab.hw.boot.BootImageException;
import hvlab.hw.machine.Machine;

/**
 * The MMU's fast path through guest code: {@link PagedLoopRom}'s loop, with paging on, does two loads and two
 * stores in every 10 instructions over 16 pages, so nearly every access is a TLB hit (ops/s x 0.4 = million data
 * accesses per second). The CPU's read and write paths are package-private; running guest code measures them as
 * the interpreter uses them.
 */
public class MmuBenchmark extends GuestLoopBenchmark {
    /** Protected mode, the page tables, CR0.PG and the copy of the loop take about 4,300 instructions. */
    private static final long SET_UP_INSTRUCTIONS = 10_000;

    @Override
    void enterLoop(Machine machine) throws BootImageException {
        machine.bootFirmware("paged-loop.rom", PagedLoopRom.image());
        run(machine, SET_UP_INSTRUCTIONS);
        int eip = machine.cpu().eip();
        if (eip < PagedLoopRom.LOOP_START || eip >= PagedLoopRom.LOOP_END) {
            throw new IllegalStateException(String.format("the ROM is not in its loop: EIP 0x%x", eip));
        }
    }
}

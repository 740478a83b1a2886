package hvlab.hw.cpu;

/**
 * Compiled blocks by (physical address, EIP, code size), direct-mapped so a lookup allocates nothing. A block is
 * compiled once its address has been reached {@link #COMPILE_THRESHOLD} times. A page that holds compiled code is
 * write-protected in the TLB; the first write to it bumps the page's generation, which retires its blocks
 * (self-modifying code and reused code pages keep working). Pages rewritten too often are left to the interpreter.
 */
final class BlockCache {
    static final int COMPILE_THRESHOLD = 16;
    private static final int BITS = 14;
    private static final int SIZE = 1 << BITS;
    private static final int MASK = SIZE - 1;
    /** After this many invalidations, a page's code is interpreted only (code and data share the page). */
    private static final int MAX_INVALIDATIONS = 32;
    /** How long an address whose first instruction cannot be compiled waits before it is tried again. */
    private static final int BACKOFF = -1 << 12;

    private final CompiledBlock[] blocks = new CompiledBlock[SIZE];
    private final int[] heat = new int[SIZE];
    private final int[] generation;
    private final boolean[] codePage;
    private final byte[] invalidations;
    private final BlockCompiler compiler;
    private long compiledBlocks;

    BlockCache(byte[] ram) {
        int pages = ram.length >>> 12;
        generation = new int[pages];
        codePage = new boolean[pages];
        invalidations = new byte[pages];
        compiler = new BlockCompiler(ram);
    }

    /** The valid block for this address, compiling it when hot; null when the interpreter should run instead. */
    CompiledBlock find(int physical, int eip, boolean code32, Mmu mmu) {
        int i = (physical * 0x9E3779B1 ^ eip) >>> (32 - BITS) & MASK;
        CompiledBlock block = blocks[i];
        int page = physical >>> 12;
        if (block != null && block.physical == physical && block.eip == eip && block.code32 == code32
                && block.generation == generation[page]) {
            return block;
        }
        if (++heat[i] < COMPILE_THRESHOLD || invalidations[page] >= MAX_INVALIDATIONS) {
            return null;
        }
        heat[i] = 0;
        block = compiler.compile(physical, eip, code32);
        if (block == null) {
            heat[i] = BACKOFF;
            return null;
        }
        if (!codePage[page]) {
            codePage[page] = true;
            mmu.protectCodePage(page);
        }
        block.generation = generation[page];
        blocks[i] = block;
        compiledBlocks++;
        return block;
    }

    boolean isCodePage(int page) {
        return page < codePage.length && codePage[page];
    }

    /** A write reached a page with compiled code: its blocks are stale from now on. */
    void pageWritten(int page) {
        codePage[page] = false;
        generation[page]++;
        if (invalidations[page] < MAX_INVALIDATIONS) {
            invalidations[page]++;
        }
    }

    long compiledBlocks() {
        return compiledBlocks;
    }
}

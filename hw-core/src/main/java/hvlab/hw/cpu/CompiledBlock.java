package hvlab.hw.cpu;

/**
 * A run of guest instructions translated to JVM bytecode by {@link BlockCompiler}. A block lies inside one physical
 * page, starts at a known EIP and code size, and is valid while its page's write generation is unchanged.
 */
abstract class CompiledBlock {
    /** Identity: the EIP and physical address it was compiled at, and whether CS was 32-bit then. */
    int eip;
    int physical;
    boolean code32;
    /** The page generation at compile time; a write to the page since then retires the block. */
    int generation;
    int instructions;

    /** Runs the block; leaves EIP at the next instruction to execute. */
    abstract void execute(Cpu c);
}

/**
 * Single-instruction test vectors for the CPU: the SingleStepTests format (one JSON test per line in
 * {@code *.jsonl.gz}, with {@code metadata.json} for undefined flags), as captured from a real 80286 in real mode.
 *
 * <p>{@link hvlab.hw.cpu.vectors.VectorSuite} runs a directory of files; each test starts from a reset
 * {@link hvlab.hw.cpu.Cpu} loaded through {@link hvlab.hw.cpu.Cpu#restoreState}, runs to the HLT that ends it, and
 * compares the 14 registers and every RAM byte the test names. {@link hvlab.hw.cpu.vectors.Exclusions} lists each
 * place where an 80286 rightly differs from the SDM's IA-32 and how the runner handles it (a mask, an exclusion, or
 * an equivalent form of the test), with the reason.
 */
package hvlab.hw.cpu.vectors;

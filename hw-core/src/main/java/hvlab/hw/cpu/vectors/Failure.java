package hvlab.hw.cpu.vectors;

/** One test whose final state differed: where it is, and what differed ("ax expected 0012 got 0013; ram[10FFEE] ..."). */
public record Failure(String file, int idx, String name, String difference) {
    @Override
    public String toString() {
        return file + " idx " + idx + " (" + name + "): " + difference;
    }
}

package hvlab.hw.device;

import hvlab.hw.irq.IrqLine;

/** An interrupt wire a test can hold: its level, and how many rising edges an edge-triggered input would latch. */
public final class RecordingLine implements IrqLine {
    private boolean level;
    private int risingEdges;

    public RecordingLine() {
    }

    @Override
    public void set(boolean high) {
        if (high && !level) {
            risingEdges++;
        }
        level = high;
    }

    public boolean level() {
        return level;
    }

    public int risingEdges() {
        return risingEdges;
    }
}

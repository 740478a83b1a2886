package hvlab.hw.device.pic;

import hvlab.hw.device.ByteIoRegion;

/**
 * The PC chipset's edge/level control registers (PIIX ELCR1/ELCR2, ports 0x4D0 and 0x4D1): one bit per IRQ, 1 =
 * level-triggered. IRQ0, 1, 2, 8 and 13 are wired edge-only on a PC, so their bits stay 0.
 */
public final class Elcr implements ByteIoRegion {
    public static final int WINDOW = 2;
    static final int MASTER_WRITABLE = 0xF8;
    static final int SLAVE_WRITABLE = 0xDE;

    private final Pic8259 master;
    private final Pic8259 slave;

    public Elcr(Pic8259 master, Pic8259 slave) {
        this.master = master;
        this.slave = slave;
    }

    @Override
    public int readByte(int offset) {
        return switch (offset) {
            case 0 -> master.elcr();
            case 1 -> slave.elcr();
            default -> 0xFF;
        };
    }

    @Override
    public void writeByte(int offset, int value) {
        switch (offset) {
            case 0 -> master.setElcr(value & MASTER_WRITABLE);
            case 1 -> slave.setElcr(value & SLAVE_WRITABLE);
            default -> { }
        }
    }
}

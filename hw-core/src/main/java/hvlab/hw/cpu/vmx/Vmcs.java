package hvlab.hw.cpu.vmx;

import hvlab.hw.memory.PhysicalMemory;

/**
 * The processor's copy of one VMCS (SDM Vol. 3C, 24.1-24.2, 24.11.1): the field values, the launch state, and the
 * VMXON epoch it was launched in. Real processors keep the current VMCS's data on the chip and write it to the VMCS
 * region only when they must (VMCLEAR, or making another VMCS current); the model does the same, so software that
 * reads or writes the region's data area directly sees what the SDM promises: an implementation-specific layout.
 *
 * <p>Region layout (24.2, Table 24-1; bytes 8 on are the model's choice): 0 revision identifier and shadow bit, 4
 * VMX-abort indicator, 8 launch state (0 clear, 1 launched), 12 the VMXON epoch of the launch, 16 + 8 * slot the value
 * of the field in that {@link VmcsField#slot slot}.
 */
public final class Vmcs {
    static final int LAUNCH_STATE = 8, EPOCH = 12, DATA = 16;

    private final long[] values = new long[VmcsField.count()];
    private long address = -1;
    private boolean launched;
    private int epoch;

    /** The physical address of the region this copy belongs to; -1 when it holds none. */
    public long address() {
        return address;
    }

    public boolean isLaunched() {
        return launched;
    }

    /** The VMXON epoch of the last VMLAUNCH: VMRESUME after VMXOFF and VMXON fails with error 6. */
    public int launchEpoch() {
        return epoch;
    }

    public void markLaunched(int vmxonEpoch) {
        launched = true;
        epoch = vmxonEpoch;
    }

    /** The value of a supported field, by slot: 64 bits wide for 64-bit fields, zero-extended for the others. */
    public long get(int slot) {
        return values[slot];
    }

    public void set(int slot, long value) {
        values[slot] = value;
    }

    /** The value of a supported field by encoding (full access): a shorthand for the CPU's own accesses. */
    public long read(int encoding) {
        return values[VmcsField.slot(encoding)];
    }

    public int read32(int encoding) {
        return (int) values[VmcsField.slot(encoding)];
    }

    /** Writes a field by encoding, truncated to its width (VM exits and the CPU's own updates). */
    public void write(int encoding, long value) {
        values[VmcsField.slot(encoding)] = truncate(encoding, value);
    }

    /** A value cut to the field's width: 16 bits, 64, 32, or natural width (32 on this processor). */
    public static long truncate(int encoding, long value) {
        return switch (VmcsField.width(encoding)) {
            case VmcsField.WIDTH_16 -> value & 0xFFFF;
            case VmcsField.WIDTH_64 -> value;
            default -> value & 0xFFFFFFFFL;
        };
    }

    /** Makes this copy the one of the region at {@code region}, reading the data the region holds (VMPTRLD). */
    public void load(PhysicalMemory memory, long region) {
        int base = (int) region;
        address = region;
        launched = memory.readU32(base + LAUNCH_STATE) == 1;
        epoch = memory.readU32(base + EPOCH);
        for (int slot = 0; slot < values.length; slot++) {
            int at = base + DATA + 8 * slot;
            long low = memory.readU32(at) & 0xFFFFFFFFL;
            values[slot] = truncate(VmcsField.encodingAt(slot), (long) memory.readU32(at + 4) << 32 | low);
        }
    }

    /** Writes the data back to the region (VMCLEAR, another VMPTRLD, VMXOFF) and lets the region go. */
    public void store(PhysicalMemory memory) {
        if (address < 0) {
            return;
        }
        int base = (int) address;
        memory.writeU32(base + LAUNCH_STATE, launched ? 1 : 0);
        memory.writeU32(base + EPOCH, epoch);
        for (int slot = 0; slot < values.length; slot++) {
            int at = base + DATA + 8 * slot;
            memory.writeU32(at, (int) values[slot]);
            memory.writeU32(at + 4, (int) (values[slot] >>> 32));
        }
        address = -1;
    }

    /** VMCLEAR of a region that is not cached: its launch state in memory becomes clear (30.3 "VMCLEAR"). */
    public static void clearInMemory(PhysicalMemory memory, long region) {
        memory.writeU32((int) region + LAUNCH_STATE, 0);
    }

    /** VMCLEAR of the cached region: launch state clear, then the data goes to memory. */
    public void clearAndStore(PhysicalMemory memory) {
        launched = false;
        store(memory);
    }
}

package hvlab.hw.device.ioapic;

import hvlab.hw.bus.IoRegion;
import hvlab.hw.device.GuestErrorLog;
import hvlab.hw.irq.IrqLine;

/**
 * The Intel 82093AA I/O APIC: 24 interrupt input pins, each with a 64-bit redirection entry. Window at
 * {@link #DEFAULT_BASE}: IOREGSEL (offset 0x00) selects a register, IOWIN (offset 0x10) reads or writes it with
 * 32-bit accesses.
 *
 * <p>An edge-triggered pin sends one message per rising edge while unmasked (an edge while masked is lost). A
 * level-triggered pin sends a message while asserted, unmasked and with Remote IRR clear, then sets Remote IRR
 * until the local APIC broadcasts the EOI for its vector ({@link #eoi}); if the pin is still asserted it sends again.
 * Messages are delivered at once, so Delivery Status reads idle. Pin inputs are logical requests (raise = asserted),
 * as the PC's interrupt routing presents them; the polarity bit is kept for the guest but does not invert them.
 */
public final class IoApic implements IoRegion {
    public static final long DEFAULT_BASE = 0xFEC0_0000L;
    public static final int WINDOW_SIZE = 0x1000;
    public static final int IOREGSEL = 0x00;
    public static final int IOWIN = 0x10;
    public static final int PINS = 24;
    public static final int VERSION = 0x0017_0011;

    public static final int REGISTER_ID = 0x00;
    public static final int REGISTER_VERSION = 0x01;
    public static final int REGISTER_ARBITRATION = 0x02;
    public static final int REGISTER_REDIRECTION_TABLE = 0x10;

    public static final long ENTRY_LOGICAL_DESTINATION = 1L << 11;
    public static final long ENTRY_DELIVERY_STATUS = 1L << 12;
    public static final long ENTRY_POLARITY_LOW = 1L << 13;
    public static final long ENTRY_REMOTE_IRR = 1L << 14;
    public static final long ENTRY_LEVEL_TRIGGERED = 1L << 15;
    public static final long ENTRY_MASKED = 1L << 16;
    private static final long ENTRY_LOW_WRITABLE = 0x0001_AFFFL;
    private static final int DESTINATION_SHIFT = 56;

    public record State(int selectedRegister, int id, long[] redirection, int pinLevels) {
    }

    private final InterruptDelivery delivery;
    private final GuestErrorLog errors = new GuestErrorLog(IoApic.class);
    private final long[] redirection = new long[PINS];
    private final IrqLine[] pins = new IrqLine[PINS];
    private int selectedRegister;
    private int id;
    private int pinLevels;

    public IoApic(InterruptDelivery delivery) {
        this.delivery = delivery;
        for (int n = 0; n < PINS; n++) {
            int pin = n;
            pins[n] = high -> setPin(pin, high);
            redirection[n] = ENTRY_MASKED;
        }
    }

    /** Input pin {@code n} (0-23). */
    public IrqLine pin(int n) {
        return pins[n];
    }

    public void setPin(int n, boolean high) {
        int bit = 1 << n;
        boolean wasHigh = (pinLevels & bit) != 0;
        pinLevels = high ? pinLevels | bit : pinLevels & ~bit;
        if (!high) {
            return;
        }
        if (isLevelTriggered(redirection[n])) {
            serviceLevel(n);
        } else if (!wasHigh && (redirection[n] & ENTRY_MASKED) == 0) {
            send(n);
        }
    }

    /** The EOI broadcast for {@code vector}: clears Remote IRR of its level-triggered entries. */
    public void eoi(int vector) {
        for (int n = 0; n < PINS; n++) {
            long entry = redirection[n];
            if (isLevelTriggered(entry) && (entry & ENTRY_REMOTE_IRR) != 0 && (entry & 0xFF) == vector) {
                redirection[n] = entry & ~ENTRY_REMOTE_IRR;
                serviceLevel(n);
            }
        }
    }

    @Override
    public int read(int offset, int size) {
        int value = switch (offset & ~3) {
            case IOREGSEL -> selectedRegister;
            case IOWIN -> readRegister(selectedRegister);
            default -> 0;
        };
        value >>>= (offset & 3) * 8;
        return size >= 4 ? value : value & ((1 << size * 8) - 1);
    }

    @Override
    public void write(int offset, int size, int value) {
        if (offset == IOREGSEL) {
            selectedRegister = value & 0xFF;
        } else if (offset == IOWIN && size == 4) {
            writeRegister(selectedRegister, value);
        } else {
            errors.report("I/O APIC access is not IOREGSEL or a 32-bit IOWIN store, offset", offset);
        }
    }

    private int readRegister(int register) {
        if (isRedirectionRegister(register)) {
            long entry = redirection[(register - REGISTER_REDIRECTION_TABLE) >>> 1];
            return (register & 1) == 0 ? (int) entry : (int) (entry >>> 32);
        }
        return switch (register) {
            case REGISTER_ID, REGISTER_ARBITRATION -> id << 24;
            case REGISTER_VERSION -> VERSION;
            default -> 0;
        };
    }

    private void writeRegister(int register, int value) {
        if (isRedirectionRegister(register)) {
            int n = (register - REGISTER_REDIRECTION_TABLE) >>> 1;
            long entry = redirection[n];
            if ((register & 1) == 0) {
                entry = entry & ~ENTRY_LOW_WRITABLE | value & ENTRY_LOW_WRITABLE;
                if (!isLevelTriggered(entry)) {
                    entry &= ~ENTRY_REMOTE_IRR;
                }
            } else {
                entry = entry & 0xFFFF_FFFFL | (long) (value >>> 24) << DESTINATION_SHIFT;
            }
            redirection[n] = entry;
            if (isLevelTriggered(entry) && (pinLevels & 1 << n) != 0) {
                serviceLevel(n);
            }
        } else if (register == REGISTER_ID) {
            id = value >>> 24 & 0xF;
        } else if (register != REGISTER_VERSION && register != REGISTER_ARBITRATION) {
            errors.report("write to an I/O APIC register that does not exist", register);
        }
    }

    private static boolean isRedirectionRegister(int register) {
        return register >= REGISTER_REDIRECTION_TABLE && register < REGISTER_REDIRECTION_TABLE + 2 * PINS;
    }

    private static boolean isLevelTriggered(long entry) {
        return (entry & ENTRY_LEVEL_TRIGGERED) != 0;
    }

    private void serviceLevel(int n) {
        long entry = redirection[n];
        if ((pinLevels & 1 << n) != 0 && (entry & (ENTRY_MASKED | ENTRY_REMOTE_IRR)) == 0) {
            redirection[n] = entry | ENTRY_REMOTE_IRR;
            send(n);
        }
    }

    private void send(int n) {
        long entry = redirection[n];
        delivery.deliver((int) (entry >>> DESTINATION_SHIFT), (entry & ENTRY_LOGICAL_DESTINATION) != 0,
                (int) (entry >>> 8) & 7, (int) entry & 0xFF, isLevelTriggered(entry));
    }

    public State state() {
        return new State(selectedRegister, id, redirection.clone(), pinLevels);
    }

    public void restore(State s) {
        selectedRegister = s.selectedRegister();
        id = s.id();
        System.arraycopy(s.redirection(), 0, redirection, 0, PINS);
        pinLevels = s.pinLevels();
    }
}

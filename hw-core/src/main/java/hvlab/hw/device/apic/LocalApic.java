package hvlab.hw.device.apic;

import hvlab.hw.bus.IoRegion;
import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.GuestErrorLog;
import hvlab.hw.irq.InterruptController;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * One xAPIC local APIC (SDM vol. 3A, chapter "Advanced Programmable Interrupt Controller (APIC)", 10 in older
 * editions): version 0x14 with six LVT entries (timer, thermal, performance, LINT0, LINT1, error). Window of 4 KiB
 * (at {@link #DEFAULT_BASE}); registers sit at 16-byte aligned offsets and take 32-bit stores, narrower reads return
 * the addressed bytes. While the APIC is hardware-disabled (IA32_APIC_BASE bit 11 clear) the window reads 0 and
 * ignores writes: the machine should then stop decoding it.
 *
 * <p>As the CPU's {@link InterruptController} it offers its highest IRR vector whose priority class exceeds the
 * PPR's, and ahead of that the 8259A's INTR when LINT0 passes it through (ExtINT, unmasked: virtual wire mode) or
 * when the APIC is hardware-disabled (LINT0 is then the INTR pin).
 *
 * <p>The timer counts a bus clock of {@link #BUS_HZ} (1 GHz, as KVM presents it: one tick per virtual ns) through
 * the divide configuration; its counts and expiries are computed from virtual time. TSC-deadline mode does not
 * exist in this version. Messages the APIC cannot deliver to itself (other destinations, INIT, SIPI, SMI) go to
 * the {@link IpiSink}, the hook for SMP.
 */
public final class LocalApic implements IoRegion, InterruptController, Clocked {
    public static final long DEFAULT_BASE = 0xFEE0_0000L;
    public static final int WINDOW_SIZE = 0x1000;
    public static final long BUS_HZ = 1_000_000_000L;
    public static final int VERSION = 0x0005_0014;

    // SDM vol. 3A, "Local APIC Register Address Map"
    public static final int ID = 0x020;
    public static final int VERSION_REGISTER = 0x030;
    public static final int TPR = 0x080;
    public static final int APR = 0x090;
    public static final int PPR = 0x0A0;
    public static final int EOI = 0x0B0;
    public static final int RRD = 0x0C0;
    public static final int LDR = 0x0D0;
    public static final int DFR = 0x0E0;
    public static final int SVR = 0x0F0;
    public static final int ISR = 0x100;
    public static final int TMR = 0x180;
    public static final int IRR = 0x200;
    public static final int ESR = 0x280;
    public static final int ICR_LOW = 0x300;
    public static final int ICR_HIGH = 0x310;
    public static final int LVT_TIMER = 0x320;
    public static final int LVT_THERMAL = 0x330;
    public static final int LVT_PERFORMANCE = 0x340;
    public static final int LVT_LINT0 = 0x350;
    public static final int LVT_LINT1 = 0x360;
    public static final int LVT_ERROR = 0x370;
    public static final int TIMER_INITIAL_COUNT = 0x380;
    public static final int TIMER_CURRENT_COUNT = 0x390;
    public static final int TIMER_DIVIDE = 0x3E0;

    public static final long MSR_BSP = 1L << 8;
    public static final long MSR_GLOBAL_ENABLE = 1L << 11;
    public static final long MSR_BASE_MASK = 0xF_FFFF_F000L;

    public static final int LVT_MASKED = 1 << 16;
    public static final int LVT_TIMER_PERIODIC = 1 << 17;
    public static final int SVR_SOFTWARE_ENABLE = 1 << 8;
    public static final int ESR_SEND_ILLEGAL_VECTOR = 0x20;
    public static final int ESR_RECEIVE_ILLEGAL_VECTOR = 0x40;
    public static final int ESR_ILLEGAL_REGISTER_ADDRESS = 0x80;

    private static final int TIMER = 0;
    private static final int LINT0 = 3;
    private static final int LINT1 = 4;
    private static final int ERROR = 5;
    private static final int LVT_ENTRIES = 6;
    /** Writable bits of each LVT entry: timer, thermal, performance, LINT0, LINT1, error. */
    private static final int[] LVT_WRITABLE = {0x0002_00FF | LVT_MASKED, 0x0001_07FF, 0x0001_07FF, 0x0001_A7FF,
            0x0001_A7FF, 0x0001_00FF};
    private static final int SVR_WRITABLE = 0x3FF;
    private static final int ICR_LOW_WRITABLE = 0x000C_CFFF;
    private static final int ICR_LOGICAL_DESTINATION = 1 << 11;
    private static final int SHORTHAND_NONE = 0;
    private static final int SHORTHAND_SELF = 1;
    private static final int SHORTHAND_ALL_INCLUDING_SELF = 2;
    private static final int BROADCAST = 0xFF;
    private static final int DFR_FLAT_MODEL = 0xF;
    private static final int FIRST_VALID_VECTOR = 16;

    /** The hook for interprocessor interrupts this APIC cannot deliver to itself. */
    @FunctionalInterface
    public interface IpiSink {
        IpiSink NONE = (icrLow, icrHigh) -> { };

        void send(int icrLow, int icrHigh);
    }

    public record State(int id, int tpr, int ldr, int dfr, int svr, int esr, int pendingErrors, int icrLow,
                        int icrHigh, int[] lvt, int timerInitialCount, int timerDivide, long timerStartNanos,
                        long timerExpiries, int[] irr, int[] isr, int[] tmr, long apicBaseMsr) {
    }

    private final int initialId;
    private final VirtualClock clock;
    private final InterruptController extIntSource;
    private final IntConsumer eoiBroadcast;
    private final Runnable nmi;
    private final IpiSink ipiSink;
    private final GuestErrorLog errors = new GuestErrorLog(LocalApic.class);
    private final int[] lvt = new int[LVT_ENTRIES];
    private final VectorSet irr = new VectorSet();
    private final VectorSet isr = new VectorSet();
    private final VectorSet tmr = new VectorSet();
    private int id;
    private int tpr;
    private int ldr;
    private int dfr;
    private int svr;
    private int esr;
    private int pendingErrors;
    private int icrLow;
    private int icrHigh;
    private int timerInitialCount;
    private int timerDivide;
    private long timerStartNanos;
    private long timerExpiries;
    private long apicBase;
    private long nextEventNanos = NO_EVENT;

    /**
     * @param apicId       the initial APIC ID (0 for the bootstrap processor, which also gets IA32_APIC_BASE.BSP)
     * @param extIntSource the 8259A pair whose INTR reaches LINT0
     * @param eoiBroadcast told the vector of each EOI for a level-triggered interrupt (the I/O APIC's {@code eoi})
     * @param nmi          raises NMI on this CPU
     * @param ipiSink      takes IPIs for other CPUs and INIT/SIPI/SMI
     */
    public LocalApic(int apicId, VirtualClock clock, InterruptController extIntSource, IntConsumer eoiBroadcast,
                     Runnable nmi, IpiSink ipiSink) {
        this.initialId = apicId & 0xFF;
        this.clock = clock;
        this.extIntSource = extIntSource;
        this.eoiBroadcast = eoiBroadcast;
        this.nmi = nmi;
        this.ipiSink = ipiSink;
        this.apicBase = DEFAULT_BASE | MSR_GLOBAL_ENABLE | (apicId == 0 ? MSR_BSP : 0);
        resetRegisters();
    }

    /** The bootstrap processor's APIC (ID 0) with no NMI or IPI wiring yet. */
    public LocalApic(VirtualClock clock, InterruptController extIntSource, IntConsumer eoiBroadcast) {
        this(0, clock, extIntSource, eoiBroadcast, () -> { }, IpiSink.NONE);
    }

    // SDM vol. 3A, "Local APIC State After Power-Up or Reset"
    private void resetRegisters() {
        id = initialId << 24;
        tpr = 0;
        ldr = 0;
        dfr = 0xFFFF_FFFF;
        svr = 0xFF;
        esr = 0;
        pendingErrors = 0;
        icrLow = 0;
        icrHigh = 0;
        Arrays.fill(lvt, LVT_MASKED);
        timerInitialCount = 0;
        timerDivide = 0;
        timerStartNanos = clock.nanos();
        timerExpiries = 0;
        irr.clear();
        isr.clear();
        tmr.clear();
        reschedule();
    }

    // ---- IA32_APIC_BASE (MSR 0x1B)

    public long apicBaseMsr() {
        return apicBase;
    }

    /**
     * WRMSR to IA32_APIC_BASE. Reserved bits are dropped (the CPU model raises #GP for them before calling).
     * Clearing the global enable returns the APIC to its power-up state.
     */
    public void setApicBaseMsr(long value) {
        boolean wasEnabled = hardwareEnabled();
        apicBase = value & (MSR_BASE_MASK | MSR_GLOBAL_ENABLE | MSR_BSP);
        if (wasEnabled && !hardwareEnabled()) {
            resetRegisters();
        }
    }

    public boolean hardwareEnabled() {
        return (apicBase & MSR_GLOBAL_ENABLE) != 0;
    }

    public boolean softwareEnabled() {
        return (svr & SVR_SOFTWARE_ENABLE) != 0;
    }

    private boolean enabled() {
        return hardwareEnabled() && softwareEnabled();
    }

    public int apicId() {
        return id >>> 24;
    }

    /**
     * What a BIOS leaves for an MP-spec OS (MultiProcessor Specification 1.4, "Virtual Wire Mode"): APIC software
     * enabled with spurious vector 0xFF, LINT0 as ExtINT, LINT1 as NMI. A machine booting a kernel directly calls it.
     */
    public void enterVirtualWireMode() {
        svr = SVR_SOFTWARE_ENABLE | 0xFF;
        lvt[LINT0] = ApicDeliveryMode.EXTINT << 8;
        lvt[LINT1] = ApicDeliveryMode.NMI << 8;
    }

    // ---- the task priority, kept on a fast path (CR8-style writes in loops)

    public int taskPriority() {
        return tpr;
    }

    public void setTaskPriority(int value) {
        tpr = value & 0xFF;
    }

    // SDM vol. 3A, "Processor Priority Register (PPR)"
    public int processorPriority() {
        int inService = Math.max(isr.highest(), 0);
        return (tpr & 0xF0) >= (inService & 0xF0) ? tpr : inService & 0xF0;
    }

    // SDM vol. 3A, "Arbitration Priority Register (APR)" (P6 family; literal to the manual's formula)
    private int arbitrationPriority() {
        int tprClass = tpr >>> 4;
        int requestClass = Math.max(irr.highest(), 0) >>> 4;
        int serviceClass = Math.max(isr.highest(), 0) >>> 4;
        if (tprClass >= requestClass && tprClass > serviceClass) {
            return tpr;
        }
        return Math.max(tprClass & serviceClass, requestClass) << 4;
    }

    // ---- interrupt acceptance and the INTA cycle

    /** A fixed or lowest-priority interrupt for this APIC (from the I/O APIC, an IPI, or a local source). */
    public void acceptInterrupt(int vector, boolean levelTriggered) {
        if (!enabled()) {
            return;
        }
        vector &= 0xFF;
        if (vector < FIRST_VALID_VECTOR) {
            signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
            return;
        }
        irr.add(vector);
        if (levelTriggered) {
            tmr.add(vector);
        } else {
            tmr.remove(vector);
        }
    }

    /**
     * An interrupt message on the APIC bus, shaped like the I/O APIC's delivery so {@code lapic::receiveMessage}
     * wires one to the other. Only messages whose destination matches this APIC are taken.
     */
    public void receiveMessage(int destination, boolean logicalDestination, int deliveryMode, int vector,
                               boolean levelTriggered) {
        if (!hardwareEnabled() || !isDestination(destination, logicalDestination)) {
            return;
        }
        switch (deliveryMode) {
            case ApicDeliveryMode.FIXED, ApicDeliveryMode.LOWEST_PRIORITY -> acceptInterrupt(vector, levelTriggered);
            case ApicDeliveryMode.NMI -> nmi.run();
            default -> errors.report("interrupt message delivery mode not modelled", deliveryMode);
        }
    }

    /** Physical: the APIC ID or 0xFF (broadcast). Logical: LDR against DFR's flat or cluster model. */
    public boolean isDestination(int destination, boolean logical) {
        destination &= 0xFF;
        if (!logical) {
            return destination == BROADCAST || destination == apicId();
        }
        int logicalId = ldr >>> 24;
        if (dfr >>> 28 == DFR_FLAT_MODEL) {
            return (destination & logicalId) != 0;
        }
        return destination == BROADCAST
                || destination >>> 4 == logicalId >>> 4 && (destination & logicalId & 0xF) != 0;
    }

    /** True when LINT0 carries the 8259A's INTR to the CPU: ExtINT and unmasked, or the APIC hardware-disabled. */
    public boolean extIntPassesThrough() {
        if (!hardwareEnabled()) {
            return true;
        }
        int lint0 = lvt[LINT0];
        return (lint0 & LVT_MASKED) == 0 && (lint0 >>> 8 & 7) == ApicDeliveryMode.EXTINT;
    }

    @Override
    public boolean hasPendingInterrupt() {
        return extIntPassesThrough() && extIntSource.hasPendingInterrupt() || fixedInterruptPending();
    }

    /** The highest vector in the IRR, -1 when none is requested (a VMM's TPR threshold is its priority class). */
    public int highestRequest() {
        return irr.highest();
    }

    private boolean fixedInterruptPending() {
        int vector = irr.highest();
        return vector >= 0 && enabled() && (vector & 0xF0) > (processorPriority() & 0xF0);
    }

    /**
     * INTA: the 8259A answers through ExtINT (always when the APIC is hardware-disabled); else the highest IRR vector
     * moves to ISR; else, if TPR or a new ISR entry now blocks it, the spurious vector from SVR.
     */
    @Override
    public int acknowledge() {
        if (!hardwareEnabled() || extIntPassesThrough() && extIntSource.hasPendingInterrupt()) {
            return extIntSource.acknowledge();
        }
        if (!fixedInterruptPending()) {
            return svr & 0xFF;
        }
        int vector = irr.highest();
        irr.remove(vector);
        isr.add(vector);
        return vector;
    }

    private void endOfInterrupt() {
        int vector = isr.highest();
        if (vector < 0) {
            return;
        }
        isr.remove(vector);
        if (tmr.contains(vector)) {
            eoiBroadcast.accept(vector);
        }
    }

    // ---- errors (SDM vol. 3A, "Error Handling")

    private void signalError(int bits) {
        pendingErrors |= bits;
        int entry = lvt[ERROR];
        int vector = entry & 0xFF;
        if ((entry & LVT_MASKED) == 0 && vector >= FIRST_VALID_VECTOR && enabled()) {
            irr.add(vector);
            tmr.remove(vector);
        }
    }

    // ---- registers

    @Override
    public int read(int offset, int size) {
        if (!hardwareEnabled()) {
            return 0;
        }
        int value = (offset & 0xF) < 4 ? readRegister(offset & 0xFF0) : 0;
        value >>>= (offset & 3) * 8;
        return size >= 4 ? value : value & ((1 << size * 8) - 1);
    }

    @Override
    public void write(int offset, int size, int value) {
        if (!hardwareEnabled()) {
            return;
        }
        if (size != 4 || (offset & 0xF) != 0) {
            errors.report("local APIC store is not 32-bit at a register, offset", offset);
            return;
        }
        writeRegister(offset & 0xFF0, value);
    }

    private int readRegister(int register) {
        if (register >= ISR && register < ESR) {
            VectorSet set = register < TMR ? isr : register < IRR ? tmr : irr;
            return set.word((register >>> 4) & 7);
        }
        return switch (register) {
            case ID -> id;
            case VERSION_REGISTER -> VERSION;
            case TPR -> tpr;
            case APR -> arbitrationPriority();
            case PPR -> processorPriority();
            case EOI, RRD -> 0;
            case LDR -> ldr;
            case DFR -> dfr;
            case SVR -> svr;
            case ESR -> esr;
            case ICR_LOW -> icrLow;
            case ICR_HIGH -> icrHigh;
            case LVT_TIMER, LVT_THERMAL, LVT_PERFORMANCE, LVT_LINT0, LVT_LINT1, LVT_ERROR ->
                    lvt[(register - LVT_TIMER) >>> 4];
            case TIMER_INITIAL_COUNT -> timerInitialCount;
            case TIMER_CURRENT_COUNT -> currentCount(clock.nanos());
            case TIMER_DIVIDE -> timerDivide;
            default -> {
                signalError(ESR_ILLEGAL_REGISTER_ADDRESS);
                yield 0;
            }
        };
    }

    private void writeRegister(int register, int value) {
        if (register >= ISR && register < ESR) {
            return; // ISR, TMR and IRR are read-only
        }
        switch (register) {
            case ID -> id = value & 0xFF00_0000;
            case TPR -> setTaskPriority(value);
            case EOI -> endOfInterrupt();
            case LDR -> ldr = value & 0xFF00_0000;
            case DFR -> dfr = value | 0x0FFF_FFFF;
            case SVR -> writeSpuriousInterruptVector(value);
            case ESR -> {
                // Writing ESR loads it with the errors seen since the last write (SDM, "Error Status Register").
                esr = pendingErrors;
                pendingErrors = 0;
            }
            case ICR_LOW -> sendInterprocessorInterrupt(value);
            case ICR_HIGH -> icrHigh = value & 0xFF00_0000;
            case LVT_TIMER, LVT_THERMAL, LVT_PERFORMANCE, LVT_LINT0, LVT_LINT1, LVT_ERROR ->
                    writeLocalVectorTable((register - LVT_TIMER) >>> 4, value);
            case TIMER_INITIAL_COUNT -> startTimer(value);
            case TIMER_DIVIDE -> writeDivideConfiguration(value);
            case VERSION_REGISTER, APR, PPR, RRD, TIMER_CURRENT_COUNT -> { } // read-only
            default -> signalError(ESR_ILLEGAL_REGISTER_ADDRESS);
        }
    }

    // SDM, "Spurious-Interrupt Vector Register": clearing bit 8 software-disables the APIC and masks every LVT entry.
    private void writeSpuriousInterruptVector(int value) {
        advanceTimer(clock.nanos());
        svr = value & SVR_WRITABLE;
        if (!softwareEnabled()) {
            for (int i = 0; i < LVT_ENTRIES; i++) {
                lvt[i] |= LVT_MASKED;
            }
        }
        reschedule();
    }

    // While software-disabled, LVT mask bits stay set (SDM, "Local APIC State After It Has Been Software Disabled").
    private void writeLocalVectorTable(int entry, int value) {
        long now = clock.nanos();
        if (entry == TIMER) {
            advanceTimer(now);
        }
        lvt[entry] = value & LVT_WRITABLE[entry] | (softwareEnabled() ? 0 : LVT_MASKED);
        if (entry == TIMER) {
            timerExpiries = expiriesBy(now); // a mode change does not replay expiries under the new mode
            reschedule();
        }
    }

    // SDM, "Interrupt Command Register (ICR)": delivered at once, so the delivery status bit reads idle.
    private void sendInterprocessorInterrupt(int value) {
        icrLow = value & ICR_LOW_WRITABLE;
        int vector = value & 0xFF;
        int mode = value >>> 8 & 7;
        boolean logical = (value & ICR_LOGICAL_DESTINATION) != 0;
        int shorthand = value >>> 18 & 3;
        int destination = icrHigh >>> 24;
        boolean toSelf = switch (shorthand) {
            case SHORTHAND_NONE -> isDestination(destination, logical);
            case SHORTHAND_SELF, SHORTHAND_ALL_INCLUDING_SELF -> true;
            default -> false;
        };
        boolean onlySelf = shorthand == SHORTHAND_SELF
                || shorthand == SHORTHAND_NONE && !logical && destination == apicId() && destination != BROADCAST;
        boolean deliverableHere = mode == ApicDeliveryMode.FIXED || mode == ApicDeliveryMode.LOWEST_PRIORITY
                || mode == ApicDeliveryMode.NMI;
        if (toSelf && deliverableHere) {
            if (mode == ApicDeliveryMode.NMI) {
                nmi.run();
            } else if (vector < FIRST_VALID_VECTOR) {
                signalError(ESR_SEND_ILLEGAL_VECTOR);
            } else {
                acceptInterrupt(vector, false);
            }
        }
        if (!onlySelf || !deliverableHere) {
            ipiSink.send(icrLow, icrHigh);
        }
    }

    // ---- timer (SDM vol. 3A, "APIC Timer")

    /** Divide configuration bits 3, 1, 0: 000 = /2 ... 110 = /128, 111 = /1; as a shift of the bus clock. */
    private int divideShift() {
        int code = timerDivide & 3 | timerDivide >>> 1 & 4;
        return code + 1 & 7;
    }

    private boolean periodic() {
        return (lvt[TIMER] & LVT_TIMER_PERIODIC) != 0;
    }

    private long elapsedTicks(long now) {
        return Math.max(0, now - timerStartNanos) >>> divideShift();
    }

    private long expiriesBy(long now) {
        if (timerInitialCount == 0) {
            return 0;
        }
        long expiries = elapsedTicks(now) / Integer.toUnsignedLong(timerInitialCount);
        return periodic() ? expiries : Math.min(expiries, 1);
    }

    private int currentCount(long now) {
        if (timerInitialCount == 0) {
            return 0;
        }
        long initial = Integer.toUnsignedLong(timerInitialCount);
        long ticks = elapsedTicks(now);
        if (periodic()) {
            return (int) (initial - ticks % initial);
        }
        return ticks >= initial ? 0 : (int) (initial - ticks);
    }

    private void startTimer(int initialCount) {
        long now = clock.nanos();
        advanceTimer(now);
        timerInitialCount = initialCount;
        timerStartNanos = now;
        timerExpiries = 0;
        reschedule();
    }

    /** A new divisor applies from now on; the count reached so far carries over. */
    private void writeDivideConfiguration(int value) {
        long now = clock.nanos();
        advanceTimer(now);
        long ticks = elapsedTicks(now);
        if (!periodic() && timerInitialCount != 0) {
            ticks = Math.min(ticks, Integer.toUnsignedLong(timerInitialCount));
        }
        timerDivide = value & 0xB;
        timerStartNanos = now - (ticks << divideShift());
        reschedule();
    }

    /** Delivers one timer interrupt if any expiry happened since the last one (periods coalesce, as in IRR). */
    private void advanceTimer(long now) {
        long expiries = expiriesBy(now);
        if (expiries > timerExpiries) {
            timerExpiries = expiries;
            if ((lvt[TIMER] & LVT_MASKED) == 0) {
                acceptInterrupt(lvt[TIMER] & 0xFF, false);
            }
        }
    }

    @Override
    public long nextEventNanos() {
        return nextEventNanos;
    }

    @Override
    public void advanceTo(long nowNanos) {
        advanceTimer(nowNanos);
        reschedule();
    }

    private void reschedule() {
        nextEventNanos = NO_EVENT;
        if (timerInitialCount == 0 || (lvt[TIMER] & LVT_MASKED) != 0 || !periodic() && timerExpiries > 0) {
            return;
        }
        long ticks = (timerExpiries + 1) * Integer.toUnsignedLong(timerInitialCount);
        int shift = divideShift();
        if (ticks <= (Long.MAX_VALUE - timerStartNanos) >>> shift) {
            nextEventNanos = timerStartNanos + (ticks << shift);
        }
    }

    // ---- state

    public State state() {
        return new State(id, tpr, ldr, dfr, svr, esr, pendingErrors, icrLow, icrHigh, lvt.clone(), timerInitialCount,
                timerDivide, timerStartNanos, timerExpiries, irr.toArray(), isr.toArray(), tmr.toArray(), apicBase);
    }

    public void restore(State s) {
        id = s.id();
        tpr = s.tpr();
        ldr = s.ldr();
        dfr = s.dfr();
        svr = s.svr();
        esr = s.esr();
        pendingErrors = s.pendingErrors();
        icrLow = s.icrLow();
        icrHigh = s.icrHigh();
        System.arraycopy(s.lvt(), 0, lvt, 0, LVT_ENTRIES);
        timerInitialCount = s.timerInitialCount();
        timerDivide = s.timerDivide();
        timerStartNanos = s.timerStartNanos();
        timerExpiries = s.timerExpiries();
        irr.load(s.irr());
        isr.load(s.isr());
        tmr.load(s.tmr());
        apicBase = s.apicBaseMsr();
        reschedule();
    }
}

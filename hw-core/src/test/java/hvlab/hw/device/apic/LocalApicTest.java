package hvlab.hw.device.apic;

import static org.assertj.core.api.Assertions.assertThat;

import hvlab.hw.clock.Clocked;
import hvlab.hw.clock.VirtualClock;
import hvlab.hw.device.StubInterruptController;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Intel SDM vol. 3A, chapter "Advanced Programmable Interrupt Controller (APIC)" (chapter 10 in older editions). */
class LocalApicTest {
    private VirtualClock clock;
    private StubInterruptController pic;
    private List<Integer> eoiBroadcasts;
    private List<int[]> ipis;
    private int nmis;
    private LocalApic apic;

    @BeforeEach
    void powerUp() {
        clock = new VirtualClock();
        pic = new StubInterruptController();
        eoiBroadcasts = new ArrayList<>();
        ipis = new ArrayList<>();
        nmis = 0;
        apic = new LocalApic(0, clock, pic, eoiBroadcasts::add, () -> nmis++,
                (low, high) -> ipis.add(new int[] {low, high}));
    }

    private int read(int register) {
        return apic.read(register, 4);
    }

    private void write(int register, int value) {
        apic.write(register, 4, value);
    }

    private void softwareEnable() {
        write(LocalApic.SVR, 0x1EF);
    }

    private void runUntil(long nanos) {
        while (apic.nextEventNanos() <= nanos) {
            long event = apic.nextEventNanos();
            clock.advanceTo(event);
            apic.advanceTo(event);
        }
        clock.advanceTo(nanos);
    }

    private boolean irrHas(int vector) {
        return (read(LocalApic.IRR + (vector >>> 5 << 4)) & 1 << (vector & 31)) != 0;
    }

    private boolean isrHas(int vector) {
        return (read(LocalApic.ISR + (vector >>> 5 << 4)) & 1 << (vector & 31)) != 0;
    }

    @Test
    void powerUpStateMatchesTheManual() {
        // "Local APIC State After Power-Up or Reset"; version 0x14, max LVT entry 5; IA32_APIC_BASE = FEE00900H on a BSP
        assertThat(read(LocalApic.VERSION_REGISTER)).isEqualTo(0x0005_0014);
        assertThat(read(LocalApic.SVR)).isEqualTo(0xFF);
        assertThat(read(LocalApic.DFR)).isEqualTo(0xFFFF_FFFF);
        assertThat(read(LocalApic.LVT_TIMER)).isEqualTo(0x0001_0000);
        assertThat(read(LocalApic.LVT_ERROR)).isEqualTo(0x0001_0000);
        assertThat(read(LocalApic.ID)).isZero();
        assertThat(apic.apicBaseMsr()).isEqualTo(0xFEE0_0900L);
    }

    @Test
    void pprIsTprUnlessTheInServiceClassIsHigher() {
        // "Processor Priority Register (PPR)"
        softwareEnable();
        write(LocalApic.TPR, 0x35);
        assertThat(read(LocalApic.PPR)).isEqualTo(0x35);
        apic.acceptInterrupt(0x51, false);
        assertThat(apic.acknowledge()).isEqualTo(0x51);
        assertThat(read(LocalApic.PPR)).isEqualTo(0x50);
        apic.setTaskPriority(0x62);
        assertThat(read(LocalApic.TPR)).isEqualTo(0x62);
        assertThat(read(LocalApic.PPR)).isEqualTo(0x62);
    }

    @Test
    void anInterruptIsPendingOnlyWhenItsClassIsAbovePprsClass() {
        // "Interrupt, Task, and Processor Priority": dispatch when IRRV[7:4] > PPR[7:4]
        softwareEnable();
        apic.setTaskPriority(0x50);
        apic.acceptInterrupt(0x5F, false);
        assertThat(apic.hasPendingInterrupt()).isFalse();
        apic.acceptInterrupt(0x61, false);
        assertThat(apic.hasPendingInterrupt()).isTrue();
        assertThat(apic.acknowledge()).isEqualTo(0x61);
        assertThat(apic.hasPendingInterrupt()).isFalse();
    }

    @Test
    void acknowledgeMovesTheHighestVectorFromIrrToIsr() {
        // "Interrupt Acceptance for Fixed Interrupts": the highest-priority IRR bit goes to ISR on INTA
        softwareEnable();
        apic.acceptInterrupt(0x41, false);
        apic.acceptInterrupt(0x93, false);
        assertThat(irrHas(0x41)).isTrue();
        assertThat(irrHas(0x93)).isTrue();
        assertThat(apic.acknowledge()).isEqualTo(0x93);
        assertThat(irrHas(0x93)).isFalse();
        assertThat(isrHas(0x93)).isTrue();
        assertThat(apic.hasPendingInterrupt()).isFalse(); // 0x41 is below the class in service
    }

    @Test
    void eoiClearsTheHighestIsrBitAndBroadcastsOnlyForLevelTriggered() {
        // "End of Interrupt (EOI)": level-triggered interrupts (TMR set) broadcast the EOI to the I/O APICs
        softwareEnable();
        apic.acceptInterrupt(0x30, true);
        apic.acknowledge();
        apic.acceptInterrupt(0x80, false);
        apic.acknowledge();
        assertThat(read(LocalApic.TMR + 0x10)).isEqualTo(1 << 16);
        write(LocalApic.EOI, 0);
        assertThat(isrHas(0x80)).isFalse();
        assertThat(isrHas(0x30)).isTrue();
        assertThat(eoiBroadcasts).isEmpty();
        write(LocalApic.EOI, 0);
        assertThat(isrHas(0x30)).isFalse();
        assertThat(eoiBroadcasts).containsExactly(0x30);
    }

    @Test
    void aRequestBlockedAtInterruptAcknowledgeGetsTheSpuriousVector() {
        // "Spurious Interrupt": the vector in SVR bits 7:0, and no ISR bit is set
        softwareEnable();
        assertThat(apic.acknowledge()).isEqualTo(0xEF);
        apic.acceptInterrupt(0x45, false);
        apic.setTaskPriority(0x60);
        assertThat(apic.acknowledge()).isEqualTo(0xEF);
        assertThat(read(LocalApic.ISR + 0x20)).isZero();
    }

    @Test
    void oneShotTimerExpiresAfterInitialCountTimesTheDivisorOfVirtualTime() {
        // "APIC Timer": one-shot mode counts down once; current count is computed from virtual time
        softwareEnable();
        write(LocalApic.TIMER_DIVIDE, 0x3); // divide by 16
        write(LocalApic.LVT_TIMER, 0x40);
        write(LocalApic.TIMER_INITIAL_COUNT, 100);
        assertThat(apic.nextEventNanos()).isEqualTo(1600L);
        runUntil(800);
        assertThat(read(LocalApic.TIMER_CURRENT_COUNT)).isEqualTo(50);
        runUntil(1599);
        assertThat(irrHas(0x40)).isFalse();
        runUntil(1600);
        assertThat(irrHas(0x40)).isTrue();
        assertThat(read(LocalApic.TIMER_CURRENT_COUNT)).isZero();
        assertThat(apic.nextEventNanos()).isEqualTo(Clocked.NO_EVENT);
    }

    @Test
    void periodicTimerReloadsAndInterruptsEveryPeriodExactly() {
        // "APIC Timer": periodic mode reloads the initial count on reaching 0
        softwareEnable();
        write(LocalApic.TIMER_DIVIDE, 0x0); // divide by 2
        write(LocalApic.LVT_TIMER, 0x2_0000 | 0x50);
        write(LocalApic.TIMER_INITIAL_COUNT, 500);
        int interrupts = 0;
        for (long period = 1; period <= 3; period++) {
            assertThat(apic.nextEventNanos()).isEqualTo(period * 1000);
            runUntil(period * 1000);
            assertThat(apic.acknowledge()).isEqualTo(0x50);
            write(LocalApic.EOI, 0);
            interrupts++;
        }
        assertThat(interrupts).isEqualTo(3);
        runUntil(3250);
        assertThat(read(LocalApic.TIMER_CURRENT_COUNT)).isEqualTo(375);
    }

    @Test
    void aMaskedTimerCountsWithoutInterruptingAndUnmaskingDoesNotReplayIt() {
        // "Local Vector Table": mask bit 16 inhibits reception of the interrupt
        softwareEnable();
        write(LocalApic.TIMER_DIVIDE, 0xB); // divide by 1
        write(LocalApic.LVT_TIMER, 0x1_0000 | 0x40);
        write(LocalApic.TIMER_INITIAL_COUNT, 100);
        assertThat(apic.nextEventNanos()).isEqualTo(Clocked.NO_EVENT);
        runUntil(200);
        write(LocalApic.LVT_TIMER, 0x40);
        runUntil(1000);
        assertThat(irrHas(0x40)).isFalse();
        assertThat(read(LocalApic.TIMER_CURRENT_COUNT)).isZero();
    }

    @Test
    void softwareDisabledApicKeepsLvtMasksSetAndTakesNoInterrupts() {
        // "Local APIC State After It Has Been Software Disabled"
        write(LocalApic.LVT_LINT0, 0x700);
        assertThat(read(LocalApic.LVT_LINT0)).isEqualTo(0x1_0700);
        apic.acceptInterrupt(0x40, false);
        assertThat(irrHas(0x40)).isFalse();
        softwareEnable();
        write(LocalApic.LVT_LINT0, 0x700);
        write(LocalApic.SVR, 0x0EF);
        assertThat(read(LocalApic.LVT_LINT0)).isEqualTo(0x1_0700);
    }

    @Test
    void extIntOnLint0PassesThe8259IntrThroughInVirtualWireMode() {
        // "Local Vector Table" LINT0 delivery mode ExtINT; MP spec 1.4 "Virtual Wire Mode"
        pic.request(0x20);
        assertThat(apic.hasPendingInterrupt()).isFalse();
        apic.enterVirtualWireMode();
        assertThat(apic.extIntPassesThrough()).isTrue();
        assertThat(apic.hasPendingInterrupt()).isTrue();
        apic.setTaskPriority(0xF0); // ExtINT bypasses the priority scheme
        assertThat(apic.acknowledge()).isEqualTo(0x20);
        write(LocalApic.LVT_LINT0, 0x1_0700);
        pic.request(0x21);
        assertThat(apic.hasPendingInterrupt()).isFalse();
    }

    @Test
    void aHardwareDisabledApicLeavesLint0AsTheIntrPin() {
        // "Enabling or Disabling the Local APIC": IA32_APIC_BASE[11] = 0 disables the APIC
        softwareEnable();
        apic.acceptInterrupt(0x80, false);
        apic.setApicBaseMsr(0xFEE0_0100L);
        assertThat(apic.hardwareEnabled()).isFalse();
        assertThat(apic.read(LocalApic.VERSION_REGISTER, 4)).isZero();
        pic.request(0x08);
        assertThat(apic.hasPendingInterrupt()).isTrue();
        assertThat(apic.acknowledge()).isEqualTo(0x08);
        apic.setApicBaseMsr(0xFEE0_0900L);
        assertThat(read(LocalApic.SVR)).isEqualTo(0xFF);
        assertThat(irrHas(0x80)).isFalse();
    }

    @Test
    void selfIpiLandsInIrrAndOtherDestinationsGoToTheSink() {
        // "Interrupt Command Register (ICR)": destination shorthand 01 = self
        softwareEnable();
        write(LocalApic.ICR_LOW, 0x4_0000 | 0x44);
        assertThat(irrHas(0x44)).isTrue();
        assertThat(ipis).isEmpty();
        assertThat(read(LocalApic.ICR_LOW) & 0x1000).isZero();
        write(LocalApic.ICR_HIGH, 0x0300_0000);
        write(LocalApic.ICR_LOW, 0x4500);
        assertThat(ipis).hasSize(1);
        assertThat(ipis.getFirst()).containsExactly(0x4500, 0x0300_0000);
        write(LocalApic.ICR_LOW, 0x4_0400);
        assertThat(nmis).isEqualTo(1);
    }

    @Test
    void illegalVectorsAreReportedInEsrAfterTheNextEsrWrite() {
        // "Error Handling": ESR is written before it is read; receive illegal vector = bit 6
        softwareEnable();
        apic.acceptInterrupt(0x05, false);
        assertThat(read(LocalApic.ESR)).isZero();
        write(LocalApic.ESR, 0);
        assertThat(read(LocalApic.ESR)).isEqualTo(0x40);
        write(LocalApic.ESR, 0);
        assertThat(read(LocalApic.ESR)).isZero();
    }

    @Test
    void anIllegalRegisterAddressRaisesTheErrorInterrupt() {
        // "Error Handling": bit 7 illegal register address; the LVT error entry delivers its vector
        softwareEnable();
        write(LocalApic.LVT_ERROR, 0xFE);
        apic.read(0x2F0, 4);
        write(LocalApic.ESR, 0);
        assertThat(read(LocalApic.ESR)).isEqualTo(0x80);
        assertThat(irrHas(0xFE)).isTrue();
    }

    @Test
    void logicalFlatDestinationsMatchLdrBits() {
        // "Logical Destination Mode", flat model: a bit-wise AND of MDA and LDR
        softwareEnable();
        write(LocalApic.LDR, 0x0400_0000);
        apic.receiveMessage(0x03, true, ApicDeliveryMode.FIXED, 0x70, false);
        assertThat(irrHas(0x70)).isFalse();
        apic.receiveMessage(0x06, true, ApicDeliveryMode.FIXED, 0x71, false);
        assertThat(irrHas(0x71)).isTrue();
        apic.receiveMessage(0x01, false, ApicDeliveryMode.FIXED, 0x72, false);
        assertThat(irrHas(0x72)).isFalse();
        apic.receiveMessage(0xFF, false, ApicDeliveryMode.FIXED, 0x73, false);
        assertThat(irrHas(0x73)).isTrue();
    }

    @Test
    void aprFollowsTheP6Formula() {
        // "Lowest Priority Delivery Mode": APR = TPR if TPR class >= IRRV and > ISRV, else the max of the classes
        softwareEnable();
        apic.setTaskPriority(0x42);
        assertThat(read(LocalApic.APR)).isEqualTo(0x42);
        apic.acceptInterrupt(0x91, false);
        assertThat(read(LocalApic.APR)).isEqualTo(0x90);
    }

    @Test
    void narrowReadsSeeTheAddressedBytesAndTheSlotTailReadsZero() {
        // "Local APIC Register Address Map": registers are 32 bits on 128-bit boundaries
        assertThat(apic.read(LocalApic.VERSION_REGISTER + 2, 1)).isEqualTo(0x05);
        assertThat(apic.read(LocalApic.VERSION_REGISTER + 4, 4)).isZero();
        apic.write(LocalApic.TPR, 1, 0x30);
        assertThat(read(LocalApic.TPR)).isZero();
    }

    @Test
    void stateRoundTrip() {
        softwareEnable();
        write(LocalApic.LVT_TIMER, 0x2_0040);
        write(LocalApic.TIMER_INITIAL_COUNT, 1000);
        apic.acceptInterrupt(0x66, true);
        apic.acknowledge();
        LocalApic.State saved = apic.state();
        LocalApic copy = new LocalApic(clock, pic, eoiBroadcasts::add);
        copy.restore(saved);
        assertThat(copy.nextEventNanos()).isEqualTo(2000L);
        copy.write(LocalApic.EOI, 4, 0);
        assertThat(eoiBroadcasts).containsExactly(0x66);
    }
}

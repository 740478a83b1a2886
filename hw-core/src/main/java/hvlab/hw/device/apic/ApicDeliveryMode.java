package hvlab.hw.device.apic;

/**
 * The delivery-mode field shared by the local APIC's LVT entries and ICR and the I/O APIC's redirection entries
 * (SDM vol. 3A, "Local Vector Table" and "Interrupt Command Register"; 82093AA datasheet, "I/O Redirection Table").
 */
public final class ApicDeliveryMode {
    public static final int FIXED = 0b000;
    public static final int LOWEST_PRIORITY = 0b001;
    public static final int SMI = 0b010;
    public static final int NMI = 0b100;
    public static final int INIT = 0b101;
    public static final int STARTUP = 0b110;
    public static final int EXTINT = 0b111;

    private ApicDeliveryMode() {
    }
}

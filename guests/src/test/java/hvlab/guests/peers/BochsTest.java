package hvlab.guests.peers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The generated configuration and the reading of Bochs's log, without running Bochs. */
class BochsTest {

    /** The end of a real log: lab-callret.rom on Debian's Bochs 2.7. */
    private static final String LOG_TAIL = """
            00000000000i[      ] set SIGINT handler to bx_debug_ctrlc_handler
            00000204891i[SER   ] com1: FIFO enabled
            00007602498p[UNMAP ] >>PANIC<< Shutdown port: shutdown requested
            00007602498i[CPU0  ] CPU is in protected mode (active)
            00007602498i[CPU0  ] CS.mode = 32 bit
            00007602498i[CMOS  ] Last time is 1795555112 (Tue Nov 24 21:18:32 2026)
            00007602498i[SIM   ] quit_sim called with exit code 1
            """;

    @Test
    void instructionCountIsTheTickCounterOfTheShutdownPanic() {
        assertThat(Bochs.instructionsAtShutdown(LOG_TAIL)).isEqualTo(OptionalLong.of(7_602_498));
    }

    @Test
    void aLogWithoutTheShutdownHasNoCount() {
        String otherPanic = """
                00000000000p[MEM0  ] >>PANIC<< ROM: couldn't open ROM image file 'rom.bin'.
                00000000000i[SIM   ] quit_sim called with exit code 1
                """;
        assertThat(Bochs.instructionsAtShutdown(otherPanic)).isEmpty();
        assertThat(Bochs.instructionsAtShutdown("")).isEmpty();
    }

    @Test
    void aShutdownMentionedInsideAnotherLineDoesNotCount() {
        assertThat(Bochs.instructionsAtShutdown("guest printed: 00000000042p[UNMAP ] >>PANIC<< Shutdown port: "
                + "shutdown requested\n")).isEmpty();
    }

    @Test
    void exitMessageIsTheLineAfterBochssBanner() {
        String stderr = """
                ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default
                ========================================================================
                Bochs is exiting with the following message:
                [UNMAP ] Shutdown port: shutdown requested
                ========================================================================
                """;
        assertThat(Bochs.exitMessage(stderr)).isEqualTo("[UNMAP ] Shutdown port: shutdown requested");
        assertThat(Bochs.exitMessage("")).isEmpty();
    }

    @Test
    void bochsrcRunsTheRomHeadlessWithTheConsoleInAFile() {
        String rc = Bochs.bochsrc("rom.bin", "com1.txt", "bochs.log");
        assertThat(rc.lines()).contains(
                "megs: 128",
                "romimage: file=rom.bin",
                "vgaromimage: file=/usr/share/vgabios/vgabios.bin",
                "display_library: rfb, options=\"timeout=0\"",
                "port_e9_hack: enabled=1",
                "com1: enabled=1, mode=file, dev=com1.txt",
                "cpu: count=1, ips=1000000, reset_on_triple_fault=0",
                "log: bochs.log",
                "speaker: enabled=0");
        assertThat(rc).contains("clock: sync=none").doesNotContain("address=");
    }
}

package hvlab.hw.stats;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HypervisorEventsTest {
    @Test
    void enabledRecordingSeesExitsAndHypercallsWithReasonNumberAndEip() throws Exception {
        List<RecordedEvent> events = record(recording -> {
            recording.enable("hvlab.VmExit");
            recording.enable("hvlab.Hypercall");
        });

        assertThat(events).extracting(e -> e.getEventType().getName()).containsExactly("hvlab.VmExit",
                "hvlab.Hypercall");
        assertThat(events.get(0).getString("reason")).isEqualTo("io instruction");
        assertThat(events.get(0).getInt("guestEip")).isEqualTo(0x100020);
        assertThat(events.get(1).getInt("number")).isEqualTo(23);
        assertThat(events.get(1).getEventType().getCategoryNames()).containsExactly("hvlab");
    }

    @Test
    void eventsAreOffInTheJdksProfileSettings() throws Exception {
        List<RecordedEvent> events = record(recording -> recording.setSettings(
                Configuration.getConfiguration("profile").getSettings()));

        assertThat(events).extracting(e -> e.getEventType().getName())
                .doesNotContain("hvlab.VmExit", "hvlab.Hypercall");
    }

    private interface Setup {
        void apply(Recording recording) throws Exception;
    }

    private static List<RecordedEvent> record(Setup setup) throws Exception {
        Path file = Files.createTempFile("hvlab-events", ".jfr");
        try (Recording recording = new Recording()) {
            setup.apply(recording);
            recording.start();
            HypervisorEvents.vmExit("io instruction", 0x100020);
            HypervisorEvents.hypercall(23, 0x100040);
            recording.stop();
            recording.dump(file);
            return RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().startsWith("hvlab.")).toList();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}

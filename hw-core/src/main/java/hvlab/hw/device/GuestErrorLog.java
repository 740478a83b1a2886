package hvlab.hw.device;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a device does with a guest's nonsense (an unknown command, a bad offset, an unsupported mode): it goes on as
 * the datasheet says, counts the event, and logs only the first one, so a guest in a loop cannot flood the log.
 */
public final class GuestErrorLog {
    private final Logger logger;
    private long count;

    public GuestErrorLog(Class<?> device) {
        this.logger = LoggerFactory.getLogger(device);
    }

    public void report(String what, int value) {
        if (count++ == 0) {
            logger.warn("guest: {} (0x{}); later guest errors of this device are counted, not logged",
                    what, Integer.toHexString(value));
        }
    }

    public long count() {
        return count;
    }
}

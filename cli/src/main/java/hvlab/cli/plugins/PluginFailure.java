package hvlab.cli.plugins;

/**
 * Plugin code threw where the SPI expects an answer. The message names the call and what was thrown; the cause is
 * kept for plugin authors who ask for stack traces.
 */
public final class PluginFailure extends RuntimeException {
    PluginFailure(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}

package hvlab.cli.plugins;

import hvlab.spi.HypervisorProvider;

import java.util.ServiceConfigurationError;

/** The one way into plugin code: what a broken plugin throws comes back as a {@link PluginFailure}. */
final class PluginCalls {
    private static final String SERVICE_PREFIX = HypervisorProvider.class.getName() + ": ";

    private PluginCalls() {
    }

    /** Plugin code that answers, possibly with a checked exception the SPI declares (a bad boot image). */
    @FunctionalInterface
    interface PluginCode<T, X extends Exception> {
        T call() throws X;
    }

    /**
     * Runs plugin code. The checked exceptions the SPI declares pass through; an error of the service machinery,
     * a linkage error (a plugin built against another SPI) or a runtime exception becomes a {@link PluginFailure}
     * reading {@code context: call threw what} (context and call may be null).
     */
    static <T, X extends Exception> T call(String context, String call, PluginCode<T, X> code) throws X {
        try {
            return code.call();
        } catch (PluginFailure alreadyDescribed) {
            throw alreadyDescribed;
        } catch (ServiceConfigurationError | LinkageError | RuntimeException thrown) {
            throw new PluginFailure(prefix(context) + (call == null ? "" : call + " threw ") + describe(thrown),
                    thrown);
        }
    }

    /** Like {@link #call}, and an answer of null is a failure too. */
    static <T, X extends Exception> T callNonNull(String context, String call, PluginCode<T, X> code) throws X {
        T answer = call(context, call, code);
        if (answer == null) {
            throw new PluginFailure(prefix(context) + call + " returned null", null);
        }
        return answer;
    }

    /** One line for a throwable and its causes, e.g. {@code IllegalStateException: no host}. */
    static String describe(Throwable thrown) {
        String text = thrown instanceof ServiceConfigurationError
                ? thrown.getMessage().replace(SERVICE_PREFIX, "") // the service's name adds nothing here
                : thrown.getClass().getSimpleName() + (thrown.getMessage() == null ? "" : ": " + thrown.getMessage());
        Throwable cause = thrown.getCause();
        if (cause == null || cause.toString().equals(thrown.getMessage())) {
            return text;
        }
        return text + ": " + describe(cause);
    }

    private static String prefix(String context) {
        return context == null ? "" : context + ": ";
    }
}

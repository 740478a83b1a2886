package hvlab.spi;

/** The answer of {@link HypervisorProvider#probe}: available, or not with a reason a user can act on. */
public sealed interface Availability {
    record Available() implements Availability { }

    record Unavailable(String reason) implements Availability { }

    static Availability available() {
        return new Available();
    }

    static Availability unavailable(String reason) {
        return new Unavailable(reason);
    }

    default boolean isAvailable() {
        return this instanceof Available;
    }
}

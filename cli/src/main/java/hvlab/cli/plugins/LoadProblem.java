package hvlab.cli.plugins;

/**
 * Why a plugin, or one provider in it, was left out.
 *
 * @param origin where it came from: a plugin jar, or the boot layer
 * @param hypervisorId the id it claims, or null when the failure came before the id was known (or the id was
 *     refused, as a claim on {@code native} is)
 * @param message what went wrong, naming the provider class where there is one
 */
public record LoadProblem(String origin, String hypervisorId, String message) {
    /** Whether selecting {@code id} runs into this problem. */
    public boolean concerns(String id) {
        return id.equals(hypervisorId);
    }

    @Override
    public String toString() {
        return origin + ": " + message;
    }
}

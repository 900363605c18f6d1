package dev.quiver.api.error;

import dev.quiver.api.Stable;

/**
 * A capability could not do its job for a reason other than bad input (a model failed to load, a
 * native call failed). The host isolates the capability for that decision and falls back.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public class CapabilityException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String capability;

    /**
     * Creates the exception.
     *
     * @param capability name of the failing capability, e.g. {@code lstm}
     * @param message what failed
     * @param cause the underlying failure, may be {@code null}
     */
    public CapabilityException(String capability, String message, Throwable cause) {
        super("[Quiver/CAPABILITY_FAILED] capability '" + capability + "': " + message, cause);
        this.capability = capability;
    }

    /**
     * The failing capability's name.
     *
     * @return e.g. {@code lstm}
     */
    public String capability() {
        return capability;
    }
}

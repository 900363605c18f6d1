package dev.quiver.host.mlflow;

/**
 * A call to the MLflow server that did not succeed: the server answered with an error status, or it
 * could not be reached within the timeouts and retries.
 *
 * <p>The message names the call, the HTTP status and MLflow's {@code error_code} when there is one;
 * it never contains credentials.
 */
public final class MlflowException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** HTTP status, or {@code 0} when the server was not reached (connection refused, timeout). */
    private final int status;

    /** MLflow's {@code error_code}, e.g. {@code RESOURCE_DOES_NOT_EXIST}, or empty. */
    private final String errorCode;

    /** The server's {@code Retry-After} (on a 429 or 503), or null when it sent none. */
    private final transient java.time.Duration retryAfter;

    MlflowException(String message, int status, String errorCode, Throwable cause) {
        this(message, status, errorCode, cause, null);
    }

    MlflowException(
            String message,
            int status,
            String errorCode,
            Throwable cause,
            java.time.Duration retryAfter) {
        super(message, cause);
        this.status = status;
        this.errorCode = errorCode;
        this.retryAfter = retryAfter;
    }

    /**
     * How long the server asked us to wait before the next call ({@code Retry-After} of a 429 or
     * 503 answer, RFC 9110 section 10.2.3).
     *
     * @return the wait, or empty when the server named none
     */
    public java.util.Optional<java.time.Duration> retryAfter() {
        return java.util.Optional.ofNullable(retryAfter);
    }

    /**
     * Whether the server refused our credentials (HTTP 401 or 403): {@code AUTH_FAILED}, a definite
     * answer that retrying with the same credentials cannot change.
     *
     * @return true for 401 and 403
     */
    public boolean authFailed() {
        return status == 401 || status == 403;
    }

    /**
     * The HTTP status.
     *
     * @return the status, or {@code 0} if the server was unreachable
     */
    public int status() {
        return status;
    }

    /**
     * MLflow's error code.
     *
     * @return e.g. {@code RESOURCE_DOES_NOT_EXIST}, or an empty string
     */
    public String errorCode() {
        return errorCode;
    }

    /**
     * Whether the server could not be reached or failed on its side (IO error, timeout, 5xx, 408,
     * 429): the registry is unavailable rather than saying no.
     *
     * @return true for unavailability, false for a definite answer (4xx)
     */
    public boolean unavailable() {
        return status == 0 || status >= 500 || status == 408 || status == 429;
    }

    /**
     * Whether the server said the thing does not exist.
     *
     * @return true for 404 or {@code RESOURCE_DOES_NOT_EXIST}
     */
    public boolean notFound() {
        return status == 404 || "RESOURCE_DOES_NOT_EXIST".equals(errorCode);
    }
}

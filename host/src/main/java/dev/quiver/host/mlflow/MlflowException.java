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

    MlflowException(String message, int status, String errorCode, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCode = errorCode;
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

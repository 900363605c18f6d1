package dev.quiver.host.store;

import java.sql.SQLException;

/**
 * A state-store operation that failed: the message names the operation (e.g. {@code
 * appendBars(BTC-USD)}), what went wrong and, for a database error, the driver's SQL state and
 * message; the driver's exception is the cause. When this is thrown by a write, nothing of that
 * write (or of the enclosing {@link StateStore#inTransaction transaction}) is stored, except where
 * the message says the commit itself failed and the outcome is unknown.
 */
public class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Stable error code, {@code STATE_STORE}. */
    public static final String CODE = "STATE_STORE";

    private final String operation;

    /**
     * A failed operation on the store's database.
     *
     * @param operation what was done, e.g. {@code insert training job}
     * @param problem what went wrong
     * @param cause the driver's exception, or null
     */
    public StoreException(String operation, String problem, Throwable cause) {
        this(CODE, operation, problem, cause);
    }

    StoreException(String code, String operation, String problem, Throwable cause) {
        super("[Quiver/" + code + "] " + operation + ": " + problem + describe(cause), cause);
        this.operation = operation;
    }

    /**
     * The operation that failed.
     *
     * @return e.g. {@code recordFill(acct-1/f-17)} or {@code open}
     */
    public String operation() {
        return operation;
    }

    private static String describe(Throwable cause) {
        if (cause == null) {
            return "";
        }
        if (cause instanceof SQLException sql) {
            return " (SQL state "
                    + sql.getSQLState()
                    + ", error code "
                    + sql.getErrorCode()
                    + ": "
                    + sql.getMessage()
                    + ")";
        }
        return " (" + cause + ")";
    }
}

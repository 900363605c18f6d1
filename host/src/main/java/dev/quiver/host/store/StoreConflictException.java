package dev.quiver.host.store;

/**
 * A write that contradicts what is already stored under the same key: an account or an open session
 * with other settings, a fill id with other content, a second bar at the same start time, a closed
 * session closed again at another time. Nothing of the refused write is stored. The exception names
 * the entity, its key, the first field that differs and both values.
 */
public final class StoreConflictException extends StoreException {

    private static final long serialVersionUID = 1L;

    /** Stable error code, {@code STATE_CONFLICT}. */
    public static final String CODE = "STATE_CONFLICT";

    private final String entity;
    private final String key;
    private final String field;
    private final String storedValue;
    private final String offeredValue;

    StoreConflictException(
            String operation,
            String entity,
            String key,
            String field,
            Object storedValue,
            Object offeredValue,
            String problem) {
        super(
                CODE,
                operation,
                entity
                        + " '"
                        + key
                        + "': field '"
                        + field
                        + "' is stored as "
                        + storedValue
                        + ", offered "
                        + offeredValue
                        + ": "
                        + problem,
                null);
        this.entity = entity;
        this.key = key;
        this.field = field;
        this.storedValue = String.valueOf(storedValue);
        this.offeredValue = String.valueOf(offeredValue);
    }

    /**
     * The kind of row.
     *
     * @return {@code account}, {@code session}, {@code bar} or {@code fill}
     */
    public String entity() {
        return entity;
    }

    /**
     * The row's key.
     *
     * @return e.g. {@code acct-1}, {@code BTC-USD}, {@code BTC-USD@1700000000000}, {@code
     *     acct-1/f-17}
     */
    public String key() {
        return key;
    }

    /**
     * The first field (column name) whose stored value differs from the offered one; for a
     * duplicate bar, {@code start_ms}.
     *
     * @return e.g. {@code settings_json}, {@code price}
     */
    public String field() {
        return field;
    }

    /**
     * The stored value of {@link #field()}, as text (doubles in Java's shortest exact form).
     *
     * @return the stored value
     */
    public String storedValue() {
        return storedValue;
    }

    /**
     * The offered value of {@link #field()}, as text.
     *
     * @return the offered value
     */
    public String offeredValue() {
        return offeredValue;
    }
}

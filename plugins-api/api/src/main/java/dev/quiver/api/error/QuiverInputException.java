package dev.quiver.api.error;

import dev.quiver.api.Stable;

/**
 * Bad input rejected with everything needed to find it: a stable code, the field, where it was
 * (file and line, bar time, plugin) and the offending value.
 *
 * <p>Message shape: {@code [Quiver/CODE] <where>: field '<field>' <problem> (value: <value>)}.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public class QuiverInputException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String code;
    private final String field;
    private final String where;
    private final String value;

    /**
     * Creates the exception.
     *
     * @param code stable upper-case code, e.g. {@code BAD_BAR}
     * @param field the offending field, e.g. {@code close}
     * @param where where the input came from, e.g. {@code data.csv line 17}
     * @param value the offending value, rendered with {@link String#valueOf(Object)}
     * @param problem what is wrong, e.g. {@code is above high 101.5}
     */
    public QuiverInputException(
            String code, String field, String where, Object value, String problem) {
        super(
                "[Quiver/"
                        + code
                        + "] "
                        + where
                        + ": field '"
                        + field
                        + "' "
                        + problem
                        + " (value: "
                        + value
                        + ")");
        this.code = code;
        this.field = field;
        this.where = where;
        this.value = String.valueOf(value);
    }

    /**
     * The stable error code.
     *
     * @return e.g. {@code BAD_BAR}
     */
    public String code() {
        return code;
    }

    /**
     * The offending field.
     *
     * @return e.g. {@code close}
     */
    public String field() {
        return field;
    }

    /**
     * Where the input came from.
     *
     * @return e.g. {@code data.csv line 17}
     */
    public String where() {
        return where;
    }

    /**
     * The offending value as text.
     *
     * @return e.g. {@code NaN}
     */
    public String value() {
        return value;
    }
}

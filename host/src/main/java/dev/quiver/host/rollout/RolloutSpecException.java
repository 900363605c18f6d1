package dev.quiver.host.rollout;

/**
 * A rollout spec the host refuses: the message names the field (as a JSON path, e.g. {@code
 * rules.min_samples}), the value and what was expected.
 */
public final class RolloutSpecException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** Stable error code, {@code BAD_ROLLOUT_SPEC}. */
    public static final String CODE = "BAD_ROLLOUT_SPEC";

    private final String field;

    /**
     * A refused spec.
     *
     * @param where where the spec came from (a file, {@code request body})
     * @param field the offending field as a JSON path
     * @param problem what is wrong, with the value
     */
    public RolloutSpecException(String where, String field, String problem) {
        super("[Quiver/" + CODE + "] " + where + ": field '" + field + "' " + problem);
        this.field = field;
    }

    /**
     * The offending field as a JSON path.
     *
     * @return e.g. {@code routing.canary_percent}
     */
    public String field() {
        return field;
    }
}

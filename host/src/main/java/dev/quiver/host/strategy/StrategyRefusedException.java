package dev.quiver.host.strategy;

/**
 * A registered strategy version that is not served, with the reason: not a strategy bundle (its
 * {@code quiver.kind} tag names another kind), a file whose sha256 differs from the manifest, a
 * manifest whose sha256 differs from the version's tag, a file that is not part of a bundle, a path
 * escaping the folder, smoke cases that do not match, or an unknown model, alias or version.
 *
 * <p>Message: {@code [Quiver/STRATEGY_REFUSED] models:/NAME/VERSION: reason; the version is not
 * served.}
 */
public final class StrategyRefusedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String reason;

    /**
     * A refusal.
     *
     * @param what the version or reference, e.g. {@code models:/quiver-strategy/3}
     * @param reason why, naming the file, tag or field
     */
    public StrategyRefusedException(String what, String reason) {
        this(what, reason, null);
    }

    /**
     * A refusal with its cause.
     *
     * @param what the version or reference
     * @param reason why
     * @param cause the underlying error
     */
    public StrategyRefusedException(String what, String reason, Throwable cause) {
        super(
                "[Quiver/STRATEGY_REFUSED] "
                        + what
                        + ": "
                        + reason
                        + "; the version is not served.",
                cause);
        this.reason = reason;
    }

    /**
     * The reason alone.
     *
     * @return e.g. {@code bundle/sources/xgboost/xgboost.json has sha256 ... but the manifest says
     *     ...}
     */
    public String reason() {
        return reason;
    }
}

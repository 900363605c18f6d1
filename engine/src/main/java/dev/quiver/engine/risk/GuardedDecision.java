package dev.quiver.engine.risk;

/**
 * A sizing decision after the risk guard: always finite and in {@code [0, maxFraction]}.
 *
 * @param fraction target position, fraction of equity, in {@code [0, maxFraction]}
 * @param reason one line: the policy's reason, or why the guard overrode it
 * @param overridden whether the guard changed the policy's decision (clipped, or flat after a
 *     failure)
 */
public record GuardedDecision(double fraction, String reason, boolean overridden) {

    /** Validates: the guard never lets a bad fraction through. */
    public GuardedDecision {
        if (!(fraction >= 0) || Double.isInfinite(fraction)) {
            throw new IllegalArgumentException("fraction must be finite and >= 0: " + fraction);
        }
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("reason is blank");
        }
    }
}

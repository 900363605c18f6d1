package dev.quiver.host.store;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The running sums of one role of a rollout (table {@code rollout_figures}): everything its figures
 * (log-loss, Brier, hit rate, P&amp;L) are computed from.
 *
 * @param role {@code champion}, {@code challenger}, or {@code served} (the variant that acted on
 *     each scored bar)
 * @param n scored outcomes, {@code >= 0}
 * @param nProbability of which had a probability, {@code >= 0}
 * @param logLossSum sum of log-losses, finite
 * @param brierSum sum of Brier scores, finite
 * @param hits directions called, {@code >= 0}
 * @param pnlSum sum of cost-adjusted P&amp;L per unit notional, finite
 * @param acted decisions the role acted on; present for champion and challenger, empty for served
 * @param stage the role's losses in the current stage; present for champion and challenger, empty
 *     for served
 */
public record RolloutFiguresRow(
        String role,
        long n,
        long nProbability,
        double logLossSum,
        double brierSum,
        long hits,
        double pnlSum,
        OptionalLong acted,
        Optional<MomentsRow> stage) {

    /** The role of the variant that acted. */
    public static final String SERVED = "served";

    /** Checks the fields; -0.0 becomes 0.0. */
    public RolloutFiguresRow {
        Checks.text("RolloutFiguresRow", "role", role);
        if (!role.equals("champion") && !role.equals("challenger") && !role.equals(SERVED)) {
            throw new IllegalArgumentException(
                    "RolloutFiguresRow.role must be champion, challenger or served (value: "
                            + role
                            + ")");
        }
        if (n < 0 || nProbability < 0 || hits < 0) {
            throw new IllegalArgumentException(
                    "RolloutFiguresRow counts must be >= 0 (n "
                            + n
                            + ", nProbability "
                            + nProbability
                            + ", hits "
                            + hits
                            + ")");
        }
        logLossSum = Checks.finite("RolloutFiguresRow", "logLossSum", logLossSum);
        brierSum = Checks.finite("RolloutFiguresRow", "brierSum", brierSum);
        pnlSum = Checks.finite("RolloutFiguresRow", "pnlSum", pnlSum);
        Objects.requireNonNull(acted, "RolloutFiguresRow.acted must not be null");
        Objects.requireNonNull(stage, "RolloutFiguresRow.stage must not be null");
        boolean served = role.equals(SERVED);
        if (served == acted.isPresent() || served == stage.isPresent()) {
            throw new IllegalArgumentException(
                    "RolloutFiguresRow of role "
                            + role
                            + ": acted and stage must be "
                            + (served ? "empty for served" : "present for a variant"));
        }
    }
}

package dev.quiver.host.store;

/**
 * One role's running sums at one point of a rollout's series (table {@code rollout_series}): the
 * figures as they stood right after the outcomes of bar {@code barMs} were scored.
 *
 * @param barMs start of the latest outcome bar scored, epoch milliseconds UTC
 * @param timeMs when the point was committed, epoch milliseconds UTC
 * @param stage the rollout's stage when the point was scored, not blank
 * @param role {@code champion}, {@code challenger} or {@code served} (the variant that acted)
 * @param n scored outcomes so far, {@code >= 0}
 * @param nProbability of which had a probability, {@code >= 0}
 * @param logLossSum sum of log-losses (natural log), finite
 * @param brierSum sum of Brier scores, finite
 * @param hits directions called, {@code >= 0}
 * @param pnlSum sum of cost-adjusted P&amp;L per unit notional, finite
 */
public record RolloutPointRow(
        long barMs,
        long timeMs,
        String stage,
        String role,
        long n,
        long nProbability,
        double logLossSum,
        double brierSum,
        long hits,
        double pnlSum) {

    /** Checks the fields; -0.0 becomes 0.0. */
    public RolloutPointRow {
        Checks.text("RolloutPointRow", "stage", stage);
        Checks.text("RolloutPointRow", "role", role);
        if (!role.equals("champion")
                && !role.equals("challenger")
                && !role.equals(RolloutFiguresRow.SERVED)) {
            throw new IllegalArgumentException(
                    "RolloutPointRow.role must be champion, challenger or served (value: "
                            + role
                            + ")");
        }
        if (n < 0 || nProbability < 0 || hits < 0) {
            throw new IllegalArgumentException(
                    "RolloutPointRow counts must be >= 0 (n "
                            + n
                            + ", nProbability "
                            + nProbability
                            + ", hits "
                            + hits
                            + ")");
        }
        logLossSum = Checks.finite("RolloutPointRow", "logLossSum", logLossSum);
        brierSum = Checks.finite("RolloutPointRow", "brierSum", brierSum);
        pnlSum = Checks.finite("RolloutPointRow", "pnlSum", pnlSum);
    }

    /**
     * This point at another outcome bar (a late outcome folded into a later point).
     *
     * @param bar the bar, epoch milliseconds UTC
     * @return the point with {@code barMs = bar}
     */
    public RolloutPointRow atBar(long bar) {
        return new RolloutPointRow(
                bar, timeMs, stage, role, n, nProbability, logLossSum, brierSum, hits, pnlSum);
    }
}

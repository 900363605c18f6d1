package dev.quiver.host.rollout;

/**
 * One variant's out-of-sample figures over the bars whose outcome is known.
 *
 * @param n scored outcomes
 * @param logLoss mean log-loss (natural log), null for a sizing variant or when {@code n = 0}
 * @param brier mean Brier score, null likewise
 * @param hitRate share of bars whose direction was called, null likewise
 * @param pnl cumulative cost-adjusted P&amp;L per unit notional (sum of {@code w r - c |w -
 *     w_prev|}, see {@link Metric#PNL})
 * @param pnlPerBar mean of the same per bar, null when {@code n = 0}
 */
public record VariantFigures(
        long n, Double logLoss, Double brier, Double hitRate, double pnl, Double pnlPerBar) {}

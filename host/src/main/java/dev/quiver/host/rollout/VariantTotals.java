package dev.quiver.host.rollout;

/**
 * Running sums behind {@link VariantFigures}: what is persisted so the figures survive a restart.
 *
 * @param n scored outcomes
 * @param nProbability of which had a probability (prediction variants)
 * @param logLossSum sum of log-losses
 * @param brierSum sum of Brier scores
 * @param hits directions called
 * @param pnlSum sum of cost-adjusted P&amp;L per unit notional
 */
public record VariantTotals(
        long n, long nProbability, double logLossSum, double brierSum, long hits, double pnlSum) {

    /** Nothing scored. */
    public static final VariantTotals EMPTY = new VariantTotals(0, 0, 0, 0, 0, 0);

    VariantTotals plus(Double p, boolean up, double pnl) {
        if (p == null) {
            return new VariantTotals(n + 1, nProbability, logLossSum, brierSum, hits, pnlSum + pnl);
        }
        return new VariantTotals(
                n + 1,
                nProbability + 1,
                logLossSum + Metric.logLoss(p, up),
                brierSum + Metric.brier(p, up),
                hits + (Metric.hit(p, up) ? 1 : 0),
                pnlSum + pnl);
    }

    /**
     * The figures.
     *
     * @return means over the scored outcomes
     */
    public VariantFigures figures() {
        return new VariantFigures(
                n,
                nProbability == 0 ? null : logLossSum / nProbability,
                nProbability == 0 ? null : brierSum / nProbability,
                nProbability == 0 ? null : (double) hits / nProbability,
                pnlSum,
                n == 0 ? null : pnlSum / n);
    }
}

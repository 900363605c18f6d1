package dev.quiver.plugins.kelly;

/**
 * The pure pieces of fractional-Kelly sizing, each a total function of its arguments.
 *
 * <p>Sources: J. L. Kelly, "A New Interpretation of Information Rate", Bell System Technical
 * Journal 35 (1956) for the growth-optimal fraction; E. O. Thorp, "The Kelly Criterion in
 * Blackjack, Sports Betting and the Stock Market" (2006) for fractional Kelly and the
 * correlation-adjusted portfolio view; A. Moreira and T. Muir, "Volatility-Managed Portfolios",
 * Journal of Finance 72 (2017) for scaling exposure toward a target volatility.
 */
public final class KellyMath {

    private KellyMath() {}

    /**
     * Full Kelly fraction of a binary bet won with probability {@code p} paying {@code b} to 1.
     *
     * @param p win probability, in [0, 1]
     * @param b payoff ratio (mean win over mean loss), {@code > 0}
     * @return {@code p - (1 - p) / b}; negative when the bet has no edge; NaN for NaN input
     */
    public static double fullKelly(double p, double b) {
        return p - (1 - p) / b;
    }

    /**
     * Volatility scale toward a target (Moreira &amp; Muir 2017): {@code target / vol}, clipped to
     * {@code [0, maxScale]}.
     *
     * @param vol current volatility (ATR fraction per bar), {@code >= 0}
     * @param target target volatility, same unit, {@code > 0}
     * @param maxScale largest scale, {@code > 0}
     * @return the scale, {@code maxScale} when {@code vol} is 0, 0 for non-finite input
     */
    public static double volatilityScale(double vol, double target, double maxScale) {
        if (!(vol >= 0) || !(target > 0) || Double.isInfinite(target)) {
            return 0;
        }
        if (vol == 0) {
            return maxScale;
        }
        double s = target / vol;
        return Double.isFinite(s) ? Math.min(maxScale, s) : maxScale;
    }

    /**
     * Linear drawdown reduction: full size at no drawdown, zero at {@code zeroAt} and beyond.
     *
     * @param drawdown current drawdown, fraction in [0, 1)
     * @param zeroAt drawdown at which the position is 0, in (0, 1]
     * @return {@code max(0, 1 - drawdown / zeroAt)}, 0 for NaN input
     */
    public static double drawdownScale(double drawdown, double zeroAt) {
        double s = 1 - drawdown / zeroAt;
        return s > 0 ? Math.min(1, s) : 0;
    }

    /**
     * Correlation adjustment of the per-asset Kelly fraction when {@code n} positions are held
     * together: {@code 1 / (1 + (n - 1) * meanCorrelation)}. With {@code n} equally sized positions
     * of equal volatility and pairwise correlation {@code rho}, the portfolio variance is that of
     * one position times {@code n (1 + (n - 1) rho)}; dividing each fraction by {@code 1 + (n - 1)
     * rho} keeps the total risk of {@code n} positions equal to that of {@code n} independent ones
     * (Thorp 2006 on simultaneous bets). A single symbol ({@code n = 1}) gives 1.
     *
     * @param n positions held, {@code >= 1}
     * @param meanCorrelation mean pairwise correlation of their returns, in [-1, 1]
     * @return the multiplier, in {@code (0, +inf)}; 1 when {@code n <= 1}; for a negative mean
     *     correlation that would make the denominator {@code <= 0} the multiplier is capped at
     *     {@code n} (the diversification limit)
     */
    public static double correlationAdjustment(int n, double meanCorrelation) {
        if (n <= 1) {
            return 1;
        }
        if (!(meanCorrelation >= -1 && meanCorrelation <= 1)) {
            return 1.0 / n; // unknown correlation: assume the worst (all perfectly correlated)
        }
        double d = 1 + (n - 1) * meanCorrelation;
        return d > 1.0 / n ? 1 / d : n;
    }
}

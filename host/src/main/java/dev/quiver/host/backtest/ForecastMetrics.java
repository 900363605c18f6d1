package dev.quiver.host.backtest;

/**
 * Quality of one source's probabilities of an up move on the out-of-sample test bars whose outcome
 * is known (every test bar but the series' last).
 *
 * @param logLoss mean negative log-likelihood, natural log, with {@code p} clipped to {@code
 *     [1e-15, 1 - 1e-15]} as scikit-learn's {@code log_loss} does; 0.693 is a coin flip
 * @param brier mean {@code (p - y)^2} (G. W. Brier, 1950); 0.25 is a coin flip
 * @param hitRate share of bars where {@code p > 0.5} matched an up move (and {@code p <= 0.5} a
 *     non-up move)
 * @param n number of scored bars
 */
public record ForecastMetrics(double logLoss, double brier, double hitRate, int n) {

    static final double CLIP = 1e-15;

    /** Accumulates scores one bar at a time. */
    static final class Accumulator {
        private double logLoss;
        private double brier;
        private int hits;
        private int n;

        void add(double p, boolean up) {
            double q = Math.min(1 - CLIP, Math.max(CLIP, p));
            // One log of the selected argument (the same value as logging either branch).
            logLoss -= Math.log(up ? q : 1 - q);
            double y = up ? 1 : 0;
            brier += (p - y) * (p - y);
            hits += (p > 0.5) == up ? 1 : 0;
            n++;
        }

        ForecastMetrics result() {
            return n == 0
                    ? new ForecastMetrics(Double.NaN, Double.NaN, Double.NaN, 0)
                    : new ForecastMetrics(logLoss / n, brier / n, (double) hits / n, n);
        }
    }
}

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
 * @param ece expected calibration error over {@value #BINS} equal-width bins of {@code p}: {@code
 *     sum_b (n_b / n) |mean(p in b) - mean(y in b)|} (Naeini, Cooper and Hauskrecht 2015; Guo et
 *     al. 2017); 0 is perfectly calibrated
 * @param binMeanP per bin, mean predicted probability (NaN for an empty bin)
 * @param binFrequency per bin, observed share of up moves (NaN for an empty bin)
 * @param binCount per bin, number of bars
 * @param classes for a three-class source (its forecasts carry {@code DirectionForecast}s),
 *     per-class accuracy and the confusion matrix on the same bars; {@code null} for a two-class
 *     source and for the ensemble
 */
public record ForecastMetrics(
        double logLoss,
        double brier,
        double hitRate,
        int n,
        double ece,
        double[] binMeanP,
        double[] binFrequency,
        int[] binCount,
        ClassMetrics classes) {

    static final double CLIP = 1e-15;

    /** Number of equal-width calibration bins on [0, 1]. */
    public static final int BINS = 10;

    /** Accumulates scores one bar at a time. */
    static final class Accumulator {
        private double logLoss;
        private double brier;
        private int hits;
        private int n;
        private final double[] sumP = new double[BINS];
        private final double[] sumY = new double[BINS];
        private final int[] count = new int[BINS];
        private final ClassMetrics.Accumulator classes = new ClassMetrics.Accumulator();

        void addClasses(dev.quiver.api.prediction.DirectionForecast f, double r, double atrPct) {
            classes.add(f, r, atrPct);
        }

        void add(double p, boolean up) {
            double q = Math.min(1 - CLIP, Math.max(CLIP, p));
            // One log of the selected argument (the same value as logging either branch).
            logLoss -= Math.log(up ? q : 1 - q);
            double y = up ? 1 : 0;
            brier += (p - y) * (p - y);
            hits += (p > 0.5) == up ? 1 : 0;
            int b = Math.min(BINS - 1, (int) (p * BINS));
            sumP[b] += p;
            sumY[b] += y;
            count[b]++;
            n++;
        }

        ForecastMetrics result() {
            double[] meanP = new double[BINS];
            double[] freq = new double[BINS];
            double ece = 0;
            for (int b = 0; b < BINS; b++) {
                meanP[b] = count[b] == 0 ? Double.NaN : sumP[b] / count[b];
                freq[b] = count[b] == 0 ? Double.NaN : sumY[b] / count[b];
                if (count[b] > 0) {
                    ece += count[b] * Math.abs(meanP[b] - freq[b]);
                }
            }
            return n == 0
                    ? new ForecastMetrics(
                            Double.NaN,
                            Double.NaN,
                            Double.NaN,
                            0,
                            Double.NaN,
                            meanP,
                            freq,
                            count.clone(),
                            classes.result())
                    : new ForecastMetrics(
                            logLoss / n,
                            brier / n,
                            (double) hits / n,
                            n,
                            ece / n,
                            meanP,
                            freq,
                            count.clone(),
                            classes.result());
        }
    }
}

package dev.quiver.host.backtest;

import dev.quiver.api.prediction.Direction;
import dev.quiver.api.prediction.DirectionForecast;
import dev.quiver.api.prediction.SidewaysBand;

/**
 * How well a three-class source ({@link DirectionForecast}: down / sideways / up under its declared
 * {@link SidewaysBand}) classified the out-of-sample test bars it forecast: the true class of bar
 * {@code t} is the band's class of {@code ln(close[t + 1] / close[t])} against {@code
 * atr_pct_14[t]}, the predicted class the most probable one.
 *
 * @param atrMultiple the band's {@code k} the source declared (the same on every bar)
 * @param n scored bars
 * @param confusion {@code int[3][3]}, rows the true class, columns the predicted one, both in
 *     {@link Direction} order (down, sideways, up)
 * @param perClassAccuracy per true class, the share predicted right (recall), in {@link Direction}
 *     order; NaN for a class that never occurred
 * @param accuracy share of all bars predicted right
 * @param classShare per true class, its share of the bars (what always predicting it would score)
 * @param logLoss mean {@code -ln p(true class)}, p clipped to {@code [1e-15, 1]}; {@code ln 3 =
 *     1.0986} is a uniform guess
 */
public record ClassMetrics(
        double atrMultiple,
        int n,
        int[][] confusion,
        double[] perClassAccuracy,
        double accuracy,
        double[] classShare,
        double logLoss) {

    /** Accumulates one source's classes bar by bar. */
    static final class Accumulator {
        private final int[][] confusion = new int[3][3];
        private double logLoss;
        private double k = Double.NaN;
        private int n;

        /**
         * Adds one bar.
         *
         * @throws IllegalStateException if the source changes its band between bars
         */
        void add(DirectionForecast f, double nextLogReturn, double atrPct) {
            double fk = f.band().atrMultiple();
            if (n > 0 && fk != k) {
                throw new IllegalStateException(
                        "a three-class source changed its sideways band from k="
                                + k
                                + " to k="
                                + fk
                                + " between bars: its classes cannot be scored as one");
            }
            k = fk;
            Direction truth = f.band().classify(nextLogReturn, atrPct);
            confusion[truth.ordinal()][f.predicted().ordinal()]++;
            logLoss -= Math.log(Math.max(ForecastMetrics.CLIP, f.probability(truth)));
            n++;
        }

        /** The metrics, or {@code null} if no bar carried class probabilities. */
        ClassMetrics result() {
            if (n == 0) {
                return null;
            }
            int[][] cm = new int[3][];
            double[] recall = new double[3];
            double[] share = new double[3];
            int right = 0;
            for (int i = 0; i < 3; i++) {
                cm[i] = confusion[i].clone();
                int row = cm[i][0] + cm[i][1] + cm[i][2];
                recall[i] = row == 0 ? Double.NaN : (double) cm[i][i] / row;
                share[i] = (double) row / n;
                right += cm[i][i];
            }
            return new ClassMetrics(k, n, cm, recall, (double) right / n, share, logLoss / n);
        }
    }
}

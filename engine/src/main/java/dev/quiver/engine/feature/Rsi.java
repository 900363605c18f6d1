package dev.quiver.engine.feature;

/**
 * Streaming Relative Strength Index (J. W. Wilder, "New Concepts in Technical Trading Systems",
 * 1978), O(1) per bar, no allocation.
 *
 * <p>{@code RSI = 100 - 100 / (1 + RS)}, {@code RS = avgGain / avgLoss}, where gains and losses are
 * the positive and negative close-to-close changes (losses as positive numbers) and both averages
 * are Wilder moving averages of period {@code n}. Range {@code [0, 100]}. When the average loss is
 * 0 the RSI is 100, or 0 if the average gain is 0 too (ta4j 0.17's rule).
 *
 * <p>Seeds (see {@link Ema.Seed}): {@link Ema.Seed#FIRST_VALUE} is ta4j 0.17's {@code
 * RSIIndicator}: the first bar contributes a gain and a loss of 0 and the averages start there, so
 * the RSI is defined from bar 0. {@link Ema.Seed#SIMPLE_MEAN} is Wilder's and StockCharts': the
 * first averages are the means of the first {@code n} changes, so the first RSI is at bar {@code
 * n}. Not thread-safe.
 */
public final class Rsi {

    private final Ema averageGain;
    private final Ema averageLoss;
    private final Ema.Seed seed;
    private double previousClose = Double.NaN;
    private double value = Double.NaN;

    /**
     * @param barCount averaging period in bars, {@code >= 1} (Wilder: 14)
     * @param seed how the averages start
     */
    public Rsi(int barCount, Ema.Seed seed) {
        this.averageGain = Ema.wilder(barCount, seed);
        this.averageLoss = Ema.wilder(barCount, seed);
        this.seed = seed;
    }

    /**
     * Adds one close.
     *
     * @param close the bar's close, finite
     * @return the RSI after this bar, in {@code [0, 100]}, NaN while undefined
     */
    public double update(double close) {
        if (Double.isNaN(previousClose)) {
            previousClose = close;
            if (seed == Ema.Seed.SIMPLE_MEAN) {
                return value;
            }
            averageGain.update(0.0);
            averageLoss.update(0.0);
        } else {
            double gain = close > previousClose ? close - previousClose : 0.0;
            double loss = close < previousClose ? previousClose - close : 0.0;
            previousClose = close;
            averageGain.update(gain);
            averageLoss.update(loss);
        }
        double g = averageGain.value();
        double l = averageLoss.value();
        if (Double.isNaN(g)) {
            value = Double.NaN;
        } else if (l == 0.0) {
            value = g == 0.0 ? 0.0 : 100.0;
        } else {
            value = 100.0 - 100.0 / (1.0 + g / l);
        }
        return value;
    }

    /**
     * The current RSI.
     *
     * @return in {@code [0, 100]}, NaN while undefined
     */
    public double value() {
        return value;
    }
}

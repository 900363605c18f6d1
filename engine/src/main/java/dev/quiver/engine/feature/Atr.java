package dev.quiver.engine.feature;

/**
 * Streaming Average True Range (J. W. Wilder, "New Concepts in Technical Trading Systems", 1978),
 * O(1) per bar, no allocation. Units: the price's units (quote currency), {@code >= 0}.
 *
 * <p>True range {@code TR_t = max(high - low, |high - close_{t-1}|, |close_{t-1} - low|)}; on the
 * first bar {@code TR_0 = high - low}. ATR is the Wilder moving average (alpha {@code 1 / n}) of
 * TR. {@link Ema.Seed#FIRST_VALUE} (ta4j 0.17 {@code ATRIndicator}) gives {@code ATR_0 = TR_0};
 * {@link Ema.Seed#SIMPLE_MEAN} (Wilder, StockCharts) starts with the mean of the first {@code n}
 * TRs. Not thread-safe.
 */
public final class Atr {

    private final Ema average;
    private double previousClose = Double.NaN;
    private double trueRange = Double.NaN;

    /**
     * @param barCount averaging period in bars, {@code >= 1} (Wilder: 14)
     * @param seed how the average starts
     */
    public Atr(int barCount, Ema.Seed seed) {
        this.average = Ema.wilder(barCount, seed);
    }

    /**
     * Adds one bar.
     *
     * @param high the bar's high
     * @param low the bar's low
     * @param close the bar's close
     * @return the ATR after this bar, NaN while a {@link Ema.Seed#SIMPLE_MEAN} seed is incomplete
     */
    public double update(double high, double low, double close) {
        double hl = Math.abs(high - low);
        if (Double.isNaN(previousClose)) {
            trueRange = hl;
        } else {
            double hc = Math.abs(high - previousClose);
            double cl = Math.abs(previousClose - low);
            trueRange = Math.max(Math.max(hl, hc), cl);
        }
        previousClose = close;
        return average.update(trueRange);
    }

    /**
     * The latest true range.
     *
     * @return {@code >= 0}, NaN before the first bar
     */
    public double trueRange() {
        return trueRange;
    }

    /**
     * The current ATR.
     *
     * @return {@code >= 0}, NaN while undefined
     */
    public double value() {
        return average.value();
    }
}

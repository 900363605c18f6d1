package dev.quiver.engine.trading;

/**
 * Trailing realised payoff ratio {@code b} of 1-bar returns, point-in-time, O(1) per bar, updated
 * one close at a time.
 *
 * <p>{@code b[t] = mean of positive r / mean of |negative r|} over the returns {@code r_j =
 * close[j] / close[j-1] - 1} for {@code j} in {@code (t - window, t]}; 1.0 when the window holds no
 * gain or no loss yet. Uses only closes up to {@code t}. {@link #trailing} runs this over a whole
 * series, so the backtest's array and a live session's running value are the same numbers bit for
 * bit when both start at the same bar. Not thread-safe.
 */
public final class PayoffRatio {

    private final int window;
    private final double[] ring;
    private long count;
    private double previousClose = Double.NaN;
    private double gainSum;
    private double lossSum;
    private int gains;
    private int losses;
    private double value = 1.0;

    /**
     * Creates a ratio that has seen no close.
     *
     * @param window returns in the trailing window, {@code >= 1}
     * @throws IllegalArgumentException if {@code window < 1}
     */
    public PayoffRatio(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("payoff window must be >= 1 bar, was " + window);
        }
        this.window = window;
        this.ring = new double[window + 1];
    }

    /**
     * Adds the next close.
     *
     * @param close the next bar's close, {@code > 0}
     * @return the ratio after it
     */
    public double update(double close) {
        long t = count++;
        // Branch-free on the sign of each return (up and down bars alternate unpredictably):
        // adding or subtracting +0.0 leaves a sum unchanged, so the sums are the ones the
        // "only when r > 0 / r < 0" formulation gives, bit for bit.
        if (t >= 1) {
            double x = close / previousClose - 1;
            ring[(int) (t % ring.length)] = x;
            gainSum += Math.max(x, 0.0);
            gains += x > 0 ? 1 : 0;
            lossSum -= Math.min(x, 0.0);
            losses += x < 0 ? 1 : 0;
        }
        previousClose = close;
        long out = t - window;
        if (out >= 1) {
            double x = ring[(int) (out % ring.length)];
            gainSum -= Math.max(x, 0.0);
            gains -= x > 0 ? 1 : 0;
            lossSum += Math.min(x, 0.0);
            losses -= x < 0 ? 1 : 0;
        }
        value =
                gains > 0 && losses > 0 && gainSum > 0 && lossSum > 0
                        ? (gainSum / gains) / (lossSum / losses)
                        : 1.0;
        return value;
    }

    /**
     * The ratio after the last close.
     *
     * @return {@code > 0}; 1.0 before a gain and a loss are both in the window
     */
    public double value() {
        return value;
    }

    /**
     * The ratio at every bar of a series.
     *
     * @param close the closes, oldest first
     * @param window returns in the trailing window, {@code >= 1}
     * @return {@code b[t]} for every {@code t}
     */
    public static double[] trailing(double[] close, int window) {
        PayoffRatio r = new PayoffRatio(window);
        double[] b = new double[close.length];
        for (int t = 0; t < close.length; t++) {
            b[t] = r.update(close[t]);
        }
        return b;
    }
}

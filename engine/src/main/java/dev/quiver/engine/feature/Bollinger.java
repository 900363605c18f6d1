package dev.quiver.engine.feature;

/**
 * Streaming Bollinger Bands (J. Bollinger, "Bollinger on Bollinger Bands", 2001), O(1) amortized
 * per bar, no allocation. Units: price units, except %B and width (dimensionless).
 *
 * <p>{@code middle = SMA_n(close)}, {@code upper/lower = middle +/- k * sigma}, where {@code sigma}
 * is the <em>population</em> standard deviation of the last {@code n} closes (Bollinger's
 * definition and ta4j 0.17's {@code StandardDeviationIndicator}); before {@code n} closes the
 * window is the closes so far (ta4j). {@code %B = (close - lower) / (upper - lower)}, NaN when the
 * bands coincide; {@code width = (upper - lower) / middle}, a fraction (ta4j's {@code
 * BollingerBandWidthIndicator} is the same times 100). Not thread-safe.
 */
public final class Bollinger {

    private final RollingWindow window;
    private final double k;
    private double close = Double.NaN;
    private double middle = Double.NaN;
    private double deviation = Double.NaN;

    /**
     * @param barCount window in bars (Bollinger: 20)
     * @param k band width in standard deviations (Bollinger: 2)
     */
    public Bollinger(int barCount, double k) {
        this.window = new RollingWindow(barCount);
        this.k = k;
    }

    /**
     * Adds one close.
     *
     * @param close the bar's close
     */
    public void update(double close) {
        this.close = close;
        window.update(close);
        middle = window.mean();
        deviation = window.std();
    }

    /**
     * The middle band.
     *
     * @return SMA of the window
     */
    public double middle() {
        return middle;
    }

    /**
     * The upper band.
     *
     * @return {@code middle + k * sigma}
     */
    public double upper() {
        return middle + deviation * k;
    }

    /**
     * The lower band.
     *
     * @return {@code middle - k * sigma}
     */
    public double lower() {
        return middle - deviation * k;
    }

    /**
     * Position of the close within the bands: 0 at the lower band, 1 at the upper, outside {@code
     * [0, 1]} beyond them.
     *
     * @return {@code (close - lower) / (upper - lower)}, NaN when {@code upper == lower}
     */
    public double percentB() {
        double lower = lower();
        double range = upper() - lower;
        return range == 0.0 ? Double.NaN : (close - lower) / range;
    }

    /**
     * Band width relative to the middle band.
     *
     * @return {@code (upper - lower) / middle}, a fraction {@code >= 0} for positive prices
     */
    public double width() {
        double lower = lower();
        return (upper() - lower) / middle;
    }
}

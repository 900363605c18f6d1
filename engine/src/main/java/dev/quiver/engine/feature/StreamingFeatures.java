package dev.quiver.engine.feature;

import dev.quiver.api.market.Bar;
import java.util.Arrays;

/**
 * The {@link FeaturePipeline#SCHEMA} features of the latest bar, updated one bar at a time: O(1)
 * (amortized) per bar, primitive doubles, no allocation per bar. {@link FeaturePipeline#compute}
 * runs this over a whole series, and serving runs it bar by bar, so both see the same numbers.
 *
 * <p>Definitions, in schema order ({@code c} close, {@code v} volume, {@code t} the latest bar):
 *
 * <ol>
 *   <li>{@code log_return_1 = ln(c_t / c_{t-1})}
 *   <li>{@code rsi_14}: Wilder RSI(14), in [0, 100]
 *   <li>{@code macd_12_26 = EMA12(c) - EMA26(c)}, price units
 *   <li>{@code macd_signal_9 = EMA9(macd_12_26)}, price units
 *   <li>{@code macd_hist_12_26_9 = macd_12_26 - macd_signal_9}, price units
 *   <li>{@code macd_hist_pct = macd_hist_12_26_9 / c_t}, a fraction
 *   <li>{@code bb_percent_b_20_2 = (c - lower) / (upper - lower)} of Bollinger(20, 2) with the
 *       population standard deviation; <b>declared rule: 0.5 when {@code upper == lower}</b> (a
 *       flat window, the close is then on the middle band)
 *   <li>{@code bb_width_20_2 = (upper - lower) / middle}, a fraction
 *   <li>{@code atr_14}: Wilder ATR(14), price units
 *   <li>{@code atr_pct_14 = atr_14 / c_t}, a fraction
 *   <li>{@code volume_ratio_20 = v_t / SMA20(v)}; <b>declared rule: 1.0 when the last 20 volumes
 *       are all 0</b> (no volume information, so "ordinary volume")
 * </ol>
 *
 * <p>Every exponential average is seeded with its first input, exactly as ta4j 0.17 does (so the
 * values equal ta4j's on every bar); the seed's influence then decays geometrically. The features
 * are reported only from bar {@link #FIRST_WARM_INDEX} on, where the seed's weight in each Wilder
 * average is {@code (13/14)^63 < 0.01} and in EMA26 {@code (25/27)^63 < 0.01}: below 1%. Before
 * that, {@link #update} returns false and {@link #copyValues} writes NaN.
 *
 * <p>Point-in-time by construction: the state after bar t depends only on bars {@code [0, t]}. Not
 * thread-safe: one instance per series and thread.
 */
public final class StreamingFeatures {

    /**
     * Index (0-based) of the first bar whose features are reported: 64. At that bar every seeded
     * average gives its seed a weight below 1% (see the class comment); it is also past the 33 bars
     * MACD's conventional SMA seeding would need and the 20-bar Bollinger window.
     */
    public static final int FIRST_WARM_INDEX = 64;

    /** Declared value of {@code bb_percent_b_20_2} when the bands coincide. */
    public static final double PERCENT_B_WHEN_FLAT = 0.5;

    /** Declared value of {@code volume_ratio_20} when the last 20 volumes are all 0. */
    public static final double VOLUME_RATIO_WHEN_NO_VOLUME = 1.0;

    private static final int FEATURE_COUNT = 11;

    private final Rsi rsi = new Rsi(14, Ema.Seed.FIRST_VALUE);
    private final Macd macd = new Macd(12, 26, 9);
    private final Bollinger bollinger = new Bollinger(20, 2.0);
    private final Atr atr = new Atr(14, Ema.Seed.FIRST_VALUE);
    private final RollingWindow volumes = new RollingWindow(20);
    private long bars;
    private double previousClose = Double.NaN;
    private double logReturn = Double.NaN;
    private double close = Double.NaN;
    private double volume = Double.NaN;

    /** Creates a pipeline that has seen no bar. */
    public StreamingFeatures() {}

    /**
     * Adds the next bar.
     *
     * @param bar the next bar (validated by its record)
     * @return true if the features are warm, i.e. this is bar {@link #FIRST_WARM_INDEX} or later
     */
    public boolean update(Bar bar) {
        return update(bar.open(), bar.high(), bar.low(), bar.close(), bar.volume());
    }

    /**
     * Adds the next bar.
     *
     * @param open the bar's open price ({@code > 0}; unused by the current schema)
     * @param high the bar's high price
     * @param low the bar's low price
     * @param close the bar's close price, {@code > 0}
     * @param volume the bar's volume, {@code >= 0}
     * @return true if the features are warm, i.e. this is bar {@link #FIRST_WARM_INDEX} or later
     */
    public boolean update(double open, double high, double low, double close, double volume) {
        logReturn = Double.isNaN(previousClose) ? Double.NaN : Math.log(close / previousClose);
        previousClose = close;
        this.close = close;
        this.volume = volume;
        rsi.update(close);
        macd.update(close);
        bollinger.update(close);
        atr.update(high, low, close);
        volumes.update(volume);
        bars++;
        return isWarm();
    }

    /**
     * Whether the features are reported.
     *
     * @return true once {@link #FIRST_WARM_INDEX} + 1 bars have been added
     */
    public boolean isWarm() {
        return bars > FIRST_WARM_INDEX;
    }

    /**
     * Number of bars added.
     *
     * @return {@code >= 0}
     */
    public long barCount() {
        return bars;
    }

    /**
     * Writes the latest bar's features in schema order.
     *
     * @param out {@code double[FeaturePipeline.SCHEMA.size()]} (or longer: only the first {@code
     *     SCHEMA.size()} elements are written)
     * @throws IllegalArgumentException if {@code out} is too short
     */
    public void copyValues(double[] out) {
        if (out.length < FEATURE_COUNT) {
            throw new IllegalArgumentException(
                    "output has " + out.length + " slots, the schema needs " + FEATURE_COUNT);
        }
        if (!isWarm()) {
            Arrays.fill(out, 0, FEATURE_COUNT, Double.NaN);
            return;
        }
        double percentB = bollinger.percentB();
        double hist = macd.histogram();
        double atrValue = atr.value();
        out[0] = logReturn;
        out[1] = rsi.value();
        out[2] = macd.line();
        out[3] = macd.signal();
        out[4] = hist;
        out[5] = hist / close;
        out[6] = Double.isNaN(percentB) ? PERCENT_B_WHEN_FLAT : percentB;
        out[7] = bollinger.width();
        out[8] = atrValue;
        out[9] = atrValue / close;
        out[10] = volumes.allZero() ? VOLUME_RATIO_WHEN_NO_VOLUME : volume / volumes.mean();
    }
}

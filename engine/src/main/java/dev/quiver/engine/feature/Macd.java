package dev.quiver.engine.feature;

/**
 * Streaming Moving Average Convergence/Divergence (G. Appel, "The Moving Average
 * Convergence-Divergence Trading Method", 1979), O(1) per bar, no allocation. Units: price units.
 *
 * <p>{@code line = EMA_fast(close) - EMA_slow(close)}; {@code signal = EMA_signal(line)}; {@code
 * histogram = line - signal}. Every EMA is seeded with its first input (ta4j 0.17 {@code
 * MACDIndicator} and {@code getSignalLine}), so all three are defined from bar 0; they are
 * meaningful once the slow EMA has seen several multiples of its period. Not thread-safe.
 */
public final class Macd {

    private final Ema fast;
    private final Ema slow;
    private final Ema signal;
    private double line = Double.NaN;

    /**
     * @param fastBarCount fast EMA period (Appel: 12)
     * @param slowBarCount slow EMA period (Appel: 26), {@code >= fastBarCount}
     * @param signalBarCount signal EMA period (Appel: 9)
     */
    public Macd(int fastBarCount, int slowBarCount, int signalBarCount) {
        if (fastBarCount > slowBarCount) {
            throw new IllegalArgumentException(
                    "fast period " + fastBarCount + " > slow period " + slowBarCount);
        }
        this.fast = Ema.standard(fastBarCount);
        this.slow = Ema.standard(slowBarCount);
        this.signal = Ema.standard(signalBarCount);
    }

    /**
     * Adds one close.
     *
     * @param close the bar's close
     */
    public void update(double close) {
        line = fast.update(close) - slow.update(close);
        signal.update(line);
    }

    /**
     * The MACD line.
     *
     * @return fast EMA minus slow EMA, NaN before the first bar
     */
    public double line() {
        return line;
    }

    /**
     * The signal line.
     *
     * @return EMA of the MACD line, NaN before the first bar
     */
    public double signal() {
        return signal.value();
    }

    /**
     * The histogram.
     *
     * @return {@code line() - signal()}
     */
    public double histogram() {
        return line - signal.value();
    }
}

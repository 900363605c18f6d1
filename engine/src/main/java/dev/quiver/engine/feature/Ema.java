package dev.quiver.engine.feature;

/**
 * Streaming exponential moving average {@code e_t = (x_t - e_{t-1}) * alpha + e_{t-1}}, O(1) per
 * value, no allocation.
 *
 * <p>Two smoothing constants: Appel/standard EMA {@code alpha = 2 / (n + 1)} and Wilder's moving
 * average (J. W. Wilder, "New Concepts in Technical Trading Systems", 1978; ta4j's {@code
 * MMAIndicator}) {@code alpha = 1 / n}. Two seeds:
 *
 * <ul>
 *   <li>{@link Seed#FIRST_VALUE}: {@code e_0 = x_0}, defined from the first value on. This is ta4j
 *       0.17's {@code AbstractEMAIndicator} convention, and the one the feature pipeline uses so
 *       that it equals ta4j on every bar.
 *   <li>{@link Seed#SIMPLE_MEAN}: undefined (NaN) for the first {@code n - 1} values, {@code
 *       e_{n-1}} = mean of the first {@code n} values, recursive after that. This is Wilder's and
 *       StockCharts' convention.
 * </ul>
 *
 * <p>The update keeps ta4j's operation order, so with doubles the values are bit-identical to ta4j
 * with {@code DoubleNum}. Not thread-safe.
 */
public final class Ema {

    /** How the average starts. */
    public enum Seed {
        /** {@code e_0 = x_0} (ta4j 0.17). */
        FIRST_VALUE,
        /** {@code e_{n-1}} = simple mean of the first {@code n} values (Wilder 1978). */
        SIMPLE_MEAN
    }

    private final int barCount;
    private final double alpha;
    private final Seed seed;
    private long count;
    private double seedSum;
    private double value = Double.NaN;

    private Ema(int barCount, double alpha, Seed seed) {
        if (barCount < 1) {
            throw new IllegalArgumentException("barCount must be >= 1, was " + barCount);
        }
        this.barCount = barCount;
        this.alpha = alpha;
        this.seed = seed;
    }

    /**
     * Standard EMA, {@code alpha = 2 / (barCount + 1)}, seeded with the first value (ta4j).
     *
     * @param barCount period in bars, {@code >= 1}
     * @return a new average
     */
    public static Ema standard(int barCount) {
        return new Ema(barCount, 2.0 / (barCount + 1), Seed.FIRST_VALUE);
    }

    /**
     * Wilder's moving average, {@code alpha = 1 / barCount}.
     *
     * @param barCount period in bars, {@code >= 1}
     * @param seed how it starts
     * @return a new average
     */
    public static Ema wilder(int barCount, Seed seed) {
        return new Ema(barCount, 1.0 / barCount, seed);
    }

    /**
     * Adds one value.
     *
     * @param x the next input, finite
     * @return the average after {@code x}, NaN while a {@link Seed#SIMPLE_MEAN} seed is incomplete
     */
    public double update(double x) {
        count++;
        if (count == 1 && seed == Seed.FIRST_VALUE) {
            value = x;
        } else if (seed == Seed.SIMPLE_MEAN && count <= barCount) {
            seedSum += x;
            value = count == barCount ? seedSum / barCount : Double.NaN;
        } else {
            double previous = value;
            value = (x - previous) * alpha + previous;
        }
        return value;
    }

    /**
     * The current average.
     *
     * @return NaN before the first value (or while the seed is incomplete)
     */
    public double value() {
        return value;
    }

    /**
     * Number of values seen.
     *
     * @return {@code >= 0}
     */
    public long count() {
        return count;
    }
}

package dev.quiver.engine.feature;

/**
 * Simple moving average and population standard deviation over the last {@code n} values, O(1)
 * amortized per value, no allocation after construction.
 *
 * <p>Conventions are ta4j 0.17's ({@code SMAIndicator}, {@code VarianceIndicator}): before {@code
 * n} values exist, the window is the values so far (mean and variance over {@code min(n, count)}
 * values); variance is the population variance {@code sum((x_i - mean)^2) / m}. The mean is a
 * running total ({@code sum += x_new; sum -= x_old}) divided by the window length, exactly as
 * ta4j's {@code RunningTotalIndicator} does on serial access, so it is bit-identical to ta4j with
 * {@code DoubleNum}.
 *
 * <p>The variance uses sums of deviations from a shift {@code K} (a recent mean), {@code var = (S2
 * - S1^2 / m) / m} with {@code S1 = sum(x - K)}, {@code S2 = sum((x - K)^2)}, which avoids the
 * cancellation of the textbook {@code E[x^2] - E[x]^2}. Every {@code n} values {@code K}, {@code
 * S1} and {@code S2} are recomputed from the window (O(n) once per {@code n} values, hence O(1)
 * amortized), which bounds floating-point drift; the result agrees with ta4j's two-pass variance to
 * about 1e-14 relative. Not thread-safe.
 */
public final class RollingWindow {

    private final int barCount;
    private final double[] window;
    private int next;
    private long count;
    private double sum;
    private int zeros;
    private double shift;
    private double shiftedSum;
    private double shiftedSquares;
    private int sinceRecompute;

    /**
     * @param barCount window length in values, {@code >= 1}
     */
    public RollingWindow(int barCount) {
        if (barCount < 1) {
            throw new IllegalArgumentException("barCount must be >= 1, was " + barCount);
        }
        this.barCount = barCount;
        this.window = new double[barCount];
    }

    /**
     * Adds one value, dropping the oldest once the window is full.
     *
     * @param x the next value, finite
     */
    public void update(double x) {
        boolean full = count >= barCount;
        double old = window[next];
        window[next] = x;
        next = next == barCount - 1 ? 0 : next + 1;
        count++;
        sum = sum + x;
        if (full) {
            sum = sum - old;
        }
        if (x == 0.0) {
            zeros++;
        }
        if (full && old == 0.0) {
            zeros--;
        }
        if (count == 1) {
            shift = x;
        }
        double d = x - shift;
        shiftedSum += d;
        shiftedSquares += d * d;
        if (full) {
            double o = old - shift;
            shiftedSum -= o;
            shiftedSquares -= o * o;
        }
        if (++sinceRecompute >= barCount) {
            recomputeShiftedSums();
        }
    }

    private void recomputeShiftedSums() {
        int m = length();
        double total = 0.0;
        for (int i = 0; i < m; i++) {
            total += window[i];
        }
        shift = total / m;
        double s1 = 0.0;
        double s2 = 0.0;
        for (int i = 0; i < m; i++) {
            double d = window[i] - shift;
            s1 += d;
            s2 += d * d;
        }
        shiftedSum = s1;
        shiftedSquares = s2;
        sinceRecompute = 0;
    }

    /**
     * Number of values in the window.
     *
     * @return {@code min(n, count)}
     */
    public int length() {
        return (int) Math.min(barCount, count);
    }

    /**
     * Number of values seen since construction.
     *
     * @return {@code >= 0}
     */
    public long count() {
        return count;
    }

    /**
     * Simple moving average of the window.
     *
     * @return the mean, NaN before the first value
     */
    public double mean() {
        return count == 0 ? Double.NaN : sum / length();
    }

    /**
     * Whether every value in the window is exactly zero (then {@link #mean()} is 0 by definition,
     * whatever rounding the running total carries).
     *
     * @return true if the window is non-empty and all zero
     */
    public boolean allZero() {
        return count > 0 && zeros == length();
    }

    /**
     * Population variance of the window, {@code sum((x_i - mean)^2) / m}.
     *
     * @return {@code >= 0}, NaN before the first value
     */
    public double variance() {
        if (count == 0) {
            return Double.NaN;
        }
        int m = length();
        double v = (shiftedSquares - shiftedSum * shiftedSum / m) / m;
        return v > 0.0 ? v : 0.0;
    }

    /**
     * Population standard deviation of the window.
     *
     * @return {@code sqrt(variance())}
     */
    public double std() {
        return Math.sqrt(variance());
    }
}

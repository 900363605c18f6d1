package dev.quiver.engine.portfolio;

/**
 * {@link PortfolioBook#trailingMeanGain} one close at a time: the trailing mean of the positive
 * one-bar simple returns over {@code window} bars, through the last close added. It performs the
 * floating-point operations the batch method is made of (a running sum from the first close on), at
 * a constant cost per close and in constant memory: it keeps the last {@code window + 2} closes,
 * all that the newest return and the one leaving the window need.
 *
 * <p>Not thread-safe.
 */
public final class TrailingMeanGain {

    private final int window;
    private final double[] ring;
    private long n;
    private double sum;
    private int count;
    private double value;

    /**
     * An empty accumulator.
     *
     * @param window bars, {@code >= 1}
     * @throws IllegalArgumentException if {@code window < 1}
     */
    public TrailingMeanGain(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("mean-gain window " + window + " bars: at least 1");
        }
        this.window = window;
        this.ring = new double[Math.addExact(window, 2)];
    }

    private double close(long t) {
        return ring[(int) (t % ring.length)];
    }

    /**
     * Adds the next close.
     *
     * @param next the close, after every close added before
     * @return the mean gain through it, a fraction per bar, {@code >= 0} (0 where there is none)
     */
    public double add(double next) {
        long t = n++;
        ring[(int) (t % ring.length)] = next;
        if (t == 0) {
            value = 0;
            return value;
        }
        double r = close(t) / close(t - 1) - 1;
        if (r > 0) {
            sum += r;
            count++;
        }
        long drop = t - window;
        if (drop >= 1) {
            double old = close(drop) / close(drop - 1) - 1;
            if (old > 0) {
                sum -= old;
                count--;
            }
        }
        value = count > 0 ? Math.max(0, sum / count) : 0;
        return value;
    }

    /**
     * The mean gain through the last close added.
     *
     * @return a fraction per bar, {@code >= 0}; 0 before two closes
     */
    public double value() {
        return value;
    }
}

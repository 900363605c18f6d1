package dev.quiver.host.rollout;

/**
 * Running count, mean and sum of squared deviations of a stream of values, by Welford's update (B.
 * P. Welford, "Note on a Method for Calculating Corrected Sums of Squares and Products",
 * Technometrics 4(3), 1962), which stays accurate where {@code sum(x^2) - n mean^2} cancels.
 *
 * @param n values seen, {@code >= 0}
 * @param mean their mean (0 when {@code n = 0})
 * @param m2 sum of squared deviations from the mean, {@code >= 0}
 */
public record Moments(long n, double mean, double m2) {

    /** No values. */
    public static final Moments EMPTY = new Moments(0, 0, 0);

    /**
     * Validates.
     *
     * @throws IllegalArgumentException if {@code n < 0}, {@code m2 < 0} or a value is not finite
     */
    public Moments {
        if (n < 0 || !(m2 >= 0) || !Double.isFinite(mean) || Double.isInfinite(m2)) {
            throw new IllegalArgumentException(
                    "moments must have n >= 0, finite mean and m2 >= 0: n="
                            + n
                            + ", mean="
                            + mean
                            + ", m2="
                            + m2);
        }
    }

    /**
     * The moments with one more value.
     *
     * @param x a finite value
     * @return the updated moments
     * @throws IllegalArgumentException if {@code x} is not finite
     */
    public Moments plus(double x) {
        if (!Double.isFinite(x)) {
            throw new IllegalArgumentException("value must be finite, was " + x);
        }
        long n1 = n + 1;
        double delta = x - mean;
        double mean1 = mean + delta / n1;
        return new Moments(n1, mean1, m2 + delta * (x - mean1));
    }

    /**
     * The unbiased sample variance.
     *
     * @return {@code m2 / (n - 1)}, NaN when {@code n < 2}
     */
    public double variance() {
        return n < 2 ? Double.NaN : m2 / (n - 1);
    }
}

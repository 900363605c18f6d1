package dev.quiver.host.store;

/**
 * Welford moments of a stream of values as the store keeps them (columns {@code *_n}, {@code
 * *_mean}, {@code *_m2}).
 *
 * @param n values seen, {@code >= 0}
 * @param mean their mean, finite
 * @param m2 sum of squared deviations from the mean, finite and {@code >= 0}
 */
public record MomentsRow(long n, double mean, double m2) {

    /** Checks the fields; -0.0 becomes 0.0. */
    public MomentsRow {
        if (n < 0) {
            throw new IllegalArgumentException("MomentsRow.n must be >= 0 (value: " + n + ")");
        }
        mean = Checks.finite("MomentsRow", "mean", mean);
        m2 = Checks.finite("MomentsRow", "m2", m2);
        if (m2 < 0) {
            throw new IllegalArgumentException("MomentsRow.m2 must be >= 0 (value: " + m2 + ")");
        }
    }
}

package dev.quiver.plugins.adaptive;

import dev.quiver.api.sizing.ScoredOutcome;

/**
 * Temperature scaling ({@link TemperatureScaling}) refitted after every outcome on a rolling window
 * of the last {@code window} scored outcomes, with an adaptive minimum confidence.
 *
 * <p>Declared rules:
 *
 * <ul>
 *   <li>until the window is full, {@code T = 1} (the probability passes unchanged) and the
 *       calibrator is not {@linkplain #ready() ready};
 *   <li>then, after each outcome, {@code T} is refitted on the window (warm-started from the last
 *       fit, so deterministic for the same sequence of outcomes);
 *   <li>the minimum confidence is {@code 2 * ECE}, the expected calibration error of the scaled
 *       probabilities on the same window (10 equal-width bins): the scaled probability is off by
 *       about ECE on average, so a confidence {@code |2p' - 1|} below {@code 2 * ECE} (that is,
 *       {@code |p' - 0.5| < ECE}) cannot be told apart from the calibrator's own error.
 * </ul>
 *
 * <p>Not thread-safe; the owning policy serialises calls.
 */
final class AdaptiveCalibrator {

    /** Calibration bins of the window's ECE (as the report's). */
    static final int BINS = 10;

    private final int window;
    private final double[] z;
    private final boolean[] up;
    private int size;
    private int next;
    private long observed;
    private java.time.Instant lastBar;
    private double beta = 1;
    private double minConfidence = 1;

    /**
     * @param window outcomes kept, {@code >= 10}
     */
    AdaptiveCalibrator(int window) {
        if (window < 10) {
            throw new IllegalArgumentException("window must be >= 10: " + window);
        }
        this.window = window;
        this.z = new double[window];
        this.up = new boolean[window];
    }

    /** Forgets every outcome: back to {@code T = 1}, not ready. */
    void reset() {
        size = 0;
        next = 0;
        observed = 0;
        lastBar = null;
        beta = 1;
        minConfidence = 1;
    }

    /**
     * Adds an outcome, drops the oldest beyond the window, refits.
     *
     * @throws IllegalArgumentException if its bar is not after the last observed one
     */
    void observe(ScoredOutcome o) {
        if (lastBar != null && !o.barTime().isAfter(lastBar)) {
            throw new IllegalArgumentException(
                    "outcome of bar "
                            + o.barTime()
                            + " is not after the last observed bar "
                            + lastBar
                            + " (outcomes must come in bar order, each once)");
        }
        lastBar = o.barTime();
        z[next] = TemperatureScaling.logit(o.probabilityUp());
        up[next] = o.up();
        next = (next + 1) % window;
        size = Math.min(window, size + 1);
        observed++;
        if (size == window) {
            beta = TemperatureScaling.fitBeta(z, up, size, beta);
            minConfidence = 2 * TemperatureScaling.ece(z, up, size, beta, BINS);
        }
    }

    /** Whether the window is full (before that, {@code T = 1} and the policy abstains). */
    boolean ready() {
        return size == window;
    }

    /** The scaled probability, {@code sigmoid(logit(p) / T)}. */
    double calibrate(double p) {
        return beta == 1 ? p : TemperatureScaling.scale(p, beta);
    }

    /** The fitted temperature {@code T = 1 / beta}; 1 until the window is full. */
    double temperature() {
        return 1 / beta;
    }

    /** The adaptive minimum confidence; 1 (abstain on everything) until the window is full. */
    double minConfidence() {
        return minConfidence;
    }

    int size() {
        return size;
    }

    long observed() {
        return observed;
    }

    int window() {
        return window;
    }
}

package dev.quiver.plugins.gbm;

import java.util.Arrays;

/**
 * Isotonic regression of outcomes on scores (pool-adjacent-violators; Zadrozny and Elkan 2002): the
 * non-decreasing step function of the score that best fits the 0/1 outcomes in squared error.
 * Between the centres of adjacent blocks the map is linearly interpolated (as scikit-learn's {@code
 * IsotonicRegression}); outside them it is constant. Outputs are clipped to {@code [CLIP, 1 -
 * CLIP]} so that one extreme block cannot make the log-loss infinite.
 *
 * <p>Immutable.
 */
final class IsotonicCalibration implements Calibrator {

    static final double CLIP = 0.005;

    private final double[] x; // block score centres, increasing
    private final double[] y; // block outcome means, non-decreasing

    private IsotonicCalibration(double[] x, double[] y) {
        this.x = x;
        this.y = y;
    }

    /**
     * Fits.
     *
     * @param scores predicted probabilities
     * @param up outcomes
     * @return the calibration
     */
    static IsotonicCalibration fit(double[] scores, boolean[] up) {
        int n = scores.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double[] sumY = new double[n];
        double[] sumX = new double[n];
        int[] count = new int[n];
        int blocks = 0;
        for (int k = 0; k < n; k++) {
            int i = order[k];
            sumY[blocks] = up[i] ? 1 : 0;
            sumX[blocks] = scores[i];
            count[blocks] = 1;
            blocks++;
            while (blocks > 1
                    && sumY[blocks - 2] / count[blocks - 2]
                            >= sumY[blocks - 1] / count[blocks - 1]) {
                sumY[blocks - 2] += sumY[blocks - 1];
                sumX[blocks - 2] += sumX[blocks - 1];
                count[blocks - 2] += count[blocks - 1];
                blocks--;
            }
        }
        double[] bx = new double[blocks];
        double[] by = new double[blocks];
        for (int b = 0; b < blocks; b++) {
            bx[b] = sumX[b] / count[b];
            by[b] = sumY[b] / count[b];
        }
        return new IsotonicCalibration(bx, by);
    }

    /**
     * The calibration with these block centres and values (a restored state): applies exactly as
     * the fitted one they were read from.
     *
     * @param x block score centres, non-decreasing, finite; copied
     * @param y block outcome means, in [0, 1], same length; copied
     * @throws IllegalArgumentException naming the index if the arrays do not describe a fit
     */
    static IsotonicCalibration of(double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException(
                    x.length + " thresholds but " + y.length + " values");
        }
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i]) || (i > 0 && x[i] < x[i - 1])) {
                throw new IllegalArgumentException(
                        "thresholds[" + i + "] = " + x[i] + " is not finite and non-decreasing");
            }
            if (!(y[i] >= 0 && y[i] <= 1) || (i > 0 && y[i] < y[i - 1])) {
                throw new IllegalArgumentException(
                        "values[" + i + "] = " + y[i] + " is not in [0, 1] and non-decreasing");
            }
        }
        return new IsotonicCalibration(x.clone(), y.clone());
    }

    /** Block score centres, a copy. */
    double[] thresholds() {
        return x.clone();
    }

    /** Block outcome means, a copy. */
    double[] values() {
        return y.clone();
    }

    /** The calibrated probability of score {@code p}. */
    @Override
    public double apply(double p) {
        double v;
        if (x.length == 0) {
            v = p;
        } else if (p <= x[0]) {
            v = y[0];
        } else if (p >= x[x.length - 1]) {
            v = y[y.length - 1];
        } else {
            int i = Arrays.binarySearch(x, p);
            if (i >= 0) {
                v = y[i];
            } else {
                int hi = -i - 1;
                int lo = hi - 1;
                double w = (p - x[lo]) / (x[hi] - x[lo]);
                v = y[lo] + w * (y[hi] - y[lo]);
            }
        }
        return Math.min(1 - CLIP, Math.max(CLIP, v));
    }

    int blocks() {
        return x.length;
    }

    @Override
    public String describe() {
        return "isotonic (" + blocks() + " blocks)";
    }
}

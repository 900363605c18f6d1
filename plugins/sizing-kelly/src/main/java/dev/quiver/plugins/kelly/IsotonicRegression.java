package dev.quiver.plugins.kelly;

import java.util.Arrays;

/**
 * Isotonic (monotone non-decreasing) regression by pool-adjacent-violators, used to calibrate a
 * classifier's scores into probabilities.
 *
 * <p>Fit: sort the pairs by score, start with one block per pair, and merge adjacent blocks while a
 * block's mean exceeds its right neighbour's, or both start at the same score (each merged block
 * takes the weighted mean). R. E. Barlow, D. J. Bartholomew, J. M. Bremner and H. D. Brunk,
 * "Statistical Inference under Order Restrictions" (1972); as a calibration method for classifier
 * scores, B. Zadrozny and C. Elkan, "Transforming Classifier Scores into Accurate Multiclass
 * Probability Estimates" (KDD 2002).
 *
 * <p>Predict: a step function, the value of the last block whose smallest score is {@code <=} the
 * score (the first block's value below the first score). Immutable and thread-safe.
 */
public final class IsotonicRegression {

    private final double[] blockStart;
    private final double[] blockValue;

    private IsotonicRegression(double[] blockStart, double[] blockValue) {
        this.blockStart = blockStart;
        this.blockValue = blockValue;
    }

    /**
     * Fits on unit-weight pairs.
     *
     * @param scores the classifier's scores, finite, at least one
     * @param targets the outcomes (0/1 for calibration), finite, same length
     * @return the fitted monotone step function
     * @throws IllegalArgumentException if the arrays are empty or of different lengths
     */
    public static IsotonicRegression fit(double[] scores, double[] targets) {
        int n = scores.length;
        if (n == 0 || targets.length != n) {
            throw new IllegalArgumentException(
                    "need equal, non-zero lengths: "
                            + n
                            + " scores, "
                            + targets.length
                            + " targets");
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double[] sum = new double[n];
        double[] weight = new double[n];
        double[] start = new double[n];
        int blocks = 0;
        for (int j = 0; j < n; j++) {
            int i = order[j];
            sum[blocks] = targets[i];
            weight[blocks] = 1;
            start[blocks] = scores[i];
            blocks++;
            // a violator (left mean above right mean), or a tie in score, which must share a value
            while (blocks > 1
                    && (sum[blocks - 2] / weight[blocks - 2] > sum[blocks - 1] / weight[blocks - 1]
                            || start[blocks - 2] == start[blocks - 1])) {
                sum[blocks - 2] += sum[blocks - 1];
                weight[blocks - 2] += weight[blocks - 1];
                blocks--;
            }
        }
        double[] value = new double[blocks];
        for (int b = 0; b < blocks; b++) {
            value[b] = sum[b] / weight[b];
        }
        return new IsotonicRegression(Arrays.copyOf(start, blocks), value);
    }

    /**
     * The step function with these blocks (a restored state): predicts exactly as the fitted one
     * they were read from.
     *
     * @param blockStart each block's smallest score, finite and strictly increasing, at least one;
     *     copied
     * @param blockValue each block's value, finite and non-decreasing, same length; copied
     * @return the step function
     * @throws IllegalArgumentException naming the index if the arrays do not describe a fit
     */
    public static IsotonicRegression of(double[] blockStart, double[] blockValue) {
        if (blockStart.length == 0 || blockStart.length != blockValue.length) {
            throw new IllegalArgumentException(
                    "need equal, non-zero lengths: "
                            + blockStart.length
                            + " block starts, "
                            + blockValue.length
                            + " values");
        }
        for (int i = 0; i < blockStart.length; i++) {
            if (!Double.isFinite(blockStart[i]) || (i > 0 && blockStart[i] <= blockStart[i - 1])) {
                throw new IllegalArgumentException(
                        "block start ["
                                + i
                                + "] = "
                                + blockStart[i]
                                + " is not finite and above the one before");
            }
            if (!Double.isFinite(blockValue[i]) || (i > 0 && blockValue[i] < blockValue[i - 1])) {
                throw new IllegalArgumentException(
                        "block value ["
                                + i
                                + "] = "
                                + blockValue[i]
                                + " is not finite and at least the one before");
            }
        }
        return new IsotonicRegression(blockStart.clone(), blockValue.clone());
    }

    /**
     * The calibrated value of a score.
     *
     * @param score a score; NaN gives NaN
     * @return the fitted, non-decreasing step function at {@code score}
     */
    public double predict(double score) {
        if (Double.isNaN(score)) {
            return Double.NaN;
        }
        int i = Arrays.binarySearch(blockStart, score);
        int block = i >= 0 ? i : Math.max(0, -i - 2);
        return blockValue[block];
    }

    /**
     * The fitted values of the blocks, in score order.
     *
     * @return a copy
     */
    double[] blockValues() {
        return blockValue.clone();
    }

    /**
     * Each block's smallest score, increasing.
     *
     * @return a copy
     */
    double[] blockStarts() {
        return blockStart.clone();
    }
}

package dev.quiver.gbmtrees;

/**
 * Binary-classification tree ensemble evaluated in Java from a trained model's own dump: the sum of
 * one leaf per tree plus a base margin, in log-odds.
 *
 * <p>All trees live in flat arrays (one slot per node, trees concatenated), so one prediction is a
 * walk over primitive arrays with no allocation. Two split rules, as the libraries define them:
 *
 * <ul>
 *   <li>{@link Rule#XGBOOST}: go left iff {@code (float) x < (float) threshold} (XGBoost compares
 *       in float32; a missing value, never present here since frames are finite, follows {@code
 *       default_left});
 *   <li>{@link Rule#LIGHTGBM}: go left iff {@code x <= threshold} in double, except that with
 *       {@code missing_type=Zero} a value with {@code |x| <= 1e-35} follows {@code default_left}
 *       (LightGBM's {@code NumericalDecision}).
 * </ul>
 *
 * <p>Two ways to add the leaves up: {@link #margin} in double precision (what {@code ensemble-gbm}
 * serves; within 1e-5 of the library), and {@link #xgboostProbability} in float32 in XGBoost's own
 * order (base margin, then each tree's leaf in tree order, then XGBoost's float sigmoid), which
 * gives XGBoost4J's {@code predict} / {@code inplace_predict} result bit for bit (what {@code
 * kelly_ml} serves, whose calibration and reports were recorded with the library's values).
 *
 * <p>Immutable and thread-safe.
 */
public final class TreeEnsemble {

    /** Which library's split rule the thresholds follow. */
    public enum Rule {
        /** XGBoost: left iff {@code (float) x < (float) threshold}; NaN follows the default. */
        XGBOOST,
        /** LightGBM: left iff {@code x <= threshold} in double (zero-as-missing aside). */
        LIGHTGBM
    }

    private static final double ZERO_THRESHOLD = 1e-35;

    private final Rule rule;
    private final int features;
    private final double baseMargin;
    private final float baseMarginF;
    private final int[] roots;
    private final int[] feature; // -1 for a leaf
    private final double[] threshold;
    private final float[] thresholdF;
    private final int[] left;
    private final int[] right;
    private final boolean[] zeroIsMissing;
    private final boolean[] defaultLeft;
    private final double[] value; // leaf values
    private final float[] valueF; // leaf values as the library stores them (float32)

    /**
     * An ensemble over flat node arrays: node {@code j} of the concatenated trees is a leaf when
     * {@code feature[j] < 0} (its value in {@code value[j]}), else a split on {@code feature[j]} at
     * {@code threshold[j]} with children {@code left[j]} and {@code right[j]} (indices into the
     * same arrays). Every array has one slot per node; {@code roots} has one per tree. The arrays
     * are kept, not copied: the caller must not change them afterwards.
     *
     * @param rule the split rule of the library that trained the trees
     * @param features number of input features; every split feature is in {@code [0, features)}
     * @param baseMargin the margin before any tree, log-odds ({@link #margin})
     * @param baseMarginF the same margin as the library computes it in float32 ({@link
     *     #xgboostProbability}; for XGBoost {@code -logf(1 / base_score - 1)})
     * @param roots first node of each tree
     * @param feature split feature per node, {@code -1} for a leaf
     * @param threshold split threshold per node
     * @param left left child per node
     * @param right right child per node
     * @param zeroIsMissing per node, whether {@code |x| <= 1e-35} is missing (LightGBM)
     * @param defaultLeft per node, where a missing value goes
     * @param value leaf value per node, log-odds
     */
    public TreeEnsemble(
            Rule rule,
            int features,
            double baseMargin,
            float baseMarginF,
            int[] roots,
            int[] feature,
            double[] threshold,
            int[] left,
            int[] right,
            boolean[] zeroIsMissing,
            boolean[] defaultLeft,
            double[] value) {
        this.rule = rule;
        this.features = features;
        this.baseMargin = baseMargin;
        this.baseMarginF = baseMarginF;
        this.roots = roots;
        this.feature = feature;
        this.threshold = threshold;
        this.thresholdF = new float[threshold.length];
        for (int i = 0; i < threshold.length; i++) {
            thresholdF[i] = (float) threshold[i];
        }
        this.left = left;
        this.right = right;
        this.zeroIsMissing = zeroIsMissing;
        this.defaultLeft = defaultLeft;
        this.value = value;
        this.valueF = new float[value.length];
        for (int i = 0; i < value.length; i++) {
            valueF[i] = (float) value[i];
        }
    }

    /**
     * Number of input features.
     *
     * @return the row length every prediction takes
     */
    public int features() {
        return features;
    }

    /**
     * Number of trees.
     *
     * @return {@code >= 0}
     */
    public int trees() {
        return roots.length;
    }

    /**
     * The model's log-odds of an up move.
     *
     * @param x one row, {@code double[features()]}, finite
     * @return base margin plus one leaf value per tree, summed in double
     */
    public double margin(double[] x) {
        double sum = baseMargin;
        if (rule == Rule.XGBOOST) {
            for (int root : roots) {
                int n = root;
                int f;
                while ((f = feature[n]) >= 0) {
                    n = (float) x[f] < thresholdF[n] ? left[n] : right[n];
                }
                sum += value[n];
            }
        } else {
            for (int root : roots) {
                int n = root;
                int f;
                while ((f = feature[n]) >= 0) {
                    double v = x[f];
                    boolean goLeft =
                            zeroIsMissing[n] && Math.abs(v) <= ZERO_THRESHOLD
                                    ? defaultLeft[n]
                                    : v <= threshold[n];
                    n = goLeft ? left[n] : right[n];
                }
                sum += value[n];
            }
        }
        return sum;
    }

    /**
     * XGBoost's probability for one row ({@code binary:logistic}), computed as XGBoost 2.1's CPU
     * predictor does: a float32 sum starting at the base margin ({@code -logf(1 / base_score - 1)})
     * with each tree's float32 leaf added in tree order, then XGBoost's float sigmoid ({@code 1 /
     * (expf(-m) + 1 + 1e-16)}, {@code src/common/math.h}). A NaN feature follows the node's default
     * direction, as XGBoost treats a missing value.
     *
     * @param x one row, {@code float[features()]}, as passed to XGBoost4J
     * @return the probability XGBoost4J's {@code inplace_predict} returns for that row, in [0, 1]
     * @throws IllegalStateException if the trees are not XGBoost's
     */
    public float xgboostProbability(float[] x) {
        if (rule != Rule.XGBOOST) {
            throw new IllegalStateException("xgboostProbability on " + rule + " trees");
        }
        float sum = baseMarginF;
        for (int root : roots) {
            int n = root;
            int f;
            while ((f = feature[n]) >= 0) {
                float v = x[f];
                if (v != v) {
                    n = defaultLeft[n] ? left[n] : right[n];
                } else {
                    n = v < thresholdF[n] ? left[n] : right[n];
                }
            }
            sum += valueF[n];
        }
        return XgbMath.sigmoid(sum);
    }

    /**
     * The logistic function in double.
     *
     * @param margin log-odds
     * @return {@code 1 / (1 + exp(-margin))}, in [0, 1]
     */
    public static double sigmoid(double margin) {
        return 1.0 / (1.0 + Math.exp(-margin));
    }
}

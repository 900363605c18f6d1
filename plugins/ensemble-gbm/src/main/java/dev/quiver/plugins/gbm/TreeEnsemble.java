package dev.quiver.plugins.gbm;

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
 * <p>Immutable and thread-safe.
 */
final class TreeEnsemble {

    /** Which library's split rule the thresholds follow. */
    enum Rule {
        XGBOOST,
        LIGHTGBM
    }

    private static final double ZERO_THRESHOLD = 1e-35;

    private final Rule rule;
    private final int features;
    private final double baseMargin;
    private final int[] roots;
    private final int[] feature; // -1 for a leaf
    private final double[] threshold;
    private final float[] thresholdF;
    private final int[] left;
    private final int[] right;
    private final boolean[] zeroIsMissing;
    private final boolean[] defaultLeft;
    private final double[] value; // leaf values

    TreeEnsemble(
            Rule rule,
            int features,
            double baseMargin,
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
    }

    /** Number of input features. */
    int features() {
        return features;
    }

    /** Number of trees. */
    int trees() {
        return roots.length;
    }

    /**
     * The model's log-odds of an up move.
     *
     * @param x one row, {@code double[features()]}, finite
     * @return base margin plus one leaf value per tree
     */
    double margin(double[] x) {
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

    /** {@code 1 / (1 + exp(-margin))}. */
    static double sigmoid(double margin) {
        return 1.0 / (1.0 + Math.exp(-margin));
    }
}

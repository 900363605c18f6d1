package dev.quiver.engine.gate;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A training distribution of feature vectors and the distance of a new vector to it: the
 * Mahalanobis distance {@code d(x) = sqrt((z - 0)^T P z)}, with {@code z} the vector's standard
 * scores against the training span ({@code z_j = (x_j - mean_j) / scale_j}) and {@code P} the
 * inverse of the training span's shrunk correlation matrix (Ledoit-Wolf shrinkage towards the
 * identity, fitted by the host). The gate abstains when {@code d(x) > threshold}, the threshold
 * being a declared quantile of the training span's own distances, so about {@code 1 - quantile} of
 * the training bars themselves would abstain. The idea is FreqAI's Dissimilarity Index (a distance
 * to the training data above a threshold marks a prediction untrustworthy); the distance is
 * Mahalanobis rather than FreqAI's mean nearest-neighbour distance, so the state is a mean, a scale
 * and a matrix, not the training rows.
 *
 * <p>Immutable; {@link #distance} allocates nothing.
 *
 * @param features the features it reads, by name (a subset of the schema)
 * @param mean per feature, the training mean (the feature's unit)
 * @param scale per feature, the training standard deviation (the feature's unit), {@code > 0}
 * @param precision {@code features x features}, the inverse of the shrunk training correlation
 *     matrix, symmetric positive definite
 * @param threshold distance above which a vector is out of distribution, {@code > 0}
 * @param quantile the quantile of the training distances the threshold is, in {@code (0, 1)}
 * @param shrinkage the Ledoit-Wolf intensity the correlation matrix was shrunk with, in {@code [0,
 *     1]}
 * @param rows training rows it was fitted on
 */
public record Dissimilarity(
        List<String> features,
        double[] mean,
        double[] scale,
        double[][] precision,
        double threshold,
        double quantile,
        double shrinkage,
        int rows) {

    /**
     * The features the gate reads by default: the scale-free ones of {@code quiver-core} v1. The
     * price-unit features ({@code macd_12_26}, {@code macd_signal_9}, {@code macd_hist_12_26_9},
     * {@code atr_14}) are left out: their training distribution is a price level, so a market that
     * trends away from it would look "unlike the training span" on every bar; their scale-free
     * forms ({@code macd_hist_pct}, {@code atr_pct_14}) are in.
     */
    public static final List<String> DEFAULT_FEATURES =
            List.of(
                    "log_return_1",
                    "rsi_14",
                    "macd_hist_pct",
                    "bb_percent_b_20_2",
                    "bb_width_20_2",
                    "atr_pct_14",
                    "volume_ratio_20");

    /** How many of the most deviant features a verdict names. */
    public static final int DEVIANT_SHOWN = 3;

    /**
     * Validates shapes and ranges.
     *
     * @throws IllegalArgumentException naming the field when one is malformed
     */
    public Dissimilarity {
        features = List.copyOf(features);
        int p = features.size();
        if (p == 0) {
            throw new IllegalArgumentException("dissimilarity: features is empty");
        }
        if (mean.length != p || scale.length != p || precision.length != p) {
            throw new IllegalArgumentException(
                    "dissimilarity: mean, scale and precision must have "
                            + p
                            + " entries (one per feature), had "
                            + mean.length
                            + ", "
                            + scale.length
                            + ", "
                            + precision.length);
        }
        for (int j = 0; j < p; j++) {
            if (!Double.isFinite(mean[j])) {
                throw new IllegalArgumentException(
                        "dissimilarity: mean of " + features.get(j) + " is " + mean[j]);
            }
            if (!(scale[j] > 0) || !Double.isFinite(scale[j])) {
                throw new IllegalArgumentException(
                        "dissimilarity: scale of "
                                + features.get(j)
                                + " must be finite and > 0, was "
                                + scale[j]);
            }
            if (precision[j].length != p) {
                throw new IllegalArgumentException(
                        "dissimilarity: precision row " + j + " has " + precision[j].length);
            }
            for (double v : precision[j]) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException(
                            "dissimilarity: precision row " + j + " holds " + v);
                }
            }
        }
        if (!(threshold > 0) || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException(
                    "dissimilarity: threshold must be finite and > 0, was " + threshold);
        }
        if (!(quantile > 0 && quantile < 1)) {
            throw new IllegalArgumentException(
                    "dissimilarity: quantile must be in (0, 1), was " + quantile);
        }
        if (!(shrinkage >= 0 && shrinkage <= 1)) {
            throw new IllegalArgumentException(
                    "dissimilarity: shrinkage must be in [0, 1], was " + shrinkage);
        }
        mean = mean.clone();
        scale = scale.clone();
        double[][] copy = new double[p][];
        for (int j = 0; j < p; j++) {
            copy[j] = precision[j].clone();
        }
        precision = copy;
    }

    /**
     * The columns of {@link #features} in a schema.
     *
     * @param schema the frames' schema
     * @return per feature, its index in the schema
     * @throws IllegalArgumentException naming a feature the schema does not have
     */
    public int[] indexesIn(FeatureSchema schema) {
        int[] idx = new int[features.size()];
        for (int j = 0; j < idx.length; j++) {
            idx[j] = schema.names().indexOf(features.get(j));
            if (idx[j] < 0) {
                throw new IllegalArgumentException(
                        "the gate's feature '"
                                + features.get(j)
                                + "' is not in schema "
                                + schema.name()
                                + " v"
                                + schema.version());
            }
        }
        return idx;
    }

    /**
     * The Mahalanobis distance of a row's features to the training distribution.
     *
     * @param row a full feature row in schema order
     * @param idx {@link #indexesIn} of the row's schema
     * @return {@code >= 0}; {@code +Infinity} when a value is not finite or the distance overflows
     */
    public double distance(double[] row, int[] idx) {
        int p = idx.length;
        double sum = 0;
        for (int i = 0; i < p; i++) {
            double zi = (row[idx[i]] - mean[i]) / scale[i];
            if (!Double.isFinite(zi)) {
                return Double.POSITIVE_INFINITY;
            }
            double[] pi = precision[i];
            double inner = 0;
            for (int j = 0; j < p; j++) {
                inner += pi[j] * (row[idx[j]] - mean[j]) / scale[j];
            }
            sum += zi * inner;
        }
        double d = Math.sqrt(Math.max(0, sum));
        return Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
    }

    /**
     * The distance of a frame.
     *
     * @param frame a frame of a schema with every one of {@link #features}
     * @return as {@link #distance(double[], int[])}
     */
    public double distance(FeatureFrame frame) {
        return distance(frame.toArray(), indexesIn(frame.schema()));
    }

    /**
     * The features furthest from their training mean, in standard scores.
     *
     * @param row a full feature row in schema order
     * @param idx {@link #indexesIn} of the row's schema
     * @param count how many to name
     * @return e.g. {@code [log_return_1 z=+41.20, atr_pct_14 z=+9.80]}, largest |z| first
     */
    public List<String> mostDeviant(double[] row, int[] idx, int count) {
        Integer[] order = new Integer[idx.length];
        double[] z = new double[idx.length];
        for (int j = 0; j < idx.length; j++) {
            order[j] = j;
            z[j] = (row[idx[j]] - mean[j]) / scale[j];
        }
        Arrays.sort(order, (a, b) -> Double.compare(abs(z[b]), abs(z[a])));
        List<String> out = new ArrayList<>(count);
        for (int k = 0; k < Math.min(count, order.length); k++) {
            int j = order[k];
            out.add(zText(features.get(j), z[j]));
        }
        return out;
    }

    /**
     * {@code String.format(Locale.ROOT, "%s z=%+.2f", feature, z)}, the same text without a {@link
     * java.util.Formatter} (this runs for every bar the gate judges): the shortest decimal of
     * {@code |z|} ({@link Double#toString}, the digits {@code Formatter} rounds too) rounded half
     * up to 2 places, signed by {@code z}'s sign bit.
     */
    static String zText(String feature, double z) {
        if (!Double.isFinite(z)) {
            return String.format(Locale.ROOT, "%s z=%+.2f", feature, z);
        }
        String digits =
                new BigDecimal(Double.toString(Math.abs(z)))
                        .setScale(2, RoundingMode.HALF_UP)
                        .toPlainString();
        return feature + (Math.copySign(1.0, z) < 0 ? " z=-" : " z=+") + digits;
    }

    private static double abs(double v) {
        return Double.isNaN(v) ? Double.POSITIVE_INFINITY : Math.abs(v);
    }
}

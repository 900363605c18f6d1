package dev.quiver.host.backtest;

import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.gate.Dissimilarity;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.StandardDeviation;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;

/**
 * Fits the input gate's training distribution ({@link Dissimilarity}) on a span of feature rows:
 * per feature the mean and standard deviation (commons-math3 {@code Mean}, {@code
 * StandardDeviation}, bias-corrected), the rows' standard scores' covariance (their correlation
 * matrix) shrunk towards the identity with the Ledoit-Wolf intensity, inverted by a Cholesky
 * decomposition (commons-math3), and the threshold: the {@link #DEFAULT_QUANTILE} quantile
 * (commons-math3 {@code Percentile}, its default estimation) of the span's own distances.
 *
 * <p>Ledoit-Wolf: O. Ledoit and M. Wolf, "A well-conditioned estimator for large-dimensional
 * covariance matrices", J. Multivariate Analysis 88 (2004) 365-411, Lemma 3.2 and 3.3; with {@code
 * S} the sample covariance of the {@code n} centred rows {@code x_k} ({@code p} features), {@code m
 * = tr(S)/p}, {@code d2 = ||S - mI||^2}, {@code b2 = min(d2, (1/n^2) sum_k ||x_k x_k^T - S||^2)}
 * (Frobenius norms over {@code p}), the estimate is {@code (b2/d2) m I + (1 - b2/d2) S}. The same
 * estimator as scikit-learn's {@code ledoit_wolf}.
 */
public final class GateFit {

    /**
     * Default quantile of the training span's own distances the threshold is: 0.99, so about 1% of
     * the training bars would themselves abstain.
     */
    public static final double DEFAULT_QUANTILE = 0.99;

    private GateFit() {}

    /**
     * Fits on rows {@code [first, last]} of a feature matrix, the rows with every gate feature
     * finite.
     *
     * @param features the series' features
     * @param first first row, at or after warm-up
     * @param last last row, inclusive
     * @param quantile the threshold's quantile, in {@code (0, 1)}
     * @return the fitted distribution
     * @throws IllegalArgumentException if fewer than {@code 2 x features + 2} rows are usable or a
     *     feature is constant over the span
     */
    public static Dissimilarity fit(FeatureMatrix features, int first, int last, double quantile) {
        List<String> names = Dissimilarity.DEFAULT_FEATURES;
        int p = names.size();
        int[] idx = new int[p];
        for (int j = 0; j < p; j++) {
            idx[j] = features.schema().names().indexOf(names.get(j));
            if (idx[j] < 0) {
                throw new IllegalArgumentException(
                        "the gate's feature '" + names.get(j) + "' is not in the schema");
            }
        }
        double[][] rows = new double[last - first + 1][];
        int n = 0;
        for (int i = Math.max(first, features.firstWarmIndex()); i <= last; i++) {
            double[] r = new double[p];
            boolean ok = true;
            for (int j = 0; j < p; j++) {
                r[j] = features.get(i, idx[j]);
                ok &= Double.isFinite(r[j]);
            }
            if (ok) {
                rows[n++] = r;
            }
        }
        return fit(names, Arrays.copyOf(rows, n), quantile);
    }

    /**
     * Fits on rows of the named features.
     *
     * @param names the features, in the rows' column order
     * @param rows training rows, finite values
     * @param quantile the threshold's quantile, in {@code (0, 1)}
     * @return the fitted distribution
     * @throws IllegalArgumentException if fewer than {@code 2 x features + 2} rows are given or a
     *     feature is constant
     */
    public static Dissimilarity fit(List<String> names, double[][] rows, double quantile) {
        int p = names.size();
        int n = rows.length;
        if (n < 2 * p + 2) {
            throw new IllegalArgumentException(
                    "the gate needs at least "
                            + (2 * p + 2)
                            + " training rows with every feature finite, had "
                            + n);
        }
        double[] mean = new double[p];
        double[] scale = new double[p];
        double[] column = new double[n];
        for (int j = 0; j < p; j++) {
            for (int i = 0; i < n; i++) {
                column[i] = rows[i][j];
            }
            mean[j] = new Mean().evaluate(column);
            scale[j] = new StandardDeviation().evaluate(column, mean[j]);
            if (!(scale[j] > 0)) {
                throw new IllegalArgumentException(
                        "the gate's feature '"
                                + names.get(j)
                                + "' is constant over the training span ("
                                + mean[j]
                                + "): no distribution to judge against");
            }
        }
        double[][] z = new double[n][p];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < p; j++) {
                z[i][j] = (rows[i][j] - mean[j]) / scale[j];
            }
        }
        // Sample covariance of the standard scores (centred: their mean is 0), over n.
        double[][] s = new double[p][p];
        for (double[] x : z) {
            for (int a = 0; a < p; a++) {
                for (int b = 0; b < p; b++) {
                    s[a][b] += x[a] * x[b] / n;
                }
            }
        }
        double m = 0;
        for (int a = 0; a < p; a++) {
            m += s[a][a] / p;
        }
        double d2 = 0;
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                double v = s[a][b] - (a == b ? m : 0);
                d2 += v * v / p;
            }
        }
        double bBar2 = 0;
        for (double[] x : z) {
            double k = 0;
            for (int a = 0; a < p; a++) {
                for (int b = 0; b < p; b++) {
                    double v = x[a] * x[b] - s[a][b];
                    k += v * v / p;
                }
            }
            bBar2 += k / ((double) n * n);
        }
        double b2 = Math.min(bBar2, d2);
        double shrinkage = d2 > 0 ? b2 / d2 : 1.0;
        double[][] shrunk = new double[p][p];
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                shrunk[a][b] = (1 - shrinkage) * s[a][b] + (a == b ? shrinkage * m : 0);
            }
        }
        RealMatrix inverse =
                new CholeskyDecomposition(new Array2DRowRealMatrix(shrunk, false))
                        .getSolver()
                        .getInverse();
        double[][] precision = inverse.getData();
        // Symmetric by construction up to rounding; made exactly so.
        for (int a = 0; a < p; a++) {
            for (int b = a + 1; b < p; b++) {
                double v = (precision[a][b] + precision[b][a]) / 2;
                precision[a][b] = v;
                precision[b][a] = v;
            }
        }
        // The threshold: a quantile of the training rows' own distances (identity indexes).
        int[] id = new int[p];
        for (int j = 0; j < p; j++) {
            id[j] = j;
        }
        Dissimilarity provisional =
                new Dissimilarity(names, mean, scale, precision, 1.0, quantile, shrinkage, n);
        double[] distances = new double[n];
        for (int i = 0; i < n; i++) {
            distances[i] = provisional.distance(rows[i], id);
        }
        double threshold = new Percentile().evaluate(distances, quantile * 100);
        return new Dissimilarity(names, mean, scale, precision, threshold, quantile, shrinkage, n);
    }
}

package dev.quiver.plugins.regime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.exception.MathIllegalArgumentException;
import org.apache.commons.math3.exception.MathIllegalStateException;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.DecompositionSolver;
import org.apache.commons.math3.ml.clustering.CentroidCluster;
import org.apache.commons.math3.ml.clustering.DoublePoint;
import org.apache.commons.math3.ml.clustering.KMeansPlusPlusClusterer;
import org.apache.commons.math3.ml.clustering.MultiKMeansPlusPlusClusterer;
import org.apache.commons.math3.ml.distance.EuclideanDistance;
import org.apache.commons.math3.random.Well19937c;
import org.apache.commons.math3.stat.correlation.Covariance;

/**
 * A fitted regime model: the inputs' standardisation, a four-component Gaussian mixture over the
 * standardised inputs, each component's regime, and each regime's smoothed up-rate. Immutable.
 *
 * <p><b>Fit</b> ({@link #fit}): inputs standardised by the training rows' mean and population
 * standard deviation; k-means++ clustering of the standardised rows (commons-math3 {@link
 * KMeansPlusPlusClusterer}: 4 clusters, at most {@value #KMEANS_ITERATIONS} iterations, random
 * generator {@link Well19937c} seeded with {@code seed}; the best of {@value #KMEANS_TRIALS} runs
 * by within-cluster variance, {@link MultiKMeansPlusPlusClusterer}); each cluster becomes one
 * Gaussian component: weight = its share of the rows, mean = its centroid, covariance = its rows'
 * population covariance plus {@value #RIDGE} on the diagonal (the identity for a cluster of fewer
 * than 3 rows). No expectation-maximisation refines the mixture: commons-math3's EM took 1 to 4 s
 * per fit of 600 rows on the loaded build machine (40 folds per series), and one k-means++ start
 * (no restarts) left it in a local optimum that merged two regimes of a synthetic series with known
 * regimes, which the best of 10 k-means++ runs separates. Same rows and seed, same model, bit for
 * bit.
 *
 * <p><b>Labels</b>, one per component (a bijection, so every regime is always one component): the
 * component with the highest mean volatility input ({@code log_atr_pct}) is {@code
 * high-volatility}; of the other three, the highest mean {@code trend_z} is {@code trending-up},
 * the lowest {@code trending-down}, the middle one {@code ranging}. Ties go to the lower component
 * index.
 *
 * <p><b>A bar's regime</b>: the posterior of each component, {@code w_k N(x; m_k, S_k) / sum_j w_j
 * N(x; m_j, S_j)}, computed from log-densities (Cholesky factor of {@code S_k}) with the
 * log-sum-exp shift so that a bar far from every component still gets finite posteriors; the regime
 * is the component of the highest posterior. Its up-rate: {@code (u + 1) / (n + 2)} over the
 * training rows whose regime it is (Laplace's rule of succession).
 */
final class RegimeModel {

    /** Components: one per regime. */
    static final int COMPONENTS = Regime.values().length;

    /** Fewest training rows a fit accepts. */
    static final int MIN_ROWS = 100;

    static final int KMEANS_ITERATIONS = 100;

    /** k-means++ runs, the best kept. */
    static final int KMEANS_TRIALS = 10;

    static final double RIDGE = 1e-6;

    final double[] center;
    final double[] scale;
    final double[] weights;
    final double[][] means;
    final double[][][] covariances;
    final Regime[] regimeOf;
    final double[] upRate;
    final int[] rows;

    private final double[] logNorm;
    private final DecompositionSolver[] solvers;

    RegimeModel(
            double[] center,
            double[] scale,
            double[] weights,
            double[][] means,
            double[][][] covariances,
            Regime[] regimeOf,
            double[] upRate,
            int[] rows) {
        this.center = center.clone();
        this.scale = scale.clone();
        this.weights = weights.clone();
        this.means = deepCopy(means);
        this.covariances = new double[covariances.length][][];
        for (int k = 0; k < covariances.length; k++) {
            this.covariances[k] = deepCopy(covariances[k]);
        }
        this.regimeOf = regimeOf.clone();
        this.upRate = upRate.clone();
        this.rows = rows.clone();
        int d = center.length;
        logNorm = new double[COMPONENTS];
        solvers = new DecompositionSolver[COMPONENTS];
        for (int k = 0; k < COMPONENTS; k++) {
            CholeskyDecomposition c =
                    new CholeskyDecomposition(
                            new Array2DRowRealMatrix(this.covariances[k], true),
                            CholeskyDecomposition.DEFAULT_RELATIVE_SYMMETRY_THRESHOLD,
                            CholeskyDecomposition.DEFAULT_ABSOLUTE_POSITIVITY_THRESHOLD);
            solvers[k] = c.getSolver();
            logNorm[k] =
                    Math.log(weights[k])
                            - 0.5 * (d * Math.log(2 * Math.PI) + Math.log(c.getDeterminant()));
        }
    }

    /**
     * Fits a model.
     *
     * @param inputs each training row's inputs ({@link RegimeInputs}), in time order
     * @param up each row's label: whether the next bar closed higher
     * @param seed the k-means++ generator's seed
     * @return the model
     * @throws IllegalArgumentException naming the problem if there are fewer than {@value
     *     #MIN_ROWS} rows, an input is constant over them, or the mixture cannot be fitted (a
     *     component collapsed onto a line: singular covariance)
     */
    static RegimeModel fit(List<double[]> inputs, boolean[] up, long seed) {
        int n = inputs.size();
        if (n < MIN_ROWS) {
            throw new IllegalArgumentException(
                    n + " training rows with inputs, fewer than " + MIN_ROWS);
        }
        int d = inputs.get(0).length;
        double[] center = new double[d];
        double[] scale = new double[d];
        for (double[] x : inputs) {
            for (int j = 0; j < d; j++) {
                center[j] += x[j];
            }
        }
        for (int j = 0; j < d; j++) {
            center[j] /= n;
        }
        for (double[] x : inputs) {
            for (int j = 0; j < d; j++) {
                scale[j] += (x[j] - center[j]) * (x[j] - center[j]);
            }
        }
        for (int j = 0; j < d; j++) {
            scale[j] = Math.sqrt(scale[j] / n);
            if (!(scale[j] > 0)) {
                throw new IllegalArgumentException(
                        "input "
                                + RegimeInputs.NAMES[j]
                                + " is constant over the "
                                + n
                                + " training rows: nothing to cluster");
            }
        }
        double[][] z = new double[n][];
        List<DoublePoint> points = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            z[i] = standardise(inputs.get(i), center, scale);
            points.add(new DoublePoint(z[i]));
        }
        double[] weights = new double[COMPONENTS];
        double[][] means = new double[COMPONENTS][];
        double[][][] covs = new double[COMPONENTS][][];
        List<CentroidCluster<DoublePoint>> clusters;
        try {
            clusters =
                    new MultiKMeansPlusPlusClusterer<DoublePoint>(
                                    new KMeansPlusPlusClusterer<DoublePoint>(
                                            COMPONENTS,
                                            KMEANS_ITERATIONS,
                                            new EuclideanDistance(),
                                            new Well19937c(seed)),
                                    KMEANS_TRIALS)
                            .cluster(points);
        } catch (MathIllegalArgumentException | MathIllegalStateException e) {
            throw new IllegalArgumentException(
                    "k-means++ cannot cluster the " + n + " training rows: " + e, e);
        }
        for (int k = 0; k < COMPONENTS; k++) {
            CentroidCluster<DoublePoint> c = clusters.get(k);
            weights[k] = (double) c.getPoints().size() / n;
            means[k] = c.getCenter().getPoint().clone();
            if (c.getPoints().size() < 3) {
                covs[k] = new double[d][d];
                for (int j = 0; j < d; j++) {
                    covs[k][j][j] = 1;
                }
            } else {
                double[][] members = new double[c.getPoints().size()][];
                for (int i = 0; i < members.length; i++) {
                    members[i] = c.getPoints().get(i).getPoint();
                }
                covs[k] = new Covariance(members, false).getCovarianceMatrix().getData();
                for (int j = 0; j < d; j++) {
                    covs[k][j][j] += RIDGE;
                }
            }
        }
        Regime[] regimeOf = label(means);
        // Up-rates with the fitted mixture, through the same code that classifies served bars.
        RegimeModel unrated =
                new RegimeModel(
                        center,
                        scale,
                        weights,
                        means,
                        covs,
                        regimeOf,
                        new double[COMPONENTS],
                        new int[COMPONENTS]);
        int[] count = new int[COMPONENTS];
        int[] ups = new int[COMPONENTS];
        for (int i = 0; i < n; i++) {
            int r = unrated.classify(inputs.get(i)).regime().ordinal();
            count[r]++;
            ups[r] += up[i] ? 1 : 0;
        }
        double[] upRate = new double[COMPONENTS];
        for (int r = 0; r < COMPONENTS; r++) {
            upRate[r] = (ups[r] + 1.0) / (count[r] + 2.0);
        }
        return new RegimeModel(center, scale, weights, means, covs, regimeOf, upRate, count);
    }

    /**
     * The documented labelling rule (see the class comment).
     *
     * @param means each component's mean of the standardised inputs {@code {trend_z, log_atr_pct}}
     * @return each component's regime, a permutation of the four
     */
    static Regime[] label(double[][] means) {
        Regime[] out = new Regime[means.length];
        int hv = 0;
        for (int k = 1; k < means.length; k++) {
            if (means[k][1] > means[hv][1]) {
                hv = k;
            }
        }
        out[hv] = Regime.HIGH_VOLATILITY;
        int upK = -1;
        int downK = -1;
        for (int k = 0; k < means.length; k++) {
            if (k == hv) {
                continue;
            }
            if (upK < 0 || means[k][0] > means[upK][0]) {
                upK = k;
            }
        }
        for (int k = 0; k < means.length; k++) {
            if (k == hv || k == upK) {
                continue;
            }
            if (downK < 0 || means[k][0] < means[downK][0]) {
                downK = k;
            }
        }
        out[upK] = Regime.TRENDING_UP;
        out[downK] = Regime.TRENDING_DOWN;
        for (int k = 0; k < means.length; k++) {
            if (out[k] == null) {
                out[k] = Regime.RANGING;
            }
        }
        return out;
    }

    /**
     * A bar's regime and the posterior of each regime.
     *
     * @param regime the most probable regime
     * @param posterior by {@link Regime#ordinal()}, summing to 1
     */
    record Classification(Regime regime, double[] posterior) {}

    /**
     * Classifies one bar.
     *
     * @param inputs the bar's inputs ({@link RegimeInputs})
     * @return its regime and posteriors
     */
    Classification classify(double[] inputs) {
        double[] z = standardise(inputs, center, scale);
        double[] log = new double[COMPONENTS];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < COMPONENTS; k++) {
            double[] diff = new double[z.length];
            for (int j = 0; j < z.length; j++) {
                diff[j] = z[j] - means[k][j];
            }
            double[] solved =
                    solvers[k]
                            .solve(new org.apache.commons.math3.linear.ArrayRealVector(diff, false))
                            .toArray();
            double q = 0;
            for (int j = 0; j < z.length; j++) {
                q += diff[j] * solved[j];
            }
            log[k] = logNorm[k] - 0.5 * q;
            max = Math.max(max, log[k]);
        }
        double sum = 0;
        double[] p = new double[COMPONENTS];
        for (int k = 0; k < COMPONENTS; k++) {
            p[k] = Math.exp(log[k] - max);
            sum += p[k];
        }
        double[] posterior = new double[COMPONENTS];
        int best = 0;
        for (int k = 0; k < COMPONENTS; k++) {
            posterior[regimeOf[k].ordinal()] = p[k] / sum;
            if (p[k] > p[best]) {
                best = k;
            }
        }
        return new Classification(regimeOf[best], posterior);
    }

    private static double[] standardise(double[] x, double[] center, double[] scale) {
        double[] z = new double[x.length];
        for (int j = 0; j < x.length; j++) {
            z[j] = (x[j] - center[j]) / scale[j];
        }
        return z;
    }

    private static double[][] deepCopy(double[][] a) {
        double[][] out = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }

    @Override
    public String toString() {
        var sb = new StringBuilder("RegimeModel[");
        for (int k = 0; k < COMPONENTS; k++) {
            sb.append(regimeOf[k].label())
                    .append(": w=")
                    .append(String.format(java.util.Locale.ROOT, "%.3f", weights[k]))
                    .append(" mean=")
                    .append(Arrays.toString(means[k]))
                    .append(" up=")
                    .append(
                            String.format(
                                    java.util.Locale.ROOT, "%.3f", upRate[regimeOf[k].ordinal()]))
                    .append("; ");
        }
        return sb.append(']').toString();
    }
}

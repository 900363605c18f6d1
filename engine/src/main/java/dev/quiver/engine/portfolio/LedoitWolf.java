package dev.quiver.engine.portfolio;

import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * Covariance of returns shrunk toward a scaled identity, after O. Ledoit and M. Wolf, "A
 * well-conditioned estimator for large-dimensional covariance matrices", Journal of Multivariate
 * Analysis 88 (2004) 365-411, Lemma 3.2 and Theorem 3.2 (the estimator scikit-learn's {@code
 * ledoit_wolf} implements).
 *
 * <p>With {@code X} the {@code n x p} matrix of demeaned returns (one row per observation), {@code
 * S = X'X / n} (commons-math3 matrices), the norm {@code ||A||^2 = tr(A A') / p}:
 *
 * <pre>
 *   m   = tr(S) / p                              (target: m I)
 *   d^2 = ||S - m I||^2
 *   b^2 = min(d^2, (1 / n^2) sum_k ||x_k x_k' - S||^2)
 *   S*  = (b^2 / d^2) m I + (1 - b^2 / d^2) S
 * </pre>
 *
 * The shrinkage intensity {@code b^2 / d^2} is in {@code [0, 1]}; the result is symmetric positive
 * definite whenever {@code m > 0} and the intensity is positive, which is what a Kelly solve needs
 * when there are few observations per asset.
 */
public final class LedoitWolf {

    private LedoitWolf() {}

    /**
     * The estimate and how much it was shrunk.
     *
     * @param covariance {@code p x p} shrunk covariance, in squared return units of the input
     * @param shrinkage intensity {@code b^2 / d^2}, in {@code [0, 1]} (0: the sample covariance; 1:
     *     the target); 0 when {@code d^2 = 0} (the sample covariance is already the target)
     * @param sampleCovariance {@code p x p} sample covariance with divisor {@code n}
     */
    public record Estimate(double[][] covariance, double shrinkage, double[][] sampleCovariance) {}

    /**
     * Estimates the covariance of the columns of {@code returns}.
     *
     * @param returns {@code n x p}: one row per observation (oldest first), one column per asset;
     *     {@code n >= 2}, {@code p >= 1}, finite
     * @return the shrunk estimate
     * @throws IllegalArgumentException naming the row and column of a non-finite value, or if the
     *     shape is ragged or too small
     */
    public static Estimate estimate(double[][] returns) {
        int n = returns.length;
        if (n < 2) {
            throw new IllegalArgumentException(
                    "Ledoit-Wolf covariance: needs at least 2 observations, got " + n);
        }
        int p = returns[0].length;
        if (p < 1) {
            throw new IllegalArgumentException("Ledoit-Wolf covariance: no assets (0 columns)");
        }
        double[] mean = new double[p];
        for (int k = 0; k < n; k++) {
            if (returns[k].length != p) {
                throw new IllegalArgumentException(
                        "Ledoit-Wolf covariance: row "
                                + k
                                + " has "
                                + returns[k].length
                                + " columns, row 0 has "
                                + p);
            }
            for (int j = 0; j < p; j++) {
                double v = returns[k][j];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException(
                            "Ledoit-Wolf covariance: return at row "
                                    + k
                                    + ", column "
                                    + j
                                    + " is "
                                    + v);
                }
                mean[j] += v;
            }
        }
        for (int j = 0; j < p; j++) {
            mean[j] /= n;
        }
        double[][] centered = new double[n][p];
        for (int k = 0; k < n; k++) {
            for (int j = 0; j < p; j++) {
                centered[k][j] = returns[k][j] - mean[j];
            }
        }
        RealMatrix x = MatrixUtils.createRealMatrix(centered);
        RealMatrix s = x.transpose().multiply(x).scalarMultiply(1.0 / n);
        double m = s.getTrace() / p;
        double d2 = 0;
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                double v = s.getEntry(i, j) - (i == j ? m : 0);
                d2 += v * v;
            }
        }
        d2 /= p;
        double bBar2 = 0;
        for (int k = 0; k < n; k++) {
            double[] xk = centered[k];
            double sum = 0;
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    double v = xk[i] * xk[j] - s.getEntry(i, j);
                    sum += v * v;
                }
            }
            bBar2 += sum / p;
        }
        bBar2 /= (double) n * n;
        double b2 = Math.min(bBar2, d2);
        double delta = d2 > 0 ? b2 / d2 : 0;
        double[][] sample = s.getData();
        double[][] shrunk = new double[p][p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                shrunk[i][j] = (1 - delta) * sample[i][j] + (i == j ? delta * m : 0);
            }
        }
        return new Estimate(shrunk, delta, sample);
    }
}

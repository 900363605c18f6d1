package dev.quiver.plugins.kelly;

import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * Multivariate fractional Kelly: the growth-optimal weights of several simultaneous bets with
 * correlated returns, {@code f = c * inv(Sigma) * mu}.
 *
 * <p>Source: maximising the expected log growth {@code g(f) ~ f' mu - f' Sigma f / 2} (second-order
 * expansion, the continuous-time limit) gives {@code f* = inv(Sigma) mu}: R. C. Merton, "Lifetime
 * Portfolio Selection under Uncertainty: the Continuous-Time Case", Review of Economics and
 * Statistics 51 (1969); E. O. Thorp, "The Kelly Criterion in Blackjack, Sports Betting and the
 * Stock Market" (2006), section 7 ("The continuous approximation", eq. 7.7 for several securities).
 * The fraction {@code c} (0.25: quarter-Kelly) scales the whole vector.
 *
 * <p>Units: {@code mu} (expected excess return per period) and {@code Sigma} (covariance of returns
 * per period) must be over the same period; {@code f} does not depend on which (both scale alike).
 *
 * <p>A singular {@code Sigma} (perfectly correlated assets) is solved by the Moore-Penrose
 * pseudo-inverse (commons-math3 SVD), the minimum-norm solution: two identical assets share the
 * allocation of one equally.
 *
 * <p>Long only ({@link #longOnly}): maximises the same objective subject to {@code f >= 0},
 * exactly, by the support enumeration of quadratic programming: the optimum's support {@code S}
 * satisfies {@code f_S = inv(Sigma_SS) mu_S}, so the best of the non-negative candidates over every
 * subset is the optimum. That is {@code 2^n} small solves, fine for the few symbols of one account;
 * more than {@value #MAX_LONG_ONLY_ASSETS} assets are refused.
 */
public final class MultivariateKelly {

    /** Largest number of assets {@link #longOnly} solves (2^12 = 4096 subsets). */
    public static final int MAX_LONG_ONLY_ASSETS = 12;

    private MultivariateKelly() {}

    /**
     * Unconstrained fractional Kelly {@code c * pinv(Sigma) * mu}: negative weights are shorts.
     *
     * @param mu expected excess return per period, per asset, finite
     * @param sigma covariance of returns per period, {@code n x n}, symmetric positive
     *     semi-definite
     * @param c fraction of full Kelly, {@code > 0}
     * @return the weights, fractions of equity
     * @throws IllegalArgumentException if shapes disagree or a value is not finite
     */
    public static double[] unconstrained(double[] mu, double[][] sigma, double c) {
        check(mu, sigma, c);
        RealMatrix pinv =
                new SingularValueDecomposition(MatrixUtils.createRealMatrix(sigma))
                        .getSolver()
                        .getInverse();
        RealVector f = pinv.operate(MatrixUtils.createRealVector(mu)).mapMultiply(c);
        return f.toArray();
    }

    /**
     * Long-only fractional Kelly: {@code c * argmax_{w >= 0} (w' mu - w' Sigma w / 2)}.
     *
     * @param mu expected excess return per period, per asset, finite
     * @param sigma covariance of returns per period, {@code n x n}, symmetric positive
     *     semi-definite
     * @param c fraction of full Kelly, {@code > 0}
     * @return weights {@code >= 0}, fractions of equity; all 0 when no asset has a positive edge
     * @throws IllegalArgumentException if shapes disagree, a value is not finite, or there are more
     *     than {@value #MAX_LONG_ONLY_ASSETS} assets
     */
    public static double[] longOnly(double[] mu, double[][] sigma, double c) {
        check(mu, sigma, c);
        int n = mu.length;
        if (n > MAX_LONG_ONLY_ASSETS) {
            throw new IllegalArgumentException(
                    "long-only multivariate Kelly: "
                            + n
                            + " assets, at most "
                            + MAX_LONG_ONLY_ASSETS
                            + " are solved");
        }
        double[] best = new double[n];
        double bestGrowth = 0; // the empty support: all flat
        for (int mask = 1; mask < (1 << n); mask++) {
            int k = Integer.bitCount(mask);
            int[] idx = new int[k];
            for (int i = 0, j = 0; i < n; i++) {
                if ((mask & (1 << i)) != 0) {
                    idx[j++] = i;
                }
            }
            double[] subMu = new double[k];
            double[][] subSigma = new double[k][k];
            for (int a = 0; a < k; a++) {
                subMu[a] = mu[idx[a]];
                for (int b = 0; b < k; b++) {
                    subSigma[a][b] = sigma[idx[a]][idx[b]];
                }
            }
            double[] w = unconstrained(subMu, subSigma, 1.0);
            boolean nonNegative = true;
            for (double v : w) {
                if (!(v >= 0)) {
                    nonNegative = false;
                    break;
                }
            }
            if (!nonNegative) {
                continue;
            }
            double[] full = new double[n];
            for (int a = 0; a < k; a++) {
                full[idx[a]] = w[a];
            }
            double g = growth(full, mu, sigma);
            if (g > bestGrowth) {
                bestGrowth = g;
                best = full;
            }
        }
        for (int i = 0; i < n; i++) {
            best[i] *= c;
        }
        return best;
    }

    /**
     * The second-order expected log growth per period {@code f' mu - f' Sigma f / 2}.
     *
     * @param f weights
     * @param mu expected excess returns
     * @param sigma covariance
     * @return the growth rate
     */
    public static double growth(double[] f, double[] mu, double[][] sigma) {
        double lin = 0;
        double quad = 0;
        for (int i = 0; i < f.length; i++) {
            lin += f[i] * mu[i];
            for (int j = 0; j < f.length; j++) {
                quad += f[i] * sigma[i][j] * f[j];
            }
        }
        return lin - quad / 2;
    }

    private static void check(double[] mu, double[][] sigma, double c) {
        if (!(c > 0) || Double.isInfinite(c)) {
            throw new IllegalArgumentException("Kelly fraction c = " + c + ", expected finite > 0");
        }
        int n = mu.length;
        if (n == 0) {
            throw new IllegalArgumentException("multivariate Kelly: no assets");
        }
        if (sigma.length != n) {
            throw new IllegalArgumentException(
                    "multivariate Kelly: "
                            + n
                            + " expected returns, covariance of "
                            + sigma.length
                            + " rows");
        }
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(mu[i])) {
                throw new IllegalArgumentException("expected return mu[" + i + "] is " + mu[i]);
            }
            if (sigma[i].length != n) {
                throw new IllegalArgumentException(
                        "covariance row "
                                + i
                                + " has "
                                + sigma[i].length
                                + " columns, expected "
                                + n);
            }
            for (int j = 0; j < n; j++) {
                if (!Double.isFinite(sigma[i][j])) {
                    throw new IllegalArgumentException(
                            "covariance[" + i + "][" + j + "] is " + sigma[i][j]);
                }
            }
        }
    }
}

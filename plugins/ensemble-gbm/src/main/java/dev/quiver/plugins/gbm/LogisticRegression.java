package dev.quiver.plugins.gbm;

import dev.quiver.gbmtrees.TreeEnsemble;

/**
 * L2-regularised logistic regression with an intercept, fitted by Newton's method (IRLS): minimises
 * {@code sum_i logloss(y_i, sigmoid(b0 + b . x_i)) + (ridge / 2) |b|^2} (intercept not penalised).
 *
 * <p>Immutable once fitted.
 */
final class LogisticRegression {

    private final double[] beta; // [intercept, b_1..b_k]

    private LogisticRegression(double[] beta) {
        this.beta = beta;
    }

    /**
     * Fits rows {@code x[i]} (each {@code double[k]}) to labels {@code y[i]}.
     *
     * @param x inputs, finite
     * @param y labels
     * @param ridge L2 penalty on the coefficients, {@code >= 0}
     * @return the model
     */
    static LogisticRegression fit(double[][] x, boolean[] y, double ridge) {
        int k = x.length == 0 ? 0 : x[0].length;
        int d = k + 1;
        double[] b = new double[d];
        for (int iter = 0; iter < 50; iter++) {
            double[] g = new double[d];
            double[][] h = new double[d][d];
            for (int i = 0; i < x.length; i++) {
                double z = b[0];
                for (int j = 0; j < k; j++) {
                    z += b[j + 1] * x[i][j];
                }
                double p = TreeEnsemble.sigmoid(z);
                double r = p - (y[i] ? 1 : 0);
                double w = Math.max(p * (1 - p), 1e-9);
                for (int a = 0; a < d; a++) {
                    double xa = a == 0 ? 1 : x[i][a - 1];
                    g[a] += r * xa;
                    for (int c = 0; c <= a; c++) {
                        double xc = c == 0 ? 1 : x[i][c - 1];
                        h[a][c] += w * xa * xc;
                    }
                }
            }
            for (int a = 1; a < d; a++) {
                g[a] += ridge * b[a];
                h[a][a] += ridge;
            }
            h[0][0] += 1e-9;
            for (int a = 0; a < d; a++) {
                for (int c = a + 1; c < d; c++) {
                    h[a][c] = h[c][a];
                }
            }
            double[] step = solve(h, g);
            double max = 0;
            for (int a = 0; a < d; a++) {
                b[a] -= step[a];
                max = Math.max(max, Math.abs(step[a]));
            }
            if (max < 1e-10) {
                break;
            }
        }
        return new LogisticRegression(b);
    }

    /**
     * A model with the given coefficients, as {@link #beta()} returned them (a restored state).
     *
     * @param beta {@code [intercept, b_1..b_k]}, finite; copied
     */
    static LogisticRegression of(double[] beta) {
        for (double b : beta) {
            if (!Double.isFinite(b)) {
                throw new IllegalArgumentException("coefficient " + b + " is not finite");
            }
        }
        if (beta.length == 0) {
            throw new IllegalArgumentException("no intercept");
        }
        return new LogisticRegression(beta.clone());
    }

    /** {@code [intercept, b_1..b_k]}, a copy. */
    double[] beta() {
        return beta.clone();
    }

    /** Number of inputs {@code k}. */
    int inputs() {
        return beta.length - 1;
    }

    /** Solves {@code h s = g} for symmetric positive definite {@code h} (Gaussian elimination). */
    private static double[] solve(double[][] h, double[] g) {
        int d = g.length;
        double[][] a = new double[d][];
        double[] v = g.clone();
        for (int i = 0; i < d; i++) {
            a[i] = h[i].clone();
        }
        for (int col = 0; col < d; col++) {
            int piv = col;
            for (int r = col + 1; r < d; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
                    piv = r;
                }
            }
            double[] t = a[col];
            a[col] = a[piv];
            a[piv] = t;
            double tv = v[col];
            v[col] = v[piv];
            v[piv] = tv;
            for (int r = col + 1; r < d; r++) {
                double f = a[r][col] / a[col][col];
                for (int c = col; c < d; c++) {
                    a[r][c] -= f * a[col][c];
                }
                v[r] -= f * v[col];
            }
        }
        double[] s = new double[d];
        for (int r = d - 1; r >= 0; r--) {
            double sum = v[r];
            for (int c = r + 1; c < d; c++) {
                sum -= a[r][c] * s[c];
            }
            s[r] = sum / a[r][r];
        }
        return s;
    }

    /** The log-odds {@code b0 + b . x}. */
    double margin(double[] x) {
        double z = beta[0];
        for (int j = 0; j < x.length; j++) {
            z += beta[j + 1] * x[j];
        }
        return z;
    }

    /** Coefficient of input {@code j} (not the intercept). */
    double coefficient(int j) {
        return beta[j + 1];
    }

    double intercept() {
        return beta[0];
    }
}

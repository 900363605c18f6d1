package dev.quiver.plugins.adaptive;

/**
 * Temperature scaling of a binary probability: {@code p' = sigmoid(logit(p) / T)}, with the
 * temperature {@code T > 0} fitted by maximum likelihood (the log-loss of {@code p'} against the
 * outcomes, minimised). {@code T > 1} softens an over-confident forecaster, {@code T < 1} sharpens
 * an under-confident one; the order of the probabilities (and so the hit rate) never changes.
 *
 * <p>Source: C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural
 * Networks", ICML 2017, section 4.2 (temperature scaling, the one-parameter case of Platt scaling:
 * J. C. Platt, "Probabilistic Outputs for Support Vector Machines", 1999, with slope {@code 1/T}
 * and no intercept).
 *
 * <p>Fit: Newton's method on the inverse temperature {@code beta = 1/T}, on which the log-loss is
 * convex (a logistic regression through the origin on {@code z = logit(p)}); a step that does not
 * lower the loss is halved. {@code beta} is kept in {@code [1/T_MAX, 1/T_MIN]} = [{@value
 * #BETA_MIN}, {@value #BETA_MAX}]: outcomes that the scaled logits separate perfectly would drive
 * it to infinity. Probabilities are read at most {@value #EPS} away from 0 and 1 so that {@code
 * logit(p)} is finite ({@code logit(1e-9)} is about -20.7).
 */
final class TemperatureScaling {

    /** Smallest inverse temperature ({@code T = 20}). */
    static final double BETA_MIN = 0.05;

    /** Largest inverse temperature ({@code T = 0.05}). */
    static final double BETA_MAX = 20;

    /** Distance from 0 and 1 at which probabilities are read. */
    static final double EPS = 1e-9;

    private static final int MAX_ITERATIONS = 50;
    private static final double TOLERANCE = 1e-10;

    private TemperatureScaling() {}

    /** {@code logit(p)} of {@code p} read in {@code [EPS, 1 - EPS]}. */
    static double logit(double p) {
        double q = Math.min(1 - EPS, Math.max(EPS, p));
        return Math.log(q / (1 - q));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    /**
     * The scaled probability.
     *
     * @param p probability, in [0, 1]
     * @param beta inverse temperature {@code 1/T}, {@code > 0}
     * @return {@code sigmoid(beta * logit(p))}
     */
    static double scale(double p, double beta) {
        return sigmoid(beta * logit(p));
    }

    /**
     * Fits the inverse temperature on the first {@code n} rows.
     *
     * @param z logits of the forecasts ({@link #logit})
     * @param up outcomes
     * @param n rows used, {@code >= 1}
     * @param start inverse temperature to start from (e.g. the previous fit), in {@code [BETA_MIN,
     *     BETA_MAX]}
     * @return the fitted {@code beta = 1/T}, in {@code [BETA_MIN, BETA_MAX]}
     */
    static double fitBeta(double[] z, boolean[] up, int n, double start) {
        double beta = start;
        double loss = loss(z, up, n, beta);
        for (int it = 0; it < MAX_ITERATIONS; it++) {
            double g = 0;
            double h = 0;
            for (int i = 0; i < n; i++) {
                double s = sigmoid(beta * z[i]);
                g += (s - (up[i] ? 1 : 0)) * z[i];
                h += s * (1 - s) * z[i] * z[i];
            }
            if (!(h > 0)) {
                break; // every logit is 0: the loss does not depend on beta
            }
            double step = g / h;
            double next = Math.min(BETA_MAX, Math.max(BETA_MIN, beta - step));
            double nextLoss = loss(z, up, n, next);
            int halvings = 0;
            while (nextLoss > loss && halvings < 30) {
                next = (beta + next) / 2;
                nextLoss = loss(z, up, n, next);
                halvings++;
            }
            if (nextLoss > loss) {
                break;
            }
            boolean done = Math.abs(next - beta) < TOLERANCE;
            beta = next;
            loss = nextLoss;
            if (done) {
                break;
            }
        }
        return beta;
    }

    /** Mean log-loss (natural log) of {@code sigmoid(beta * z)} on the first {@code n} rows. */
    static double loss(double[] z, boolean[] up, int n, double beta) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double x = beta * z[i];
            // -log sigmoid(x) = log(1 + e^-x), computed stably; for a down outcome, of -x.
            double m = up[i] ? -x : x;
            sum += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
        }
        return sum / n;
    }

    /**
     * Expected calibration error of {@code sigmoid(beta * z)} over {@code bins} equal-width bins of
     * the probability: {@code sum_b (n_b / n) |mean p_b - share of ups in b|} (Guo et al. 2017, eq.
     * 3; the backtest report uses the same 10 bins).
     */
    static double ece(double[] z, boolean[] up, int n, double beta, int bins) {
        double[] sumP = new double[bins];
        int[] ups = new int[bins];
        int[] count = new int[bins];
        for (int i = 0; i < n; i++) {
            double p = sigmoid(beta * z[i]);
            int b = Math.min(bins - 1, (int) (p * bins));
            sumP[b] += p;
            ups[b] += up[i] ? 1 : 0;
            count[b]++;
        }
        double ece = 0;
        for (int b = 0; b < bins; b++) {
            if (count[b] > 0) {
                ece += Math.abs(sumP[b] - ups[b]);
            }
        }
        return ece / n;
    }
}

package dev.quiver.host.rollout;

import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * The tests a rollout's rules run on per-bar losses ({@link Metric}); {@code d = loss(challenger) -
 * loss(champion)}, so a negative mean says the challenger is better.
 *
 * <p><b>Paired</b> (both variants forecast the same bars): {@code t = mean(d) / (s_d / sqrt(n))}
 * with {@code n - 1} degrees of freedom. This is the Diebold-Mariano statistic (F. X. Diebold and
 * R. S. Mariano, "Comparing Predictive Accuracy", J. Business &amp; Economic Statistics 13(3),
 * 1995) at forecast horizon {@code h = 1}, where the long-run variance of {@code d} is its variance
 * (no autocovariance lags below {@code h}), with the small-sample correction of D. Harvey, S.
 * Leybourne and P. Newbold ("Testing the equality of prediction mean squared errors", Int. J.
 * Forecasting 13(2), 1997): the factor {@code sqrt((n + 1 - 2h + h(h - 1)/n) / n) = sqrt((n -
 * 1)/n)} turns the population variance into the sample variance and the reference distribution is
 * Student's t with {@code n - 1} degrees of freedom. Pairing removes the bar-to-bar noise both
 * variants share (a volatile bar is hard for both), which makes it far more powerful than comparing
 * the two means.
 *
 * <p><b>Welch</b> (the variants scored different bars, e.g. each on its own canary keys): {@code t
 * = (mean_B - mean_A) / sqrt(s_A^2/n_A + s_B^2/n_B)} with the Welch-Satterthwaite degrees of
 * freedom {@code (s_A^2/n_A + s_B^2/n_B)^2 / ((s_A^2/n_A)^2/(n_A - 1) + (s_B^2/n_B)^2/(n_B - 1))}
 * (B. L. Welch, Biometrika 34, 1947; F. E. Satterthwaite, Biometrics Bulletin 2(6), 1946).
 *
 * <p>Both report one-sided p-values: {@code p_better = P(T <= t)} (the challenger's loss is lower)
 * and {@code p_worse = P(T >= t)}, from commons-math3's {@link TDistribution}. A zero standard
 * error gives {@code t = ±inf} for a nonzero mean difference (every bar favours one side by the
 * same amount) and {@code t = 0} (no verdict) for none. Per-bar losses of one series are serially
 * dependent when volatility clusters; at {@code h = 1} DM's asymptotics need only the losses'
 * differences to be covariance-stationary, which is why the rules test differences, never levels.
 *
 * <p><b>McNemar</b> (hit rate, paired): with 0/1 losses a difference is -1 (only the challenger
 * hit), +1 (only the champion hit) or 0, so the t approximation is coarse for small counts of
 * disagreements. The exact McNemar test (Q. McNemar, Psychometrika 12(2), 1947; exact binomial form
 * as in Agresti, "Categorical Data Analysis", 3rd ed., 2013, section 11.1) conditions on the {@code
 * m = b + c} bars where exactly one variant hit: under equal hit rates the challenger's share
 * {@code c} is Binomial(m, 1/2). {@code b} and {@code c} follow from the running moments of the
 * differences alone ({@code c - b = -n mean(d)}, {@code b + c = sum d^2}), so nothing else has to
 * be stored.
 */
public final class Significance {

    private Significance() {}

    /**
     * One comparison.
     *
     * @param test {@code paired} or {@code welch}
     * @param n samples per side (paired: bars both scored; Welch: the smaller side)
     * @param meanDifference mean loss of the challenger minus the champion's
     * @param statistic the t statistic
     * @param degreesOfFreedom its degrees of freedom
     * @param pBetter one-sided p-value that the challenger's loss is lower
     * @param pWorse one-sided p-value that the challenger's loss is higher
     */
    public record Result(
            String test,
            long n,
            double meanDifference,
            double statistic,
            double degreesOfFreedom,
            double pBetter,
            double pWorse) {}

    /**
     * Paired t (Diebold-Mariano at horizon 1, HLN-corrected) on loss differences.
     *
     * @param differences moments of {@code loss(challenger) - loss(champion)} per bar
     * @return the result
     * @throws IllegalArgumentException if fewer than 2 differences
     */
    public static Result paired(Moments differences) {
        long n = differences.n();
        if (n < 2) {
            throw new IllegalArgumentException("paired test needs >= 2 differences, has " + n);
        }
        double se = Math.sqrt(differences.variance() / n);
        double t = statistic(differences.mean(), se);
        return result("paired", n, differences.mean(), t, n - 1);
    }

    /**
     * The exact McNemar test on paired 0/1 losses (1 = a miss), from the moments of {@code
     * loss(challenger) - loss(champion)} per bar.
     *
     * @param differences moments of differences that are each -1, 0 or +1
     * @return the result: {@code test = mcnemar}, {@code statistic} the challenger's wins among the
     *     discordant bars minus their expectation {@code m/2}, {@code degreesOfFreedom} the number
     *     {@code m} of discordant bars; with none, no verdict (both p-values 1)
     * @throws IllegalArgumentException if fewer than 2 differences, or the moments are not those of
     *     -1/0/+1 values
     */
    public static Result mcNemar(Moments differences) {
        long n = differences.n();
        if (n < 2) {
            throw new IllegalArgumentException("McNemar test needs >= 2 pairs, has " + n);
        }
        double sum = differences.mean() * n; // = b - c
        double sumSquares = differences.m2() + n * differences.mean() * differences.mean();
        long discordant = Math.round(sumSquares);
        long bMinusC = Math.round(sum);
        if (Math.abs(sumSquares - discordant) > 1e-6 * Math.max(1, sumSquares)
                || Math.abs(sum - bMinusC) > 1e-6 * Math.max(1, Math.abs(sum))
                || Math.abs(bMinusC) > discordant
                || (discordant - bMinusC) % 2 != 0) {
            throw new IllegalArgumentException(
                    "McNemar test needs differences of 0/1 losses (-1, 0, +1); the moments (n="
                            + n
                            + ", mean="
                            + differences.mean()
                            + ") are not");
        }
        long b = (discordant + bMinusC) / 2; // only the champion hit (challenger's loss 1)
        long c = discordant - b; // only the challenger hit
        if (discordant == 0) {
            return new Result("mcnemar", n, differences.mean(), 0, 0, 1, 1);
        }
        BinomialDistribution x = new BinomialDistribution(null, (int) discordant, 0.5);
        double pBetter = 1 - x.cumulativeProbability((int) c - 1); // P(X >= c)
        double pWorse = x.cumulativeProbability((int) c); // P(X <= c)
        return new Result(
                "mcnemar",
                n,
                differences.mean(),
                c - discordant / 2.0,
                discordant,
                Math.min(1, pBetter),
                Math.min(1, pWorse));
    }

    /**
     * Welch's t on each variant's own losses.
     *
     * @param champion moments of the champion's losses
     * @param challenger moments of the challenger's losses
     * @return the result
     * @throws IllegalArgumentException if either side has fewer than 2 losses
     */
    public static Result welch(Moments champion, Moments challenger) {
        if (champion.n() < 2 || challenger.n() < 2) {
            throw new IllegalArgumentException(
                    "Welch test needs >= 2 losses per side, has "
                            + champion.n()
                            + " and "
                            + challenger.n());
        }
        double va = champion.variance() / champion.n();
        double vb = challenger.variance() / challenger.n();
        double diff = challenger.mean() - champion.mean();
        double t = statistic(diff, Math.sqrt(va + vb));
        double df =
                va + vb == 0
                        ? champion.n() + challenger.n() - 2
                        : (va + vb)
                                * (va + vb)
                                / (va * va / (champion.n() - 1) + vb * vb / (challenger.n() - 1));
        return result("welch", Math.min(champion.n(), challenger.n()), diff, t, df);
    }

    private static double statistic(double mean, double se) {
        if (se == 0) {
            return mean == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, mean);
        }
        return mean / se;
    }

    private static Result result(String test, long n, double diff, double t, double df) {
        double cdf;
        if (t == Double.POSITIVE_INFINITY) {
            cdf = 1;
        } else if (t == Double.NEGATIVE_INFINITY) {
            cdf = 0;
        } else {
            cdf = new TDistribution(null, df).cumulativeProbability(t);
        }
        return new Result(test, n, diff, t, df, cdf, 1 - cdf);
    }
}

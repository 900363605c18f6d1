package dev.quiver.host.backtest;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Stationary block bootstrap of per-bar returns (D. N. Politis and J. P. Romano, "The Stationary
 * Bootstrap", JASA 89, 1994): a resample is built from blocks that start at a uniformly drawn bar
 * and continue (wrapping around) with probability {@code 1 - 1/L}, so block lengths are geometric
 * with mean {@code L}; this keeps the serial dependence (volatility clustering) of returns that an
 * i.i.d. bootstrap would destroy. Mean block length {@code L = ceil(n^(1/3))} (the usual rate for
 * variance-type statistics; about 27 bars for 19,626 bars, 16 for 3,962), {@link #RESAMPLES}
 * resamples, seed {@link #SEED}: the intervals are reproducible.
 *
 * <p>All policies are resampled with the same indices, so the interval of a Sharpe difference is
 * that of the paired difference. Intervals are percentile intervals (2.5% and 97.5%).
 */
public final class Bootstrap {

    static final int RESAMPLES = 1000;
    static final long SEED = 20_240_101L;

    /**
     * 95% intervals of one policy.
     *
     * @param sharpe annualised Sharpe [low, high]
     * @param maxDrawdown max drawdown (positive fraction) [low, high]
     * @param sharpeDiffVsBaseline Sharpe of this policy minus the baseline's, [low, high]; NaNs for
     *     the baseline itself
     */
    public record Intervals(double[] sharpe, double[] maxDrawdown, double[] sharpeDiffVsBaseline) {}

    private Bootstrap() {}

    static int blockLength(int n) {
        return Math.max(1, (int) Math.ceil(Math.cbrt(n)));
    }

    /**
     * Intervals for every curve.
     *
     * @param curves equity curves by name, equal lengths, at least 3 points
     * @param baseline name of the curve differences are taken against (e.g. {@code fixed}); may be
     *     absent, then differences are NaN
     * @param barsPerYear annualisation
     * @param resamples number of resamples
     * @param seed random seed
     * @return intervals by name, in the curves' order
     */
    static Map<String, Intervals> intervals(
            Map<String, double[]> curves,
            String baseline,
            double barsPerYear,
            int resamples,
            long seed) {
        List<String> names = List.copyOf(curves.keySet());
        int m = names.size();
        double[][] r = new double[m][];
        for (int i = 0; i < m; i++) {
            r[i] = PerformanceMetrics.returns(curves.get(names.get(i)));
        }
        int n = r[0].length;
        int base = names.indexOf(baseline);
        double[][] sharpe = new double[m][resamples];
        double[][] dd = new double[m][resamples];
        double[][] diff = new double[m][resamples];
        SplittableRandom rng = new SplittableRandom(seed);
        int[] idx = new int[n];
        double p = 1.0 / blockLength(n);
        double[] sample = new double[n];
        for (int s = 0; s < resamples; s++) {
            int j = rng.nextInt(n);
            for (int t = 0; t < n; t++) {
                if (t > 0) {
                    j = rng.nextDouble() < p ? rng.nextInt(n) : (j + 1) % n;
                }
                idx[t] = j;
            }
            for (int i = 0; i < m; i++) {
                for (int t = 0; t < n; t++) {
                    sample[t] = r[i][idx[t]];
                }
                sharpe[i][s] = PerformanceMetrics.sharpe(sample, barsPerYear);
                dd[i][s] = maxDrawdownOfReturns(sample);
            }
            for (int i = 0; i < m; i++) {
                diff[i][s] = base >= 0 ? sharpe[i][s] - sharpe[base][s] : Double.NaN;
            }
        }
        Map<String, Intervals> out = new LinkedHashMap<>();
        for (int i = 0; i < m; i++) {
            out.put(
                    names.get(i),
                    new Intervals(
                            percentiles(sharpe[i]),
                            percentiles(dd[i]),
                            i == base || base < 0
                                    ? new double[] {Double.NaN, Double.NaN}
                                    : percentiles(diff[i])));
        }
        return out;
    }

    static double maxDrawdownOfReturns(double[] r) {
        double e = 1;
        double peak = 1;
        double max = 0;
        for (double x : r) {
            e *= 1 + x;
            peak = Math.max(peak, e);
            max = Math.max(max, 1 - e / peak);
        }
        return max;
    }

    /** The 2.5% and 97.5% percentiles of the finite values (linear interpolation). */
    static double[] percentiles(double[] values) {
        double[] v = Arrays.stream(values).filter(Double::isFinite).sorted().toArray();
        if (v.length == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        return new double[] {quantile(v, 0.025), quantile(v, 0.975)};
    }

    private static double quantile(double[] sorted, double q) {
        double h = (sorted.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}

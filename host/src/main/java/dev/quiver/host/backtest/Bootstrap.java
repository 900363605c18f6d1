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
     * @param cagr compound annual growth rate [low, high], {@code prod(1 + r)^(barsPerYear / n) -
     *     1} of each resample ({@link PerformanceMetrics#cagr} over the resample's span)
     * @param sortino annualised Sortino ratio [low, high] ({@link PerformanceMetrics#sortino})
     */
    public record Intervals(
            double[] sharpe,
            double[] maxDrawdown,
            double[] sharpeDiffVsBaseline,
            double[] cagr,
            double[] sortino) {}

    private Bootstrap() {}

    static int blockLength(int n) {
        return Math.max(1, (int) Math.ceil(Math.cbrt(n)));
    }

    /**
     * Intervals for every curve, on one thread.
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
        return intervals(curves, baseline, barsPerYear, resamples, seed, 1);
    }

    /**
     * Intervals for every curve, the resamples' statistics computed on up to {@code threads}
     * threads. The resamples are drawn first, in order, from the one seeded stream (as on one
     * thread: each resample continues the stream where the previous one stopped); each resample's
     * statistics depend on its draws only and land in its own slot, so the intervals are identical
     * whatever {@code threads}.
     *
     * @param curves equity curves by name, equal lengths, at least 3 points
     * @param baseline name of the curve differences are taken against; may be absent
     * @param barsPerYear annualisation
     * @param resamples number of resamples
     * @param seed random seed
     * @param threads threads that may work at once (the caller's included), {@code >= 1}
     * @return intervals by name, in the curves' order
     */
    static Map<String, Intervals> intervals(
            Map<String, double[]> curves,
            String baseline,
            double barsPerYear,
            int resamples,
            long seed,
            int threads) {
        return intervals(curves, baseline, barsPerYear, resamples, seed, threads, null);
    }

    /**
     * As {@link #intervals(Map, String, double, int, long, int)}, with the draws made beforehand
     * ({@link #draws}, e.g. on a thread that had nothing else to do while the run was going on):
     * used when they are the draws of these returns' length, resamples and seed, else drawn here.
     * The draws depend only on those three, so the intervals are the same either way.
     *
     * @param curves equity curves by name, equal lengths, at least 3 points
     * @param baseline name of the curve differences are taken against; may be absent
     * @param barsPerYear annualisation
     * @param resamples number of resamples
     * @param seed random seed
     * @param threads threads that may work at once (the caller's included), {@code >= 1}
     * @param drawn draws made beforehand, or null
     * @return intervals by name, in the curves' order
     */
    static Map<String, Intervals> intervals(
            Map<String, double[]> curves,
            String baseline,
            double barsPerYear,
            int resamples,
            long seed,
            int threads,
            Draws drawn) {
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
        double[][] cagr = new double[m][resamples];
        double[][] sortino = new double[m][resamples];
        Blocks[] draws =
                drawn != null
                                && drawn.n == n
                                && drawn.seed == seed
                                && drawn.blocks.length == resamples
                        ? drawn.blocks
                        : draw(n, resamples, seed);
        Runnable[] chunks = new Runnable[Math.max(1, Math.min(threads, resamples))];
        for (int c = 0; c < chunks.length; c++) {
            int from = (int) ((long) resamples * c / chunks.length);
            int to = (int) ((long) resamples * (c + 1) / chunks.length);
            chunks[c] =
                    () -> {
                        double[] sample = new double[n];
                        double[] stats = new double[4];
                        for (int s = from; s < to; s++) {
                            for (int i = 0; i < m; i++) {
                                draws[s].copy(r[i], sample);
                                sharpeAndMaxDrawdown(sample, barsPerYear, stats);
                                sharpe[i][s] = stats[0];
                                dd[i][s] = stats[1];
                                cagr[i][s] = stats[2];
                                sortino[i][s] = stats[3];
                            }
                            for (int i = 0; i < m; i++) {
                                diff[i][s] =
                                        base >= 0 ? sharpe[i][s] - sharpe[base][s] : Double.NaN;
                            }
                        }
                    };
        }
        runAll(chunks);
        Map<String, Intervals> out = new LinkedHashMap<>();
        for (int i = 0; i < m; i++) {
            out.put(
                    names.get(i),
                    new Intervals(
                            percentiles(sharpe[i]),
                            percentiles(dd[i]),
                            i == base || base < 0
                                    ? new double[] {Double.NaN, Double.NaN}
                                    : percentiles(diff[i]),
                            percentiles(cagr[i]),
                            percentiles(sortino[i])));
        }
        return out;
    }

    /**
     * One resample's bar indices, stored as its blocks: block {@code b} starts at position {@code
     * at[b]} with bar {@code start[b]} and continues (wrapping around) until the next block.
     */
    private record Blocks(int[] at, int[] start) {
        /** {@code sample[t] = r[index of t]}: each block copied as one or more contiguous runs. */
        void copy(double[] r, double[] sample) {
            int n = r.length;
            for (int b = 0; b < at.length; b++) {
                int end = b + 1 < at.length ? at[b + 1] : n;
                int t = at[b];
                int j = start[b];
                while (t < end) {
                    int run = Math.min(end - t, n - j);
                    System.arraycopy(r, j, sample, t, run);
                    t += run;
                    j = 0;
                }
            }
        }
    }

    /**
     * Every resample's draws for returns of length {@code n}, made ahead of {@link #intervals}.
     *
     * @param n returns per resample (equity points - 1), {@code >= 1}
     * @param resamples number of resamples
     * @param seed random seed
     * @return the draws
     */
    static Draws draws(int n, int resamples, long seed) {
        return new Draws(n, seed, draw(n, resamples, seed));
    }

    /** Draws made ahead: for returns of length {@code n}, from {@code seed}. */
    static final class Draws {
        private final int n;
        private final long seed;
        private final Blocks[] blocks;

        private Draws(int n, long seed, Blocks[] blocks) {
            this.n = n;
            this.seed = seed;
            this.blocks = blocks;
        }
    }

    /**
     * Every resample's draws from the seeded stream, in order: a uniform start, then per bar a new
     * uniform start with probability {@code 1/L}, else the next bar (wrapping around).
     */
    private static Blocks[] draw(int n, int resamples, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double p = 1.0 / blockLength(n);
        Blocks[] out = new Blocks[resamples];
        int[] at = new int[n];
        int[] start = new int[n];
        for (int s = 0; s < resamples; s++) {
            int blocks = 0;
            at[blocks] = 0;
            start[blocks++] = rng.nextInt(n);
            for (int t = 1; t < n; t++) {
                if (rng.nextDouble() < p) {
                    at[blocks] = t;
                    start[blocks++] = rng.nextInt(n);
                }
            }
            out[s] = new Blocks(Arrays.copyOf(at, blocks), Arrays.copyOf(start, blocks));
        }
        return out;
    }

    /** Runs the chunks, the last on this thread, the others on threads of their own. */
    private static void runAll(Runnable[] chunks) {
        Thread[] helpers = new Thread[chunks.length - 1];
        Throwable[] failure = new Throwable[chunks.length];
        for (int c = 0; c < helpers.length; c++) {
            int k = c;
            helpers[c] =
                    new Thread(
                            () -> {
                                try {
                                    chunks[k].run();
                                } catch (RuntimeException | Error e) {
                                    failure[k] = e;
                                }
                            },
                            "quiver-bootstrap-" + (c + 1));
            helpers[c].setDaemon(true);
            helpers[c].start();
        }
        chunks[chunks.length - 1].run();
        boolean interrupted = false;
        for (Thread t : helpers) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        for (Throwable t : failure) {
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
        }
    }

    /**
     * {@link PerformanceMetrics#sharpe(double[], double)} and {@link #maxDrawdownOfReturns} of one
     * resample in three passes instead of six, with the same floating-point operations in the same
     * order, so the same values to the bit: pass 1 the sum (commons-math {@code Sum}) and the
     * drawdown, pass 2 {@code Mean}'s correction term, pass 3 {@code Variance}'s bias-corrected
     * sums around that mean.
     *
     * @param x per-bar returns, at least 2
     * @param barsPerYear annualisation
     * @param out {@code out[0]} the annualised Sharpe (NaN if the sd is 0), {@code out[1]} the max
     *     drawdown, a fraction in [0, 1]; when {@code out} has 4 slots also {@code out[2]} the CAGR
     *     ({@code prod(1 + x)^(barsPerYear / n) - 1}) and {@code out[3]} the annualised Sortino
     *     ratio ({@link PerformanceMetrics#sortino}: the same mean, the same sum of squared losses
     *     in the same order, so the same value to the bit; NaN without a loss)
     */
    static void sharpeAndMaxDrawdown(double[] x, double barsPerYear, double[] out) {
        double sum = 0.0;
        double down = 0;
        double e = 1;
        double peak = 1;
        double max = 0;
        for (double v : x) {
            sum += v;
            if (v < 0) {
                down += v * v;
            }
            e *= 1 + v;
            peak = Math.max(peak, e);
            max = Math.max(max, 1 - e / peak);
        }
        double len = x.length;
        double xbar = sum / len;
        double correction = 0;
        for (double v : x) {
            correction += v - xbar;
        }
        double mean = xbar + (correction / len);
        double accum = 0.0;
        double accum2 = 0.0;
        for (double v : x) {
            double dev = v - mean;
            accum += dev * dev;
            accum2 += dev;
        }
        double sd = Math.sqrt((accum - (accum2 * accum2 / len)) / (len - 1.0));
        out[0] = sd > 0 ? mean / sd * Math.sqrt(barsPerYear) : Double.NaN;
        out[1] = max;
        if (out.length >= 4) {
            out[2] = PerformanceMetrics.cagr(1, e, len / barsPerYear);
            double dd = Math.sqrt(down / len);
            out[3] = dd > 0 ? mean / dd * Math.sqrt(barsPerYear) : Double.NaN;
        }
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

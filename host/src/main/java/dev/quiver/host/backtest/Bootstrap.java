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
        Draws d =
                drawn != null
                                && drawn.n == n
                                && drawn.seed == seed
                                && drawn.blocks.length == resamples
                        ? drawn
                        : draws(n, resamples, seed);
        double[][][] stats = resampled(r, barsPerYear, d, threads);
        double[][] sharpe = stats[0];
        double[][] dd = stats[1];
        double[][] cagr = stats[2];
        double[][] sortino = stats[3];
        double[][] diff = new double[m][resamples];
        for (int i = 0; i < m; i++) {
            for (int s = 0; s < resamples; s++) {
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
                                    : percentiles(diff[i]),
                            percentiles(cagr[i]),
                            percentilesWithInfinity(sortino[i])));
        }
        return out;
    }

    /**
     * Every curve's annualised Sharpe and max drawdown on every resample, computed on up to {@code
     * threads} threads; each value depends on its resample's draws only and lands in its own slot.
     * Curves are measured three at a time by {@link #measure3}; a curve whose returns could make
     * the compounded equity not positive and finite ({@link #positiveCompounding}), or a lane that
     * overflowed, by {@link #sharpeAndMaxDrawdown} on the copied resample. Either way the values
     * are {@link #sharpeAndMaxDrawdown}'s, to the bit.
     *
     * @param r per curve, its returns, equal lengths (the draws' {@code n}), at least 2
     * @param barsPerYear annualisation
     * @param draws the resamples' draws
     * @param threads threads that may work at once (the caller's included), {@code >= 1}
     * @return {@code [0]} the Sharpe ratios, {@code [1]} the max drawdowns, {@code [2]} the CAGRs,
     *     {@code [3]} the Sortino ratios, each {@code [curve][resample]}
     */
    static double[][][] resampled(double[][] r, double barsPerYear, Draws draws, int threads) {
        int m = r.length;
        int n = draws.n;
        Blocks[] blocks = draws.blocks;
        int resamples = blocks.length;
        double[][] sharpe = new double[m][resamples];
        double[][] dd = new double[m][resamples];
        double[][] cagr = new double[m][resamples];
        double[][] sortino = new double[m][resamples];
        boolean[] grouped = new boolean[m];
        for (int i = 0; i < m; i++) {
            grouped[i] = positiveCompounding(r[i]);
        }
        Runnable[] chunks = new Runnable[Math.max(1, Math.min(threads, resamples))];
        for (int c = 0; c < chunks.length; c++) {
            int from = (int) ((long) resamples * c / chunks.length);
            int to = (int) ((long) resamples * (c + 1) / chunks.length);
            chunks[c] =
                    () -> {
                        double[] sample = new double[n];
                        double[] one = new double[4];
                        double[] three = new double[15];
                        for (int s = from; s < to; s++) {
                            for (int g = 0; g < m; g += 3) {
                                int i1 = Math.min(g + 1, m - 1);
                                int i2 = Math.min(g + 2, m - 1);
                                measure3(blocks[s], r[g], r[i1], r[i2], barsPerYear, three);
                                for (int lane = 0; lane < 3 && g + lane < m; lane++) {
                                    int i = g + lane;
                                    if (grouped[i] && three[6 + lane] == 0) {
                                        sharpe[i][s] = three[2 * lane];
                                        dd[i][s] = three[2 * lane + 1];
                                        cagr[i][s] = three[9 + lane];
                                        sortino[i][s] = three[12 + lane];
                                    } else {
                                        blocks[s].copy(r[i], sample);
                                        sharpeAndMaxDrawdown(sample, barsPerYear, one);
                                        sharpe[i][s] = one[0];
                                        dd[i][s] = one[1];
                                        cagr[i][s] = one[2];
                                        sortino[i][s] = one[3];
                                    }
                                }
                            }
                        }
                    };
        }
        runAll(chunks);
        return new double[][][] {sharpe, dd, cagr, sortino};
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
     * Whether every return is finite and above -1, so that the compounded equity of any resample
     * stays positive (or underflows to 0) and {@link #measure3}'s drawdown equals {@link
     * #maxDrawdownOfReturns}.
     */
    private static boolean positiveCompounding(double[] r) {
        for (double v : r) {
            if (!(v > -1) || !Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link #sharpeAndMaxDrawdown} of three curves' returns resampled by the same blocks, without
     * copying the resample: one walk over the blocks per pass, the three curves' sums side by side
     * (independent chains the processor overlaps, where one curve's pass waits on each addition).
     * Each curve's floating-point operations are {@link #sharpeAndMaxDrawdown}'s in the same order,
     * so its values are the same to the bit, with one exception handled by the caller: the drawdown
     * is taken per run of bars under one peak, at the run's lowest equity (the largest {@code 1 - e
     * / peak} for a fixed peak, division and subtraction being monotonic), which equals the per-bar
     * maximum while the equity is positive and finite ({@link #positiveCompounding}); a lane whose
     * peak overflowed is flagged.
     *
     * @param b the resample's blocks
     * @param r0 first curve's returns
     * @param r1 second curve's returns (may be {@code r0} again when fewer curves are left)
     * @param r2 third curve's returns (idem)
     * @param barsPerYear annualisation
     * @param out {@code [sharpe0, dd0, sharpe1, dd1, sharpe2, dd2, flag0, flag1, flag2, cagr0,
     *     cagr1, cagr2, sortino0, sortino1, sortino2]}, a flag 1 when that lane's peak is not
     *     finite (measure it with {@link #sharpeAndMaxDrawdown}); the CAGR and Sortino ratio as
     *     {@link #sharpeAndMaxDrawdown}'s {@code out[2]} and {@code out[3]}, to the bit
     */
    private static void measure3(
            Blocks b, double[] r0, double[] r1, double[] r2, double barsPerYear, double[] out) {
        int n = r0.length;
        int[] at = b.at();
        int[] start = b.start();
        double s0 = 0.0;
        double s1 = 0.0;
        double s2 = 0.0;
        double e0 = 1;
        double e1 = 1;
        double e2 = 1;
        double p0 = 1;
        double p1 = 1;
        double p2 = 1;
        double t0 = 1;
        double t1 = 1;
        double t2 = 1;
        double m0 = 0;
        double m1 = 0;
        double m2 = 0;
        double w0 = 0;
        double w1 = 0;
        double w2 = 0;
        for (int k = 0; k < at.length; k++) {
            int end = k + 1 < at.length ? at[k + 1] : n;
            int t = at[k];
            int j = start[k];
            while (t < end) {
                int stop = j + Math.min(end - t, n - j);
                t += stop - j;
                for (int q = j; q < stop; q++) {
                    double v0 = r0[q];
                    double v1 = r1[q];
                    double v2 = r2[q];
                    s0 += v0;
                    s1 += v1;
                    s2 += v2;
                    w0 += square(negativePart(v0));
                    w1 += square(negativePart(v1));
                    w2 += square(negativePart(v2));
                    e0 *= 1 + v0;
                    e1 *= 1 + v1;
                    e2 *= 1 + v2;
                    if (e0 > p0) {
                        double d = 1 - t0 / p0;
                        m0 = d > m0 ? d : m0;
                        p0 = e0;
                        t0 = e0;
                    } else if (e0 < t0) {
                        t0 = e0;
                    }
                    if (e1 > p1) {
                        double d = 1 - t1 / p1;
                        m1 = d > m1 ? d : m1;
                        p1 = e1;
                        t1 = e1;
                    } else if (e1 < t1) {
                        t1 = e1;
                    }
                    if (e2 > p2) {
                        double d = 1 - t2 / p2;
                        m2 = d > m2 ? d : m2;
                        p2 = e2;
                        t2 = e2;
                    } else if (e2 < t2) {
                        t2 = e2;
                    }
                }
                j = 0;
            }
        }
        double d0 = 1 - t0 / p0;
        double d1 = 1 - t1 / p1;
        double d2 = 1 - t2 / p2;
        out[1] = d0 > m0 ? d0 : m0;
        out[3] = d1 > m1 ? d1 : m1;
        out[5] = d2 > m2 ? d2 : m2;
        out[6] = Double.isFinite(p0) ? 0 : 1;
        out[7] = Double.isFinite(p1) ? 0 : 1;
        out[8] = Double.isFinite(p2) ? 0 : 1;
        double len = n;
        double x0 = s0 / len;
        double x1 = s1 / len;
        double x2 = s2 / len;
        double c0 = 0;
        double c1 = 0;
        double c2 = 0;
        for (int k = 0; k < at.length; k++) {
            int end = k + 1 < at.length ? at[k + 1] : n;
            int t = at[k];
            int j = start[k];
            while (t < end) {
                int stop = j + Math.min(end - t, n - j);
                t += stop - j;
                for (int q = j; q < stop; q++) {
                    c0 += r0[q] - x0;
                    c1 += r1[q] - x1;
                    c2 += r2[q] - x2;
                }
                j = 0;
            }
        }
        double mean0 = x0 + (c0 / len);
        double mean1 = x1 + (c1 / len);
        double mean2 = x2 + (c2 / len);
        double a0 = 0.0;
        double a1 = 0.0;
        double a2 = 0.0;
        double b0 = 0.0;
        double b1 = 0.0;
        double b2 = 0.0;
        for (int k = 0; k < at.length; k++) {
            int end = k + 1 < at.length ? at[k + 1] : n;
            int t = at[k];
            int j = start[k];
            while (t < end) {
                int stop = j + Math.min(end - t, n - j);
                t += stop - j;
                for (int q = j; q < stop; q++) {
                    double dev0 = r0[q] - mean0;
                    double dev1 = r1[q] - mean1;
                    double dev2 = r2[q] - mean2;
                    a0 += dev0 * dev0;
                    a1 += dev1 * dev1;
                    a2 += dev2 * dev2;
                    b0 += dev0;
                    b1 += dev1;
                    b2 += dev2;
                }
                j = 0;
            }
        }
        out[0] = sharpe(mean0, a0, b0, len, barsPerYear);
        out[2] = sharpe(mean1, a1, b1, len, barsPerYear);
        out[4] = sharpe(mean2, a2, b2, len, barsPerYear);
        out[9] = PerformanceMetrics.cagr(1, e0, len / barsPerYear);
        out[10] = PerformanceMetrics.cagr(1, e1, len / barsPerYear);
        out[11] = PerformanceMetrics.cagr(1, e2, len / barsPerYear);
        out[12] = sortino(mean0, w0, len, barsPerYear);
        out[13] = sortino(mean1, w1, len, barsPerYear);
        out[14] = sortino(mean2, w2, len, barsPerYear);
    }

    /**
     * {@code v} if its sign bit is set, else {@code +0.0}, without a branch: the sign bit, spread
     * over the word by an arithmetic shift, masks the bits. In {@link #measure3}'s sum of squared
     * losses, {@code w += square(negativePart(v))} takes the same values to the bit as {@code if (v
     * < 0) w += v * v} for any finite {@code v} (a gain, a zero or {@code -0.0} adds {@code +0.0},
     * which leaves the non-negative sum as it is), without the branch on the return's sign, which
     * the processor mispredicts about as often as a return is a loss: the measure took 1.6 to 2.2
     * times less time with it (resamples of 19,625 returns, 0 to 60% of them zero).
     */
    private static double negativePart(double v) {
        long bits = Double.doubleToRawLongBits(v);
        return Double.longBitsToDouble(bits & (bits >> 63));
    }

    private static double square(double v) {
        return v * v;
    }

    /**
     * The annualised Sortino ratio from the mean and the sum of squared losses: {@link
     * PerformanceMetrics#sortino} to the bit where there is a loss; without one, {@code +Infinity}
     * for a positive mean (a resample that never loses: the ratio's limit, kept so that the
     * percentiles count it instead of dropping it) and NaN for a zero mean (all flat: undefined).
     */
    private static double sortino(double mean, double down, double len, double barsPerYear) {
        double dd = Math.sqrt(down / len);
        return dd > 0
                ? mean / dd * Math.sqrt(barsPerYear)
                : mean > 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    }

    /** The annualised Sharpe from {@link #sharpeAndMaxDrawdown}'s third pass (NaN if sd is 0). */
    private static double sharpe(
            double mean, double accum, double accum2, double len, double barsPerYear) {
        double sd = Math.sqrt((accum - (accum2 * accum2 / len)) / (len - 1.0));
        return sd > 0 ? mean / sd * Math.sqrt(barsPerYear) : Double.NaN;
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

        /**
         * Resample {@code s} of {@code r}: {@code sample[t] = r[index of t]}.
         *
         * @param s the resample
         * @param r returns of length {@code n}
         * @param sample filled, length {@code n}
         */
        void copy(int s, double[] r, double[] sample) {
            blocks[s].copy(r, sample);
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
        double e = 1;
        double peak = 1;
        double max = 0;
        double down = 0;
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
        out[0] = sharpe(mean, accum, accum2, len, barsPerYear);
        out[1] = max;
        if (out.length >= 4) {
            out[2] = PerformanceMetrics.cagr(1, e, len / barsPerYear);
            out[3] = sortino(mean, down, len, barsPerYear);
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

    /**
     * The 2.5% and 97.5% percentiles of the values that are not NaN, {@code +Infinity} counted as
     * the largest (a Sortino ratio of a resample without a loss): a percentile whose interpolation
     * reaches an infinite value is {@code +Infinity}. On finite values, {@link #percentiles}.
     */
    static double[] percentilesWithInfinity(double[] values) {
        double[] v = Arrays.stream(values).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        return new double[] {quantileWithInfinity(v, 0.025), quantileWithInfinity(v, 0.975)};
    }

    private static double quantileWithInfinity(double[] sorted, double q) {
        double h = (sorted.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        if (Double.isInfinite(sorted[lo]) || (h > lo && Double.isInfinite(sorted[hi]))) {
            return h > lo ? sorted[hi] : sorted[lo];
        }
        return quantile(sorted, q);
    }

    private static double quantile(double[] sorted, double q) {
        double h = (sorted.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}

package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BootstrapTest {

    /** An AR(1)-volatility-free random walk of n returns, seeded. */
    private static double[] curve(int n, long seed, double drift) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] e = new double[n + 1];
        e[0] = 100;
        for (int i = 1; i <= n; i++) {
            double z = rng.nextDouble() + rng.nextDouble() + rng.nextDouble() - 1.5;
            e[i] = e[i - 1] * (1 + drift + 0.02 * z);
        }
        return e;
    }

    private static Map<String, Bootstrap.Intervals> run(int n) {
        Map<String, double[]> curves = new LinkedHashMap<>();
        curves.put("fixed", curve(n, 1, 0.0005));
        curves.put("kelly", curve(n, 2, 0.0010));
        return Bootstrap.intervals(curves, "fixed", 252, 1000, 7);
    }

    @Test
    void intervalsContainThePointEstimates() {
        int n = 2000;
        Map<String, Bootstrap.Intervals> ci = run(n);
        for (String name : new String[] {"fixed", "kelly"}) {
            double[] eq =
                    curve(n, name.equals("fixed") ? 1 : 2, name.equals("fixed") ? 0.0005 : 0.001);
            double[] r = PerformanceMetrics.returns(eq);
            double sharpe = PerformanceMetrics.sharpe(r, 252);
            double dd = PerformanceMetrics.maxDrawdown(eq);
            assertThat(sharpe).isBetween(ci.get(name).sharpe()[0], ci.get(name).sharpe()[1]);
            assertThat(dd).isBetween(ci.get(name).maxDrawdown()[0], ci.get(name).maxDrawdown()[1]);
            // CAGR over the curve's own span (n bars at 252 a year) and Sortino
            double cagr = PerformanceMetrics.cagr(eq[0], eq[n], n / 252.0);
            double sortino = PerformanceMetrics.sortino(r, 252);
            assertThat(cagr).isBetween(ci.get(name).cagr()[0], ci.get(name).cagr()[1]);
            assertThat(sortino).isBetween(ci.get(name).sortino()[0], ci.get(name).sortino()[1]);
            assertThat(ci.get(name).cagr()[1]).isGreaterThan(ci.get(name).cagr()[0]);
        }
        assertThat(ci.get("fixed").sharpeDiffVsBaseline()[0]).isNaN();
        double[] d = ci.get("kelly").sharpeDiffVsBaseline();
        double diff =
                PerformanceMetrics.sharpe(PerformanceMetrics.returns(curve(n, 2, 0.001)), 252)
                        - PerformanceMetrics.sharpe(
                                PerformanceMetrics.returns(curve(n, 1, 0.0005)), 252);
        assertThat(diff).isBetween(d[0], d[1]);
    }

    @Test
    void intervalsShrinkWithMoreData() {
        Bootstrap.Intervals small = run(500).get("kelly");
        Bootstrap.Intervals large = run(8000).get("kelly");
        double wSmall = small.sharpe()[1] - small.sharpe()[0];
        double wLarge = large.sharpe()[1] - large.sharpe()[0];
        // Sharpe's standard error falls like 1/sqrt(n): 16x the data, about a quarter the width
        assertThat(wLarge).isLessThan(wSmall * 0.5);
        double dSmall = small.sharpeDiffVsBaseline()[1] - small.sharpeDiffVsBaseline()[0];
        double dLarge = large.sharpeDiffVsBaseline()[1] - large.sharpeDiffVsBaseline()[0];
        assertThat(dLarge).isLessThan(dSmall * 0.5);
        // Max drawdown is path-length dependent (it grows with the horizon), so its interval is
        // not asserted to shrink.
    }

    @Test
    void seededAndReproducible() {
        assertThat(run(700).get("kelly").sharpe()).containsExactly(run(700).get("kelly").sharpe());
    }

    @Test
    void theIntervalsAreIdenticalWhateverTheThreadsAndAsTheOneStreamDrawsThem() {
        Map<String, double[]> curves = new LinkedHashMap<>();
        curves.put("fixed", curve(1500, 1, 0.0005));
        curves.put("kelly", curve(1500, 2, 0.0010));
        curves.put("hold", curve(1500, 3, 0.0002));
        Map<String, Bootstrap.Intervals> reference = oneStream(curves, "fixed", 252, 301, 11);
        for (int threads : new int[] {1, 2, 3, 8, 400}) {
            Map<String, Bootstrap.Intervals> ci =
                    Bootstrap.intervals(curves, "fixed", 252, 301, 11, threads);
            assertThat(ci).containsOnlyKeys("fixed", "kelly", "hold");
            for (String name : ci.keySet()) {
                Bootstrap.Intervals a = ci.get(name);
                Bootstrap.Intervals b = reference.get(name);
                assertThat(a.sharpe()).as(name + " " + threads).containsExactly(b.sharpe());
                assertThat(a.maxDrawdown())
                        .as(name + " " + threads)
                        .containsExactly(b.maxDrawdown());
                assertThat(a.sharpeDiffVsBaseline())
                        .as(name + " " + threads)
                        .containsExactly(b.sharpeDiffVsBaseline());
                assertThat(a.cagr()).as(name + " " + threads).containsExactly(b.cagr());
                assertThat(a.sortino()).as(name + " " + threads).containsExactly(b.sortino());
            }
        }
    }

    /**
     * Draws made ahead (as the walk-forward has a worker make them while the account pass runs)
     * give the same intervals as draws made inside; draws of another length or seed are not used.
     */
    @Test
    void drawsMadeAheadGiveTheSameIntervalsAndOnlyTheirOwn() {
        Map<String, double[]> curves = new LinkedHashMap<>();
        curves.put("fixed", curve(900, 1, 0.0005));
        curves.put("kelly", curve(900, 2, 0.0010));
        Map<String, Bootstrap.Intervals> reference = oneStream(curves, "fixed", 252, 201, 5);
        Bootstrap.Draws own = Bootstrap.draws(899, 201, 5);
        Bootstrap.Draws otherLength = Bootstrap.draws(898, 201, 5);
        Bootstrap.Draws otherSeed = Bootstrap.draws(899, 201, 6);
        for (Bootstrap.Draws drawn : new Bootstrap.Draws[] {own, otherLength, otherSeed}) {
            Map<String, Bootstrap.Intervals> ci =
                    Bootstrap.intervals(curves, "fixed", 252, 201, 5, 2, drawn);
            for (String name : ci.keySet()) {
                assertThat(ci.get(name).sharpe())
                        .as(name)
                        .containsExactly(reference.get(name).sharpe());
                assertThat(ci.get(name).maxDrawdown())
                        .as(name)
                        .containsExactly(reference.get(name).maxDrawdown());
                assertThat(ci.get(name).sharpeDiffVsBaseline())
                        .as(name)
                        .containsExactly(reference.get(name).sharpeDiffVsBaseline());
            }
        }
        // The other seed's draws give other intervals: the check above would see them used.
        assertThat(oneStream(curves, "fixed", 252, 201, 6).get("kelly").sharpe())
                .isNotEqualTo(reference.get("kelly").sharpe());
    }

    /** The stationary bootstrap as first written: one loop, each resample drawn then measured. */
    private static Map<String, Bootstrap.Intervals> oneStream(
            Map<String, double[]> curves,
            String baseline,
            double barsPerYear,
            int resamples,
            long seed) {
        java.util.List<String> names = java.util.List.copyOf(curves.keySet());
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
        SplittableRandom rng = new SplittableRandom(seed);
        int[] idx = new int[n];
        double p = 1.0 / Bootstrap.blockLength(n);
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
                dd[i][s] = Bootstrap.maxDrawdownOfReturns(sample);
                double growth = 1;
                for (double v : sample) {
                    growth *= 1 + v;
                }
                cagr[i][s] = PerformanceMetrics.cagr(1, growth, n / barsPerYear);
                sortino[i][s] = sortinoOfResample(sample, barsPerYear);
            }
            for (int i = 0; i < m; i++) {
                diff[i][s] = base >= 0 ? sharpe[i][s] - sharpe[base][s] : Double.NaN;
            }
        }
        Map<String, Bootstrap.Intervals> out = new LinkedHashMap<>();
        for (int i = 0; i < m; i++) {
            out.put(
                    names.get(i),
                    new Bootstrap.Intervals(
                            Bootstrap.percentiles(sharpe[i]),
                            Bootstrap.percentiles(dd[i]),
                            i == base
                                    ? new double[] {Double.NaN, Double.NaN}
                                    : Bootstrap.percentiles(diff[i]),
                            Bootstrap.percentiles(cagr[i]),
                            Bootstrap.percentilesWithInfinity(sortino[i])));
        }
        return out;
    }

    /**
     * The fused three-pass statistics equal commons-math's Sharpe (via {@link PerformanceMetrics})
     * and {@link Bootstrap#maxDrawdownOfReturns} to the bit, on returns of several sizes and
     * scales.
     */
    @Test
    void fusedStatisticsEqualTheSharpeAndDrawdownToTheBit() {
        SplittableRandom rng = new SplittableRandom(3);
        double[] out = new double[4];
        for (int k = 0; k < 300; k++) {
            int n = 2 + rng.nextInt(k < 200 ? 50 : 20_000);
            double scale = Math.pow(10, -4 + rng.nextInt(4));
            double[] r = new double[n];
            for (int t = 0; t < n; t++) {
                r[t] = scale * (rng.nextDouble() - 0.48);
            }
            Bootstrap.sharpeAndMaxDrawdown(r, 2190, out);
            assertThat(out[0]).as("sharpe, n=" + n).isEqualTo(PerformanceMetrics.sharpe(r, 2190));
            assertThat(out[1])
                    .as("max drawdown, n=" + n)
                    .isEqualTo(Bootstrap.maxDrawdownOfReturns(r));
            // boxed: NaN (no loss in the sample) equals NaN
            assertThat(Double.valueOf(out[3]))
                    .as("sortino, n=" + n)
                    .isEqualTo(Double.valueOf(sortinoOfResample(r, 2190)));
            double growth = 1;
            for (double v : r) {
                growth *= 1 + v;
            }
            assertThat(out[2])
                    .as("cagr, n=" + n)
                    .isEqualTo(PerformanceMetrics.cagr(1, growth, n / 2190.0));
        }
        Bootstrap.sharpeAndMaxDrawdown(new double[] {0.01, 0.01, 0.01}, 252, out);
        assertThat(out[0]).isNaN(); // sd 0
        assertThat(out[1]).isZero();
    }

    /**
     * Every resample's Sharpe, drawdown, CAGR and Sortino ratio, measured three curves at a time
     * over the blocks, equal the copied resample's {@link Bootstrap#sharpeAndMaxDrawdown} to the
     * bit: for 1 to 7 curves (lanes left over), curves with deep drawdowns, a flat one (sd 0), one
     * with a -100% return and one with a non-finite return (both measured one by one), on 1 and 3
     * threads.
     */
    @Test
    void theCurvesMeasuredTogetherEqualEachResampleMeasuredAloneToTheBit() {
        SplittableRandom rng = new SplittableRandom(17);
        int n = 1_777;
        double[][] pool = new double[9][n];
        for (int i = 0; i < 7; i++) {
            double scale = Math.pow(10, -3 + i % 3);
            for (int t = 0; t < n; t++) {
                pool[i][t] = scale * (rng.nextDouble() - 0.49);
            }
        }
        java.util.Arrays.fill(pool[4], 0.002); // flat: sd 0, Sharpe NaN
        pool[5][300] = -1; // equity to zero
        pool[6][40] = Double.POSITIVE_INFINITY;
        Bootstrap.Draws draws = Bootstrap.draws(n, 97, 23);
        double[] sample = new double[n];
        double[] one = new double[4];
        int compared = 0;
        for (int m = 1; m <= 7; m++) {
            double[][] r = new double[m][];
            for (int i = 0; i < m; i++) {
                r[i] = pool[(i * 5 + m) % 7];
            }
            for (int threads : new int[] {1, 3}) {
                double[][][] stats = Bootstrap.resampled(r, 2190, draws, threads);
                for (int i = 0; i < m; i++) {
                    for (int s = 0; s < 97; s++) {
                        draws.copy(s, r[i], sample);
                        Bootstrap.sharpeAndMaxDrawdown(sample, 2190, one);
                        assertThat(Double.doubleToLongBits(stats[0][i][s]))
                                .as("sharpe, m=%d curve %d resample %d", m, i, s)
                                .isEqualTo(Double.doubleToLongBits(one[0]));
                        assertThat(Double.doubleToLongBits(stats[1][i][s]))
                                .as("drawdown, m=%d curve %d resample %d", m, i, s)
                                .isEqualTo(Double.doubleToLongBits(one[1]));
                        assertThat(Double.doubleToLongBits(stats[2][i][s]))
                                .as("cagr, m=%d curve %d resample %d", m, i, s)
                                .isEqualTo(Double.doubleToLongBits(one[2]));
                        assertThat(Double.doubleToLongBits(stats[3][i][s]))
                                .as("sortino, m=%d curve %d resample %d", m, i, s)
                                .isEqualTo(Double.doubleToLongBits(one[3]));
                        compared++;
                    }
                }
            }
        }
        assertThat(compared).isEqualTo(2 * 97 * 28);
    }

    @Test
    void blockLengthIsTheCubeRoot() {
        assertThat(Bootstrap.blockLength(19_625)).isEqualTo(27);
        assertThat(Bootstrap.blockLength(3_961)).isEqualTo(16);
        assertThat(Bootstrap.blockLength(1)).isEqualTo(1);
    }

    /**
     * A resample's Sortino ratio as the bootstrap counts it: {@link PerformanceMetrics#sortino}
     * (NaN without a loss), except that a resample without a loss and with a positive mean is
     * {@code +Infinity}.
     */
    static double sortinoOfResample(double[] r, double barsPerYear) {
        double s = PerformanceMetrics.sortino(r, barsPerYear);
        double sum = 0;
        for (double x : r) {
            sum += x;
        }
        return Double.isNaN(s) && sum > 0 ? Double.POSITIVE_INFINITY : s;
    }

    /**
     * Returns that rarely lose: one small loss in 300 bars, so over a third of the resamples (those
     * that miss the loss's block) have no loss and an infinite Sortino ratio. They are counted as
     * {@code +Infinity}, not dropped: the upper bound is {@code +Infinity} (dropped, it was the
     * 97.5% of the finite ones, biased low), the lower bound finite and the other intervals as
     * before; the report prints the upper bound as {@code inf}.
     */
    @Test
    void resamplesWithoutALossCountAsAnInfiniteSortinoRatio() {
        int n = 300;
        double[] eq = new double[n + 1];
        eq[0] = 100;
        for (int t = 1; t <= n; t++) {
            eq[t] = eq[t - 1] * (t == 150 ? 0.9995 : 1 + 0.0005 + 0.0001 * (t % 7));
        }
        Bootstrap.Intervals ci =
                Bootstrap.intervals(Map.of("p", eq), "none", 252, 1000, 42).get("p");
        assertThat(ci.sortino()[1]).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(ci.sortino()[0]).isFinite().isPositive();
        assertThat(ci.sharpe()[1]).isFinite();
        assertThat(TextReport.range(ci.sortino(), false)).endsWith("..inf");
        // the same resamples with the no-loss ones dropped: a finite, lower upper bound
        // (linear interpolation: h = (n - 1) q; [1, 2] gives 1.025 and 1.975, [1, 2, inf] 1.05
        // and, for 97.5% at h = 1.95 between 2 and inf, inf)
        assertThat(Bootstrap.percentiles(new double[] {1, 2, Double.POSITIVE_INFINITY})[1])
                .isCloseTo(1.975, org.assertj.core.api.Assertions.within(1e-12));
        double[] counted =
                Bootstrap.percentilesWithInfinity(
                        new double[] {1, 2, Double.POSITIVE_INFINITY, Double.NaN});
        assertThat(counted[0]).isCloseTo(1.05, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(counted[1]).isEqualTo(Double.POSITIVE_INFINITY);
    }
}

package dev.quiver.host.backtest;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The policy table again, on the test bars after a policy's declared training span only: how a
 * policy trained once on a stated span (its descriptor's {@code trained_through}, e.g. {@code dqn})
 * compares with the others where it was not trained. Every curve (each policy's and buy-and-hold's)
 * is cut at the first test bar after that instant and measured from there, as if the account had
 * started at that bar's close with its equity then; the intervals are the same stationary bootstrap
 * as the main table's ({@link Bootstrap}), on the cut curves.
 *
 * @param policy the policy trained on the stated span
 * @param trainedThrough the last bar of its training span (its descriptor's {@code
 *     trained_through})
 * @param firstBar index into the test bars of the first bar after it; {@code bars} counts from it
 * @param bars test bars after the span; fewer than 3 (e.g. a series that ends before it) leaves
 *     {@code rows} empty: nothing is evaluated
 * @param rows per policy and {@code buy_and_hold}, in the report's policy order (the terminal shows
 *     them by name, as its main table)
 */
public record LaterBars(
        String policy, Instant trainedThrough, int firstBar, int bars, Map<String, Row> rows) {

    /**
     * One curve's figures on the later bars.
     *
     * @param cagr compound annual growth over the later bars
     * @param sharpe annualised Sharpe of the later bars' returns (as {@link PerformanceMetrics})
     * @param maxDrawdown largest fall from a peak reached on the later bars
     * @param exposure share of the later bars whose decided target was above 0 (NaN for
     *     buy-and-hold, which holds throughout)
     * @param sharpeCi 95% bootstrap interval of the Sharpe
     * @param sharpeDiffVsFixedCi 95% bootstrap interval of its Sharpe minus {@code fixed}'s, paired
     */
    public record Row(
            double cagr,
            double sharpe,
            double maxDrawdown,
            double exposure,
            double[] sharpeCi,
            double[] sharpeDiffVsFixedCi) {}

    /**
     * Cuts every curve after {@code trainedThrough} and measures it.
     *
     * @param policy the policy with the stated span
     * @param trainedThrough its last training bar
     * @param testTimes start of every test bar, epoch ms
     * @param policies every policy's result, in order
     * @param hold buy-and-hold's result
     * @param withIntervals whether to bootstrap (a run without intervals leaves them NaN)
     * @param threads threads for the bootstrap
     * @return the later-bars table
     */
    static LaterBars of(
            String policy,
            Instant trainedThrough,
            long[] testTimes,
            Map<String, PolicyResult> policies,
            PolicyResult hold,
            boolean withIntervals,
            int threads) {
        int firstAfter = testTimes.length;
        for (int i = 0; i < testTimes.length; i++) {
            if (testTimes[i] > trainedThrough.toEpochMilli()) {
                firstAfter = i;
                break;
            }
        }
        final int first = firstAfter;
        final int n = testTimes.length - first;
        if (n < 3) {
            return new LaterBars(policy, trainedThrough, first, n, Map.of());
        }
        Map<String, double[]> curves = new LinkedHashMap<>();
        Map<String, double[]> targets = new LinkedHashMap<>();
        policies.forEach(
                (name, r) -> {
                    curves.put(name, java.util.Arrays.copyOfRange(r.equity(), first, first + n));
                    targets.put(
                            name,
                            java.util.Arrays.copyOfRange(r.targetFraction(), first, first + n));
                });
        curves.put(hold.name(), java.util.Arrays.copyOfRange(hold.equity(), first, first + n));
        double years = PerformanceMetrics.years(testTimes[first], testTimes[testTimes.length - 1]);
        double barsPerYear = (n - 1) / years;
        Map<String, Bootstrap.Intervals> ci =
                withIntervals
                        ? Bootstrap.intervals(
                                curves,
                                WalkForwardBacktest.BASELINE,
                                barsPerYear,
                                Bootstrap.RESAMPLES,
                                Bootstrap.SEED,
                                threads)
                        : Map.of();
        double[] none = {Double.NaN, Double.NaN};
        Map<String, Row> rows = new LinkedHashMap<>();
        curves.forEach(
                (name, e) -> {
                    double[] t = targets.get(name);
                    double exposure = Double.NaN;
                    if (t != null) {
                        int held = 0;
                        for (double f : t) {
                            held += f > 0 ? 1 : 0;
                        }
                        exposure = (double) held / t.length;
                    }
                    Bootstrap.Intervals c = ci.get(name);
                    rows.put(
                            name,
                            new Row(
                                    PerformanceMetrics.cagr(e[0], e[e.length - 1], years),
                                    PerformanceMetrics.sharpe(
                                            PerformanceMetrics.returns(e), barsPerYear),
                                    PerformanceMetrics.maxDrawdown(e),
                                    exposure,
                                    c == null ? none : c.sharpe(),
                                    c == null ? none : c.sharpeDiffVsBaseline()));
                });
        return new LaterBars(policy, trainedThrough, first, n, rows);
    }
}

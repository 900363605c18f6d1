package dev.quiver.host.bench;

import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.feature.StreamingFeatures;
import dev.quiver.engine.fusion.PassThroughEnsemble;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.engine.trading.Trade;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.PolicyResult;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;
import org.ta4j.core.BarSeries;
import org.ta4j.core.num.DecimalNum;
import org.ta4j.core.num.DoubleNum;
import org.ta4j.core.num.Num;

/**
 * {@code quiver bench}: backtest throughput of the traditional signal with fixed sizing, Quiver's
 * pipeline (streaming features, the plugin through its extension point, sizing plugin, risk guard,
 * account) against ta4j computing the same indicators and rule with {@link DoubleNum} and with its
 * default {@link DecimalNum}, on the same bars in the same JVM, and a trade-for-trade comparison.
 *
 * <p>Method: each side runs {@code warmupRuns} untimed, then {@code runs} timed runs; the figure is
 * bars divided by the median run's wall time. Data loading (CSV parsing, ta4j series construction)
 * is not timed on either side; feature and indicator computation is.
 */
public final class Bench {

    /** Result of a bench run. */
    public record Result(
            String dataset,
            int bars,
            int runs,
            double quiverBarsPerSecond,
            double ta4jDoubleBarsPerSecond,
            double ta4jDecimalBarsPerSecond,
            int quiverTrades,
            int ta4jTrades,
            boolean identicalTrades,
            String firstDifference) {

        /** Quiver over ta4j DoubleNum. */
        public double speedupOverDouble() {
            return quiverBarsPerSecond / ta4jDoubleBarsPerSecond;
        }

        /** Quiver over ta4j DecimalNum. */
        public double speedupOverDecimal() {
            return quiverBarsPerSecond / ta4jDecimalBarsPerSecond;
        }
    }

    private final BarData bars;
    private final PredictionCapability traditional;
    private final SizingCapability fixed;
    private final CostModel costs;
    private final PrintStream progress;

    /**
     * @param bars the series
     * @param traditional the traditional prediction capability (from its plugin)
     * @param fixed the fixed-fraction sizing capability (from its plugin)
     * @param costs charged on both sides
     * @param progress where progress lines go (stderr)
     */
    public Bench(
            BarData bars,
            PredictionCapability traditional,
            SizingCapability fixed,
            CostModel costs,
            PrintStream progress) {
        this.bars = bars;
        this.traditional = traditional;
        this.fixed = fixed;
        this.costs = costs;
        this.progress = progress;
    }

    /**
     * Runs both sides.
     *
     * @param warmupRuns untimed runs per side, {@code >= 0}
     * @param runs timed runs per side, {@code >= 1}
     * @param decimalRuns timed runs for the (slow) DecimalNum side, {@code >= 1}
     * @return figures and the trade comparison
     */
    public Result run(int warmupRuns, int runs, int decimalRuns) {
        // One training bar and the minimum embargo: the rule needs no fitting, and the test span
        // then starts right after warm-up. The pass-through ensemble keeps the raw probability.
        var config =
                new WalkForwardBacktest.Config(1, 1, bars.size(), 10_000, costs, 1.0, 0.05, 250);
        Supplier<BacktestResult> quiver =
                () ->
                        new WalkForwardBacktest(config)
                                .withoutIntervals()
                                .run(
                                        FeaturePipeline.compute(bars),
                                        List.of(traditional),
                                        new PassThroughEnsemble(),
                                        List.of(fixed),
                                        new RiskGuard(),
                                        Progress.NONE);
        int firstTestBar = StreamingFeatures.FIRST_WARM_INDEX + 2;

        progress.printf(
                Locale.ROOT, "bench %s: quiver, %d+%d runs%n", bars.symbol(), warmupRuns, runs);
        BacktestResult last = null;
        for (int i = 0; i < warmupRuns; i++) {
            last = quiver.get();
        }
        long[] quiverNanos = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            last = quiver.get();
            quiverNanos[i] = System.nanoTime() - t0;
        }
        PolicyResult policy = last.policies().get(fixed.descriptor().name());
        List<Ta4jBacktest.Episode> quiverEpisodes = episodes(policy.trades());

        double rate = costs.rate();
        progress.printf(
                Locale.ROOT,
                "bench %s: ta4j DoubleNum, %d+%d runs%n",
                bars.symbol(),
                warmupRuns,
                runs);
        var doubleSide = time(DoubleNum::valueOf, firstTestBar, rate, warmupRuns, runs);
        progress.printf(
                Locale.ROOT, "bench %s: ta4j DecimalNum, 1+%d runs%n", bars.symbol(), decimalRuns);
        var decimalSide = time(DecimalNum::valueOf, firstTestBar, rate, 1, decimalRuns);

        String difference = firstDifference(quiverEpisodes, doubleSide.episodes);
        if (difference == null) {
            difference = firstDifference(quiverEpisodes, decimalSide.episodes);
        }
        return new Result(
                bars.symbol(),
                bars.size(),
                runs,
                bars.size() / (median(quiverNanos) / 1e9),
                bars.size() / (median(doubleSide.nanos) / 1e9),
                bars.size() / (median(decimalSide.nanos) / 1e9),
                quiverEpisodes.size(),
                doubleSide.episodes.size(),
                difference == null,
                difference);
    }

    private record Side(long[] nanos, List<Ta4jBacktest.Episode> episodes) {}

    private Side time(
            Function<Number, Num> numbers,
            int firstTestBar,
            double rate,
            int warmupRuns,
            int runs) {
        BarSeries series = Ta4jReference.toSeries(bars, numbers);
        var record = Ta4jBacktest.run(series, firstTestBar, rate);
        for (int i = 1; i < warmupRuns; i++) {
            record = Ta4jBacktest.run(series, firstTestBar, rate);
        }
        long[] nanos = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            record = Ta4jBacktest.run(series, firstTestBar, rate);
            nanos[i] = System.nanoTime() - t0;
        }
        return new Side(nanos, Ta4jBacktest.episodes(record));
    }

    private List<Ta4jBacktest.Episode> episodes(List<Trade> trades) {
        var out = new ArrayList<Ta4jBacktest.Episode>();
        for (Trade t : trades) {
            int entry = indexOf(t.entry().toEpochMilli());
            int exit = t.closedAtEnd() ? -1 : indexOf(t.exit().toEpochMilli());
            out.add(new Ta4jBacktest.Episode(entry, exit));
        }
        return out;
    }

    private int indexOf(long startMillis) {
        int i = Arrays.binarySearch(bars.startMillis, startMillis);
        if (i < 0) {
            throw new IllegalStateException("trade time " + startMillis + " is not a bar start");
        }
        return i;
    }

    static String firstDifference(
            List<Ta4jBacktest.Episode> quiver, List<Ta4jBacktest.Episode> ta4j) {
        int n = Math.min(quiver.size(), ta4j.size());
        for (int i = 0; i < n; i++) {
            if (!quiver.get(i).equals(ta4j.get(i))) {
                return "trade " + i + ": quiver " + quiver.get(i) + " vs ta4j " + ta4j.get(i);
            }
        }
        if (quiver.size() != ta4j.size()) {
            return "quiver has " + quiver.size() + " trades, ta4j " + ta4j.size();
        }
        return null;
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2.0;
    }
}

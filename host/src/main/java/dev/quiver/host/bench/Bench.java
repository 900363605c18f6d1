package dev.quiver.host.bench;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.feature.FeatureMatrix;
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
import java.util.function.Supplier;
import org.ta4j.core.BarSeries;
import org.ta4j.core.TradingRecord;
import org.ta4j.core.num.DecimalNum;
import org.ta4j.core.num.DoubleNum;

/**
 * {@code quiver bench}: backtest throughput of the traditional signal with fixed sizing, Quiver's
 * pipeline (streaming features, the plugin through its extension point, sizing plugin, risk guard,
 * account) against ta4j computing the same indicators and rule with {@link DoubleNum} and with its
 * default {@link DecimalNum}, on the same bars in the same JVM, and a trade-for-trade comparison.
 *
 * <p>What Quiver runs is the walk-forward backtest itself ({@link WalkForwardBacktest#run}: the
 * feature pipeline, then every test bar stepped through the engine's {@code SymbolEngine}, then the
 * report's metrics, without the bootstrap intervals), not a loop of its own.
 *
 * <p>Method: Quiver and ta4j {@code DoubleNum} run in interleaved rounds (see {@link #run}), so
 * both get the same warm-up and the same machine load; the figure is bars divided by the median
 * run's wall time. Data loading (CSV parsing, ta4j series construction) is not timed on either
 * side; feature and indicator computation is.
 */
public final class Bench {

    /**
     * Result of a bench run.
     *
     * @param dataset the series' id
     * @param bars bars per run (the whole series)
     * @param runs timed rounds
     * @param quiverBarsPerSecond bars / median wall time of the walk-forward backtest, bars/s
     * @param ta4jDoubleBarsPerSecond the same for ta4j with {@code DoubleNum}, bars/s
     * @param ta4jDecimalBarsPerSecond the same for ta4j with {@code DecimalNum}, bars/s
     * @param pluginCallsBarsPerSecond bars / median wall time of the backtest's plugin calls alone
     *     (the traditional forecast and the fixed sizing of every decided bar, through the same
     *     capability objects, on the same frames), bars/s: Quiver's ceiling
     * @param quiverTrades Quiver's trades (the open one included)
     * @param ta4jTrades ta4j's
     * @param identicalTrades whether every entry and exit bar is the same on all sides
     * @param firstDifference the first difference, or null
     */
    public record Result(
            String dataset,
            int bars,
            int runs,
            double quiverBarsPerSecond,
            double ta4jDoubleBarsPerSecond,
            double ta4jDecimalBarsPerSecond,
            double pluginCallsBarsPerSecond,
            int quiverTrades,
            int ta4jTrades,
            boolean identicalTrades,
            String firstDifference) {

        /** Quiver over ta4j DoubleNum. */
        public double speedupOverDouble() {
            return quiverBarsPerSecond / ta4jDoubleBarsPerSecond;
        }

        /**
         * The ceiling: the plugin calls alone over ta4j DoubleNum, what Quiver would reach if
         * everything but its two plugin calls per bar took no time.
         */
        public double pluginCallsOverDouble() {
            return pluginCallsBarsPerSecond / ta4jDoubleBarsPerSecond;
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
     * Runs both sides, interleaved: each round runs Quiver and ta4j {@code DoubleNum} back to back
     * (which goes first alternates), so both see the same JIT history and the same machine load;
     * warm-up rounds first, untimed. Then ta4j {@code DecimalNum} (slow): {@link
     * #DECIMAL_WARMUP_RUNS} untimed runs and {@code decimalRuns} timed ones.
     *
     * @param warmupRuns untimed rounds (one run per side each), {@code >= 0}
     * @param runs timed rounds, {@code >= 1}
     * @param decimalRuns timed runs for the (slow) DecimalNum side, {@code >= 1}
     * @return figures and the trade comparison
     */
    public Result run(int warmupRuns, int runs, int decimalRuns) {
        // One training bar and the minimum embargo: the rule needs no fitting, and the test span
        // then starts right after warm-up. The pass-through ensemble keeps the raw probability.
        // One thread, like ta4j's BarSeriesManager: with a single fold nothing could overlap.
        var config =
                new WalkForwardBacktest.Config(1, 1, bars.size(), 10_000, costs, 1.0, 0.05, 250);
        Supplier<BacktestResult> quiver =
                () ->
                        new WalkForwardBacktest(config)
                                .withThreads(1)
                                .withoutIntervals()
                                // ta4j's rule has no input gate: compared trade for trade
                                .withoutGate()
                                .run(
                                        FeaturePipeline.compute(bars),
                                        List.of(traditional),
                                        new PassThroughEnsemble(),
                                        List.of(fixed),
                                        new RiskGuard(),
                                        Progress.NONE);
        int firstTestBar = StreamingFeatures.FIRST_WARM_INDEX + 2;
        double rate = costs.rate();
        // Data loading is not timed: ta4j's series are built once, like Quiver's BarData.
        BarSeries doubleSeries = Ta4jReference.toSeries(bars, DoubleNum::valueOf);
        BarSeries decimalSeries = Ta4jReference.toSeries(bars, DecimalNum::valueOf);
        Supplier<TradingRecord> ta4jDouble =
                () -> Ta4jBacktest.run(doubleSeries, firstTestBar, rate);
        Supplier<TradingRecord> ta4jDecimal =
                () -> Ta4jBacktest.run(decimalSeries, firstTestBar, rate);
        Supplier<Integer> pluginCalls = pluginCalls(firstTestBar);

        progress.printf(
                Locale.ROOT,
                "bench %s: quiver and ta4j DoubleNum interleaved, %d warm-up + %d timed rounds%n",
                bars.symbol(),
                warmupRuns,
                runs);
        Object[] last = new Object[3];
        for (int i = 0; i < warmupRuns; i++) {
            last[0] = quiver.get();
            last[1] = ta4jDouble.get();
            last[2] = pluginCalls.get();
        }
        long[] quiverNanos = new long[runs];
        long[] doubleNanos = new long[runs];
        long[] pluginNanos = new long[runs];
        for (int i = 0; i < runs; i++) {
            if (i % 2 == 0) {
                quiverNanos[i] = timed(quiver, last, 0);
                doubleNanos[i] = timed(ta4jDouble, last, 1);
            } else {
                doubleNanos[i] = timed(ta4jDouble, last, 1);
                quiverNanos[i] = timed(quiver, last, 0);
            }
            pluginNanos[i] = timed(pluginCalls, last, 2);
        }
        PolicyResult policy = ((BacktestResult) last[0]).policies().get(fixed.descriptor().name());
        List<Ta4jBacktest.Episode> quiverEpisodes = episodes(policy.trades());
        List<Ta4jBacktest.Episode> doubleEpisodes = Ta4jBacktest.episodes((TradingRecord) last[1]);

        progress.printf(
                Locale.ROOT,
                "bench %s: ta4j DecimalNum, %d warm-up + %d timed runs%n",
                bars.symbol(),
                DECIMAL_WARMUP_RUNS,
                decimalRuns);
        for (int i = 0; i < DECIMAL_WARMUP_RUNS; i++) {
            last[1] = ta4jDecimal.get();
        }
        long[] decimalNanos = new long[decimalRuns];
        for (int i = 0; i < decimalRuns; i++) {
            decimalNanos[i] = timed(ta4jDecimal, last, 1);
        }
        List<Ta4jBacktest.Episode> decimalEpisodes = Ta4jBacktest.episodes((TradingRecord) last[1]);

        String difference = firstDifference(quiverEpisodes, doubleEpisodes);
        if (difference == null) {
            difference = firstDifference(quiverEpisodes, decimalEpisodes);
        }
        return new Result(
                bars.symbol(),
                bars.size(),
                runs,
                bars.size() / (median(quiverNanos) / 1e9),
                bars.size() / (median(doubleNanos) / 1e9),
                bars.size() / (median(decimalNanos) / 1e9),
                bars.size() / (median(pluginNanos) / 1e9),
                quiverEpisodes.size(),
                doubleEpisodes.size(),
                difference == null,
                difference);
    }

    /**
     * The backtest's plugin calls alone, for the ceiling: per decided bar ({@code firstTestBar} on)
     * the traditional forecast of the bar's frame and the fixed sizing of a context built from it
     * beforehand, through the same capability objects the backtest calls (the host's guards
     * included). Frames and contexts are built here, untimed.
     *
     * @return a run: counts the long forecasts and positive fractions (so no call is dead code)
     */
    private Supplier<Integer> pluginCalls(int firstTestBar) {
        FeatureMatrix features = FeaturePipeline.compute(bars);
        int count = bars.size() - firstTestBar;
        FeatureFrame[] frames = new FeatureFrame[count];
        SizingContext[] contexts = new SizingContext[count];
        int volatility = features.schema().indexOf(SymbolEngine.VOLATILITY_FEATURE);
        for (int i = 0; i < count; i++) {
            frames[i] = features.frame(firstTestBar + i);
            Forecast f = traditional.forecast(frames[i]);
            double p = f.probabilityUp();
            FusedSignal signal =
                    new FusedSignal(
                            f.barTime(),
                            p,
                            Math.abs(2 * p - 1),
                            1.0,
                            List.of(new SourceContribution(f.source(), p, 1.0)));
            contexts[i] =
                    new SizingContext(
                            signal, 10_000, 0, 1.0, Math.max(0, frames[i].get(volatility)), 1.0);
        }
        return () -> {
            int positive = 0;
            for (int i = 0; i < count; i++) {
                if (traditional.forecast(frames[i]).probabilityUp() > 0.5) {
                    positive++;
                }
                if (fixed.size(contexts[i]).fraction() > 0) {
                    positive++;
                }
            }
            return positive;
        };
    }

    /** Untimed DecimalNum runs before its timed ones (each takes seconds). */
    static final int DECIMAL_WARMUP_RUNS = 2;

    /** Wall time of one run, ns; its result kept in {@code sink[slot]} (checked afterwards). */
    private static long timed(Supplier<?> run, Object[] sink, int slot) {
        long t0 = System.nanoTime();
        Object result = run.get();
        long nanos = System.nanoTime() - t0;
        sink[slot] = result;
        return nanos;
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

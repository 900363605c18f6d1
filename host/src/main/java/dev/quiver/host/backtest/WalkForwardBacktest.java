package dev.quiver.host.backtest;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.DirectionForecast;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.OnlineCalibration;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.Forecasts;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.Strategy;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.TradingRules;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.gate.GateVerdict;
import dev.quiver.engine.gate.InputGate;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.engine.trading.Account;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.engine.trading.PayoffRatio;
import dev.quiver.engine.trading.Stops;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Walk-forward, point-in-time backtest: forecasts from every source, fused by an ensemble refitted
 * before each fold on past labelled forecasts only, sized by each policy through the risk guard,
 * traded with costs, compared with buy-and-hold on the same out-of-sample bars.
 *
 * <p>Layout (rolling, bar indices): fold {@code k} trains on {@code [s_k, s_k + trainBars)}, skips
 * {@code embargoBars}, tests on the next {@code testBars} (the last fold may be shorter); {@code
 * s_0 = features.firstWarmIndex()}, {@code s_(k+1) = s_k + testBars}, so the test windows are
 * contiguous. The label of bar {@code i} is {@code close[i + 1] > close[i]} (horizon 1 bar), known
 * at bar {@code i + 1}; every training label is known at or before {@code testFirst - embargoBars},
 * which the run checks.
 *
 * <p>Trading, per policy as one account over all test bars: at bar {@code t}'s close the policy
 * sizes from the fused signal, the equity, the drawdown, the cap, {@code atr_pct_14} of bar {@code
 * t} and the trailing payoff ratio; the guarded target fills at bar {@code t + 1}'s open (no fill
 * for the series' last bar), costs {@code |notional| * (feeBps + slippageBps) / 1e4} on every fill.
 * No trade when the target is within {@code rebalanceBand} of the current weight, except going to
 * or from flat. Long only, no leverage.
 *
 * <p>Input gate ({@link InputGate}, off with {@link #withoutGate}): before each fold the engine
 * gets a gate whose training distribution is fitted ({@link GateFit}) on the fold's training
 * window, the bars its sources were fitted on; a test bar it refuses abstains (every policy flat),
 * its fused forecast is still made and scored apart ({@link BacktestResult#gate()}: kept vs
 * abstained).
 *
 * <p>Threads ({@link #withThreads}): the work that does not depend on the accounts (every source
 * fitted per fold and its forecasts of the fold's test bars, which are also the ensemble's
 * out-of-fold inputs) runs ahead on up to {@code threads} threads, each source's calls in order on
 * one thread at a time (see {@code FoldForecasts}); the account pass (policy fits, fusion, sizing,
 * the engine's books) runs on the calling thread, bar after bar. The ensemble's fit before a fold,
 * the compared ensembles' fits and the fold's input gate do not depend on the accounts either: they
 * are queued for a worker while the calling thread fits the policies (and run by the calling thread
 * if no worker has taken them), and the bootstrap's draws (which depend on the number of test bars
 * only) are made by a worker once the lanes have no work left. Each capability still sees the
 * sequential run's calls in the same order, one at a time, so the result is the same whatever the
 * number of threads.
 */
public final class WalkForwardBacktest {

    /** Forecast horizon of the labels, in bars. */
    static final int HORIZON_BARS = 1;

    /** Name of the buy-and-hold benchmark in results and reports. */
    public static final String BUY_AND_HOLD = "buy_and_hold";

    /**
     * Backtest configuration.
     *
     * @param trainBars bars per training window, {@code >= 1}
     * @param embargoBars bars skipped between a training window and its test window, {@code >=} the
     *     horizon (1)
     * @param testBars bars per test window, {@code >= 1}
     * @param initialEquity starting equity, quote currency, finite and {@code > 0}
     * @param costs fee and slippage
     * @param maxFraction position cap, fraction of equity, in {@code (0, 1]} (long only, no
     *     leverage)
     * @param rebalanceBand minimum |target - current weight| to trade, in {@code [0, 1]}
     * @param payoffWindowBars bars of 1-bar returns in the trailing payoff ratio, {@code >= 2}
     * @param stops host-side ATR stop-loss, take-profit and trailing stop; {@link Stops#NONE} for
     *     none
     * @param breakers circuit-breaker limits, one set of breakers per policy; {@code null} for none
     */
    public record Config(
            int trainBars,
            int embargoBars,
            int testBars,
            double initialEquity,
            CostModel costs,
            double maxFraction,
            double rebalanceBand,
            int payoffWindowBars,
            Stops stops,
            CircuitBreakers.Config breakers) {

        /**
         * A configuration without stops and circuit breakers (the engine as ta4j's reference runs
         * it).
         *
         * @param trainBars see the record
         * @param embargoBars see the record
         * @param testBars see the record
         * @param initialEquity see the record
         * @param costs see the record
         * @param maxFraction see the record
         * @param rebalanceBand see the record
         * @param payoffWindowBars see the record
         */
        public Config(
                int trainBars,
                int embargoBars,
                int testBars,
                double initialEquity,
                CostModel costs,
                double maxFraction,
                double rebalanceBand,
                int payoffWindowBars) {
            this(
                    trainBars,
                    embargoBars,
                    testBars,
                    initialEquity,
                    costs,
                    maxFraction,
                    rebalanceBand,
                    payoffWindowBars,
                    Stops.NONE,
                    null);
        }

        /**
         * Validates.
         *
         * @throws IllegalArgumentException naming the field and value when one is out of range
         */
        public Config {
            if (trainBars < 1) {
                throw new IllegalArgumentException("trainBars must be >= 1, was " + trainBars);
            }
            if (embargoBars < HORIZON_BARS) {
                throw new IllegalArgumentException(
                        "embargoBars must be >= the horizon "
                                + HORIZON_BARS
                                + ", was "
                                + embargoBars);
            }
            if (testBars < 1) {
                throw new IllegalArgumentException("testBars must be >= 1, was " + testBars);
            }
            if (!(initialEquity > 0) || Double.isInfinite(initialEquity)) {
                throw new IllegalArgumentException(
                        "initialEquity must be finite and > 0, was " + initialEquity);
            }
            if (costs == null) {
                throw new IllegalArgumentException("costs must not be null");
            }
            if (!(maxFraction > 0 && maxFraction <= 1)) {
                throw new IllegalArgumentException(
                        "maxFraction must be in (0, 1] (long only, no leverage), was "
                                + maxFraction);
            }
            if (!(rebalanceBand >= 0 && rebalanceBand <= 1)) {
                throw new IllegalArgumentException(
                        "rebalanceBand must be in [0, 1], was " + rebalanceBand);
            }
            if (payoffWindowBars < 2) {
                throw new IllegalArgumentException(
                        "payoffWindowBars must be >= 2, was " + payoffWindowBars);
            }
            if (stops == null) {
                throw new IllegalArgumentException("stops must not be null (Stops.NONE for none)");
            }
        }

        /**
         * The defaults: train 1000, embargo 5, test 500 bars, equity 10,000, 10 bps fee + 5 bps
         * slippage, cap 1.0, band 0.05, payoff window 250 bars, {@link Stops#DEFAULT} and {@link
         * CircuitBreakers.Config#defaults()}.
         *
         * @return the default configuration
         */
        public static Config defaults() {
            return new Config(
                    1000,
                    5,
                    500,
                    10_000,
                    CostModel.DEFAULT,
                    1.0,
                    0.05,
                    250,
                    Stops.DEFAULT,
                    CircuitBreakers.Config.defaults());
        }

        /**
         * This configuration with other stops and breakers.
         *
         * @param newStops the stops
         * @param newBreakers the breaker limits, or {@code null} for none
         * @return a copy
         */
        public Config withRisk(Stops newStops, CircuitBreakers.Config newBreakers) {
            return new Config(
                    trainBars,
                    embargoBars,
                    testBars,
                    initialEquity,
                    costs,
                    maxFraction,
                    rebalanceBand,
                    payoffWindowBars,
                    newStops,
                    newBreakers);
        }

        /**
         * The trading rules the engine steps with.
         *
         * @return costs, cap, band, payoff window, stops and breakers of this configuration
         */
        public TradingRules rules() {
            return new TradingRules(
                    costs, maxFraction, rebalanceBand, payoffWindowBars, stops, breakers);
        }

        /**
         * This configuration with other costs.
         *
         * @param newCosts the costs
         * @return a copy
         */
        public Config withCosts(CostModel newCosts) {
            return new Config(
                    trainBars,
                    embargoBars,
                    testBars,
                    initialEquity,
                    newCosts,
                    maxFraction,
                    rebalanceBand,
                    payoffWindowBars,
                    stops,
                    breakers);
        }

        /**
         * This configuration with another window layout.
         *
         * @param train training bars
         * @param embargo embargo bars
         * @param test test bars
         * @return a copy
         */
        public Config withWindows(int train, int embargo, int test) {
            return new Config(
                    train,
                    embargo,
                    test,
                    initialEquity,
                    costs,
                    maxFraction,
                    rebalanceBand,
                    payoffWindowBars,
                    stops,
                    breakers);
        }
    }

    private final Config config;
    private final Options options;

    /**
     * What the {@code with...} copies change, beside the configuration.
     *
     * @param bootstrapIntervals whether results carry the bootstrap intervals
     * @param threads threads that may work at once, {@code >= 1}
     * @param compared ensembles scored beside the deciding one
     * @param stepListener told each test bar's step, or {@code null}
     * @param gate whether {@link #run}'s folds have an input gate
     */
    private record Options(
            boolean bootstrapIntervals,
            int threads,
            List<EnsembleCapability> compared,
            java.util.function.Consumer<Step> stepListener,
            boolean gate) {

        Options withIntervals(boolean on) {
            return new Options(on, threads, compared, stepListener, gate);
        }

        Options withThreads(int n) {
            return new Options(bootstrapIntervals, n, compared, stepListener, gate);
        }

        Options withCompared(List<EnsembleCapability> ensembles) {
            return new Options(bootstrapIntervals, threads, ensembles, stepListener, gate);
        }

        Options withListener(java.util.function.Consumer<Step> listener) {
            return new Options(bootstrapIntervals, threads, compared, listener, gate);
        }

        Options withGate(boolean on) {
            return new Options(bootstrapIntervals, threads, compared, stepListener, on);
        }
    }

    /**
     * Creates a backtest that uses every core ({@link Runtime#availableProcessors()} threads).
     *
     * @param config the configuration
     */
    public WalkForwardBacktest(Config config) {
        this(
                config,
                new Options(
                        true, Runtime.getRuntime().availableProcessors(), List.of(), null, true));
    }

    private WalkForwardBacktest(Config config, Options options) {
        this.config = config;
        this.options = options;
    }

    /**
     * The same backtest with other ensembles scored beside the one that decides: each is fitted
     * before every fold on the same out-of-fold rows as the deciding ensemble, fuses the same
     * forecasts of every test bar, and is reported under {@code fused/<its name>} with the same
     * forecast metrics (log-loss, Brier, ECE, hit rate); it never sizes or trades. A fit or fuse
     * that throws is counted as a failure of that ensemble (its bars are left out of its scores),
     * the first reason kept. Only {@link #run} and {@link #runAndFitFinal} score them ({@link
     * #runPinned} replays one fixed strategy).
     *
     * @param ensembles the ensembles to compare, with names distinct from each other
     * @return a copy
     * @throws IllegalArgumentException if two have the same name
     */
    public WalkForwardBacktest withComparedEnsembles(List<EnsembleCapability> ensembles) {
        if (ensembles.stream().map(e -> e.descriptor().name()).distinct().count()
                != ensembles.size()) {
            throw new IllegalArgumentException("compared ensembles must have distinct names");
        }
        return new WalkForwardBacktest(config, options.withCompared(List.copyOf(ensembles)));
    }

    /**
     * The same backtest telling {@code listener} every test bar's step, in time order, on the
     * thread running the account pass (the portfolio backtest reads each symbol's fold forecasts
     * and sizing contexts this way instead of running a second walk-forward).
     *
     * @param listener told each test bar's step; must not throw
     * @return a copy
     */
    public WalkForwardBacktest withStepListener(java.util.function.Consumer<Step> listener) {
        return new WalkForwardBacktest(config, options.withListener(listener));
    }

    /**
     * The same backtest without the input gate in the folds of {@link #run} (a comparison with a
     * reference that has no such rule, e.g. ta4j; {@code backtest --no-input-gate}). {@link
     * #runPinned} sets whatever gate its {@code setUp} sets.
     *
     * @return a copy whose folds decide every bar
     */
    public WalkForwardBacktest withoutGate() {
        return new WalkForwardBacktest(config, options.withGate(false));
    }

    /**
     * The same backtest on {@code threads} threads: the sources' per-fold fits and forecasts run on
     * up to that many threads at once (the calling thread included), the account pass on the
     * calling thread. {@code 1} runs everything on the calling thread in the sequential order of
     * calls. The result does not depend on it.
     *
     * @param threads threads that may work at once, {@code >= 1}
     * @return a copy
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public WalkForwardBacktest withThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        return new WalkForwardBacktest(config, options.withThreads(threads));
    }

    /**
     * Threads this backtest may use.
     *
     * @return {@code >= 1}
     */
    public int threads() {
        return options.threads();
    }

    /**
     * The same backtest without the bootstrap confidence intervals (a reporting step of 1,000
     * resamples per policy, not part of the decision loop): for throughput benchmarks.
     *
     * @return a copy whose results carry no intervals
     */
    public WalkForwardBacktest withoutIntervals() {
        return new WalkForwardBacktest(config, options.withIntervals(false));
    }

    /**
     * The fold layout for a series (rolling windows, see the class comment). Public so that other
     * replays over the same history ({@code backtest --rollout}) use exactly these folds.
     *
     * @param bars the series
     * @param firstWarmIndex first bar with every feature warmed up
     * @param config windows
     * @return the folds, possibly empty when the series is too short
     */
    public static List<Fold> layout(BarData bars, int firstWarmIndex, Config config) {
        int n = bars.size();
        List<Fold> folds = new ArrayList<>();
        for (int s = firstWarmIndex, k = 0; ; s += config.testBars(), k++) {
            int trainLast = s + config.trainBars() - 1;
            int testFirst = trainLast + config.embargoBars() + 1;
            if (testFirst >= n) {
                break;
            }
            int testLast = Math.min(testFirst + config.testBars(), n) - 1;
            folds.add(
                    new Fold(
                            k,
                            s,
                            trainLast,
                            testFirst,
                            testLast,
                            time(bars, s),
                            time(bars, trainLast),
                            time(bars, testFirst),
                            time(bars, testLast)));
        }
        return folds;
    }

    /**
     * Stops the run between two steps when its thread was interrupted (a training job's cancel, a
     * shutdown): checked before each fold, before each source's fit, every 32 test bars and before
     * the final fit, so a run stops within one source fit of the interrupt. The interrupt flag
     * stays set.
     *
     * @throws java.util.concurrent.CancellationException if the current thread is interrupted
     */
    static void stopIfInterrupted() {
        if (Thread.currentThread().isInterrupted()) {
            throw new java.util.concurrent.CancellationException(
                    "walk-forward stopped: its thread was interrupted");
        }
    }

    private static Instant time(BarData bars, int i) {
        return Instant.ofEpochMilli(bars.startMillis[i]);
    }

    /**
     * Runs the walk-forward backtest.
     *
     * @param features the series' point-in-time features; must contain {@code atr_pct_14}
     * @param predictors the forecast sources, at least one; a source that throws for a bar is left
     *     out of that bar's fusion and counted
     * @param ensemble fuses the sources; refitted before each fold on the training window
     * @param policies the sizing policies, at least one, with distinct names
     * @param guard enforces the cap on every decision
     * @param progress told after each fold
     * @return the result
     * @throws IllegalArgumentException if the series has no test bar after warm-up, training and
     *     embargo, or an argument list is empty
     */
    public BacktestResult run(
            FeatureMatrix features,
            List<PredictionCapability> predictors,
            EnsembleCapability ensemble,
            List<SizingCapability> policies,
            RiskGuard guard,
            Progress progress) {
        return run(features, predictors, ensemble, policies, progress, false).result();
    }

    /**
     * The walk-forward run, then the final fit a strategy bundle ships: every source on the last
     * {@code trainBars} labelled bars whose labels are known {@code embargoBars} before the bar
     * after the series' end, the ensemble on the out-of-fold forecasts inside that window, every
     * policy on the outcomes known by then. The capabilities are left in that fitted state.
     *
     * @param features the series' features
     * @param predictors the sources
     * @param ensemble the ensemble
     * @param policies the policies
     * @param progress told after each fold
     * @return the walk-forward result and the final fit's spans
     * @throws IllegalArgumentException as {@link #run}
     */
    public FinalFit runAndFitFinal(
            FeatureMatrix features,
            List<PredictionCapability> predictors,
            EnsembleCapability ensemble,
            List<SizingCapability> policies,
            Progress progress) {
        return run(features, predictors, ensemble, policies, progress, true);
    }

    /**
     * Replays a fixed strategy (a strategy bundle's restored components: nothing is refitted) over
     * the bars from {@code fromIndex} on, through the same engine and accounts as {@link #run}: how
     * a pinned bundle would have traded the bars after the ones it was fitted on.
     *
     * @param features the series' features (computed from its first bar, as live sessions do)
     * @param strategy the fixed sources, ensemble and policies
     * @param rules the trading rules (the bundle's)
     * @param fromIndex the first bar to decide; the bars before it only warm the features up
     * @param description how the strategy came about, for the report's method line
     * @param progress told every 500 bars
     * @param onStep told each bar's step (e.g. to write the decisions out), or {@code null}
     * @param setUp called with the engine before the first bar (e.g. to set the strategy's expiry),
     *     or {@code null}
     * @return the result, its single "fold" spanning the replayed bars
     * @throws IllegalArgumentException if {@code fromIndex} leaves no bar or precedes warm-up
     */
    public BacktestResult runPinned(
            FeatureMatrix features,
            Strategy strategy,
            TradingRules rules,
            int fromIndex,
            String description,
            Progress progress,
            java.util.function.Consumer<Step> onStep,
            java.util.function.Consumer<SymbolEngine> setUp) {
        long started = System.nanoTime();
        boolean bootstrapIntervals = options.bootstrapIntervals();
        BarData bars = features.bars();
        int n = bars.size();
        if (fromIndex < features.firstWarmIndex() || fromIndex >= n) {
            throw new IllegalArgumentException(
                    "series '"
                            + bars.symbol()
                            + "': no bar to replay from index "
                            + fromIndex
                            + " (warm from "
                            + features.firstWarmIndex()
                            + ", "
                            + n
                            + " bars)");
        }
        Config pinned =
                new Config(
                        config.trainBars(),
                        config.embargoBars(),
                        config.testBars(),
                        config.initialEquity(),
                        rules.costs(),
                        rules.maxFraction(),
                        rules.rebalanceBand(),
                        rules.payoffWindowBars(),
                        rules.stops(),
                        rules.breakers());
        int testCount = n - fromIndex;
        long[] testTimes = Arrays.copyOfRange(bars.startMillis, fromIndex, n);
        String[] sources =
                strategy.sources().stream().map(p -> p.descriptor().name()).toArray(String[]::new);
        String[] policyNames = strategy.policyNames().toArray(String[]::new);
        double[] payoff = PayoffRatio.trailing(bars.close, rules.payoffWindowBars());
        TestLoop loop =
                new TestLoop(
                        pinned,
                        features,
                        SymbolEngine.sourcesOf(strategy.sources(), null),
                        strategy,
                        sources,
                        fromIndex,
                        payoff,
                        new SizingOutcomes(pinned, policyNames, testCount));
        loop.listener = onStep;
        if (setUp != null) {
            setUp.accept(loop.engine);
        }
        Fold fold =
                new Fold(
                        0,
                        features.firstWarmIndex(),
                        fromIndex - 1,
                        fromIndex,
                        n - 1,
                        time(bars, features.firstWarmIndex()),
                        time(bars, fromIndex - 1),
                        time(bars, fromIndex),
                        time(bars, n - 1));
        for (int t = fromIndex; t < n; t++) {
            loop.step(t);
            if ((t - fromIndex + 1) % 500 == 0 || t == n - 1) {
                progress.update(bars.symbol(), 1, 1, t + 1, n);
            }
        }
        Map<String, PolicyResult> results = loop.results(policyNames, testTimes);
        PolicyResult holdResult = loop.holdResult(testTimes);
        Map<String, ForecastMetrics> forecastMetrics = new LinkedHashMap<>();
        Map<String, Integer> failures = new LinkedHashMap<>();
        Map<String, String> training = new LinkedHashMap<>();
        for (int p = 0; p < sources.length; p++) {
            forecastMetrics.put(sources[p], loop.sourceScores[p].result());
            failures.put(sources[p], loop.failureCounts.getOrDefault(sources[p], 0));
            training.put(sources[p], description + "; not refitted");
        }
        forecastMetrics.put(FUSED, loop.fusedScores.result());
        training.put(FUSED, strategy.ensemble().descriptor().name() + ": " + description);
        for (int c = 0; c < loop.calibrating.length; c++) {
            String name = policyNames[loop.calibrating[c]];
            forecastMetrics.put(FUSED + "@" + name, loop.calibratedScores[c].result());
            training.put(
                    FUSED + "@" + name,
                    "the fused probability as sizing '"
                            + name
                            + "' recalibrates it online, from the outcomes the engine scored"
                            + " before each bar only");
        }
        double seconds = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
        String method =
                String.format(
                        Locale.ROOT,
                        "Pinned strategy, no refits: %s; decided on %d bars after it was fitted"
                                + " (features from the series' first bar); orders fill at the next"
                                + " bar's open; costs %.1f bps fee + %.1f bps slippage on every"
                                + " traded notional; long only, cap %.2f; %s; %s.",
                        description,
                        testCount,
                        rules.costs().feeBps(),
                        rules.costs().slippageBps(),
                        rules.maxFraction(),
                        SizingOutcomes.describe(rules.stops()),
                        SizingOutcomes.describe(rules.breakers()));
        return new BacktestResult(
                bars.symbol(),
                n,
                pinned,
                List.of(fold),
                testTimes,
                results,
                holdResult,
                forecastMetrics,
                failures,
                training,
                loop.noSignal,
                testCount / seconds,
                method,
                loop.engine.breakerEvents(),
                loop.engine.stopExits(),
                bootstrapIntervals ? intervals(results, holdResult, null) : Map.of(),
                loop.gateSummary(
                        loop.engine.gate() == null
                                ? "no input gate set"
                                : gateMethod(loop.engine.gate(), description)),
                laterBars(strategy.policies(), testTimes, results, holdResult));
    }

    /** The gate's settings in one line, for a pinned strategy's report. */
    private static String gateMethod(InputGate gate, String where) {
        InputGate.Limits l = gate.limits();
        return String.format(
                Locale.ROOT,
                "gap > %d x %s, move > %s ATR(14), %s",
                l.maxGapBars(),
                l.interval(),
                l.maxMoveAtr(),
                gate.distribution() == null
                        ? "distribution check off: " + gate.distributionOff()
                        : String.format(
                                Locale.ROOT,
                                "Mahalanobis distance > %.2f (the %s quantile of its training"
                                        + " span's distances, %d rows; %s)",
                                gate.distribution().threshold(),
                                gate.distribution().quantile(),
                                gate.distribution().rows(),
                                where));
    }

    /**
     * The input gate of one fold: the default limits for the series' interval, the distribution
     * fitted on the fold's training window (the bars its sources were fitted on).
     *
     * @param features the series' features
     * @param trainFirst first training row
     * @param trainLast last training row
     * @return the gate; its distribution check off, with the reason, when the window cannot be
     *     fitted (too few rows, a constant feature)
     */
    public static InputGate foldGate(FeatureMatrix features, int trainFirst, int trainLast) {
        InputGate.Limits limits = InputGate.Limits.defaults(features.bars().period());
        try {
            return new InputGate(
                    limits,
                    GateFit.fit(features, trainFirst, trainLast, GateFit.DEFAULT_QUANTILE),
                    null);
        } catch (IllegalArgumentException | ArithmeticException e) {
            return new InputGate(
                    limits, null, "the training window could not be fitted: " + e.getMessage());
        }
    }

    /**
     * A walk-forward result with the final fit of {@link #runAndFitFinal}.
     *
     * @param result the walk-forward result (out-of-sample figures)
     * @param fold the final fit's window: training {@code [trainFirst, trainLast]}, first servable
     *     bar {@code testFirst} (the bar after the series' last), or {@code null} without a final
     *     fit
     * @param sourceFitFailures per source whose final fit failed, why (left out of the bundle)
     * @param policyFitFailures per policy whose final fit failed, why
     * @param ensembleRows out-of-fold rows the final ensemble fit saw
     */
    public record FinalFit(
            BacktestResult result,
            Fold fold,
            Map<String, String> sourceFitFailures,
            Map<String, String> policyFitFailures,
            int ensembleRows) {}

    private FinalFit run(
            FeatureMatrix features,
            List<PredictionCapability> predictors,
            EnsembleCapability ensemble,
            List<SizingCapability> policies,
            Progress progress,
            boolean finalFit) {
        long started = System.nanoTime();
        int threads = options.threads();
        boolean bootstrapIntervals = options.bootstrapIntervals();
        List<EnsembleCapability> compared = options.compared();
        boolean gate = options.gate();
        if (predictors.isEmpty() || policies.isEmpty()) {
            throw new IllegalArgumentException("need at least one predictor and one policy");
        }
        BarData bars = features.bars();
        int n = bars.size();
        List<Fold> folds = layout(bars, features.firstWarmIndex(), config);
        if (folds.isEmpty()) {
            throw new IllegalArgumentException(
                    "series '"
                            + bars.symbol()
                            + "' has "
                            + n
                            + " bars: too short for warm-up "
                            + features.firstWarmIndex()
                            + " + trainBars "
                            + config.trainBars()
                            + " + embargoBars "
                            + config.embargoBars()
                            + " + 1 test bar");
        }
        int testFirst = folds.get(0).testFirst();
        int testCount = n - testFirst;
        long[] testTimes = Arrays.copyOfRange(bars.startMillis, testFirst, n);

        String[] sources = new String[predictors.size()];
        for (int p = 0; p < sources.length; p++) {
            sources[p] = predictors.get(p).descriptor().name();
        }
        String ensembleName = ensemble.descriptor().name();
        String[] policyNames = new String[policies.size()];
        for (int p = 0; p < policyNames.length; p++) {
            policyNames[p] = policies.get(p).descriptor().name();
        }
        if (Arrays.stream(policyNames).distinct().count() != policyNames.length) {
            throw new IllegalArgumentException(
                    "policy names must be distinct: " + Arrays.toString(policyNames));
        }
        int[] forecastFailures = new int[sources.length];
        int[] fitFailures = new int[sources.length];
        String[] fitFailureReasons = new String[sources.length];

        Fold last = null;
        if (finalFit) {
            int trainLast = n - config.embargoBars() - 1;
            int trainFirst =
                    Math.max(features.firstWarmIndex(), trainLast - config.trainBars() + 1);
            Instant next = Instant.ofEpochMilli(bars.startMillis[n - 1]).plus(bars.period());
            last =
                    new Fold(
                            folds.size(),
                            trainFirst,
                            trainLast,
                            n,
                            n - 1,
                            time(bars, trainFirst),
                            time(bars, trainLast),
                            next,
                            next);
        }
        int priorFolds = 0;
        double[] payoff = PayoffRatio.trailing(bars.close, config.payoffWindowBars());

        Map<String, String> sourceFailures = new LinkedHashMap<>();
        Map<String, String> policyFailures = new LinkedHashMap<>();
        int ensembleRows = 0;
        Bootstrap.Draws drawn;
        TestLoop loop;
        try (FoldForecasts cache =
                new FoldForecasts(
                        features,
                        predictors,
                        folds,
                        k -> labeledFrames(folds.get(k), features),
                        n - 1,
                        threads)) {
            loop =
                    new TestLoop(
                            config,
                            features,
                            cache,
                            new Strategy(predictors, ensemble, policies),
                            sources,
                            testFirst,
                            payoff,
                            new SizingOutcomes(config, policyNames, testCount));
            loop.compare(compared);
            loop.listener = options.stepListener();
            cache.start();
            // The bootstrap's draws depend on the number of test bars only: made by a worker
            // once the lanes have no work left (while the account pass finishes).
            FoldForecasts.Side<Bootstrap.Draws> draws =
                    bootstrapIntervals && threads > 1 && testCount >= 3
                            ? cache.beside(
                                    () ->
                                            Bootstrap.draws(
                                                    testCount - 1,
                                                    Bootstrap.RESAMPLES,
                                                    Bootstrap.SEED),
                                    false)
                            : null;
            long steppedSince = System.nanoTime();
            int stepped = 0;
            for (Fold fold : folds) {
                stopIfInterrupted();
                // Sources first: each fitted on the fold's labelled training frames (one that
                // throws is left out of this fold, reason counted), its forecasts of the fold's
                // test bars made by that fit; with threads these run ahead (FoldForecasts).
                cache.await(fold.index());
                // The ensemble only on out-of-fold forecasts: earlier folds' test bars inside this
                // training window, each forecast by sources that were not trained on it.
                List<LabeledForecasts> oof = trainingWindow(fold, bars, cache);
                if (oof.isEmpty()) {
                    priorFolds++;
                }
                // The ensemble's fit, the compared ensembles' fits and the fold's input gate do not
                // depend on the accounts: a worker runs them while this thread fits the policies
                // (neither the ensembles nor the gate are used again before the join). Each
                // ensemble still gets its calls in the sequential run's order.
                TestLoop comparing = loop;
                FoldForecasts.Side<InputGate> ensembleFit =
                        cache.beside(
                                () -> {
                                    ensemble.fit(oof);
                                    comparing.fitCompared(oof);
                                    return gate
                                            ? foldGate(
                                                    features, fold.trainFirst(), fold.trainLast())
                                            : null;
                                },
                                true);
                if (threads == 1) {
                    cache.join(ensembleFit); // the sequential order of calls
                }
                String[] failed = loop.outcomes.fit(policies, fold, testFirst, bars);
                InputGate fitted = cache.join(ensembleFit);
                for (int p = 0; p < failed.length; p++) {
                    if (failed[p] == null) {
                        loop.engine.makeAvailable(p);
                    } else {
                        loop.engine.makeUnavailable(p, failed[p]);
                    }
                }
                stopIfInterrupted();
                if (gate) {
                    loop.engine.gate(fitted);
                }
                for (int t = fold.testFirst(); t <= fold.testLast(); t++) {
                    if ((t & 31) == 0) {
                        stopIfInterrupted();
                    }
                    loop.step(t);
                }
                stepped += fold.testBars();
                progress.fold(
                        bars.symbol(),
                        fold.index() + 1,
                        folds.size(),
                        fold.testLast() + 1,
                        n,
                        stepped,
                        System.nanoTime() - steppedSince);
            }
            drawn = draws == null ? null : cache.join(draws);
            stopIfInterrupted();
            if (last != null) {
                String[] failed = cache.fitAll(labeledFrames(last, features));
                for (int p = 0; p < failed.length; p++) {
                    if (failed[p] != null) {
                        sourceFailures.put(sources[p], failed[p]);
                    }
                }
                List<LabeledForecasts> oof = trainingWindow(last, bars, cache);
                ensembleRows = oof.size();
                ensemble.fit(oof);
                String[] policyFailed = loop.outcomes.fit(policies, last, testFirst, bars);
                for (int p = 0; p < policyFailed.length; p++) {
                    if (policyFailed[p] != null) {
                        policyFailures.put(policyNames[p], policyFailed[p]);
                    }
                }
            }
            for (int p = 0; p < sources.length; p++) {
                forecastFailures[p] = cache.forecastFailures[p];
                fitFailures[p] = cache.fitFailures[p];
                fitFailureReasons[p] = cache.firstFitFailure[p];
            }
        }
        int noSignal = loop.noSignal;
        ForecastMetrics.Accumulator[] sourceScores = loop.sourceScores;
        ForecastMetrics.Accumulator fusedScores = loop.fusedScores;

        Map<String, PolicyResult> results = loop.results(policyNames, testTimes);
        PolicyResult holdResult = loop.holdResult(testTimes);

        Map<String, ForecastMetrics> forecastMetrics = new LinkedHashMap<>();
        Map<String, Integer> failures = new LinkedHashMap<>();
        Map<String, String> training = new LinkedHashMap<>();
        for (int p = 0; p < sources.length; p++) {
            forecastMetrics.put(sources[p], sourceScores[p].result());
            failures.put(sources[p], forecastFailures[p]);
            training.put(
                    sources[p],
                    training(predictors.get(p).descriptor().attributes())
                            + (fitFailures[p] == 0
                                    ? ""
                                    : "; fit failed in "
                                            + fitFailures[p]
                                            + " of "
                                            + folds.size()
                                            + " folds (left out of them), first: "
                                            + fitFailureReasons[p]));
        }
        // The ensemble is reported as "fused" whatever its name.
        forecastMetrics.put(FUSED, fusedScores.result());
        // Each policy that recalibrates the fused probability online, scored on the same bars.
        for (int c = 0; c < loop.calibrating.length; c++) {
            String name = policyNames[loop.calibrating[c]];
            forecastMetrics.put(FUSED + "@" + name, loop.calibratedScores[c].result());
            training.put(
                    FUSED + "@" + name,
                    "the fused probability as sizing '"
                            + name
                            + "' recalibrates it online ("
                            + training(policies.get(loop.calibrating[c]).descriptor().attributes())
                            + "), from the outcomes the engine scored before each bar only");
        }
        training.put(
                FUSED,
                ensembleName
                        + ": fitted per fold on out-of-fold forecasts only (earlier folds' test"
                        + " bars inside the training window); "
                        + priorFolds
                        + " of "
                        + folds.size()
                        + " folds had none and kept the prior fit");
        for (int c = 0; c < compared.size(); c++) {
            String key = FUSED + "/" + compared.get(c).descriptor().name();
            forecastMetrics.put(key, loop.comparedScores[c].result());
            failures.put(key, loop.comparedFailures[c]);
            training.put(
                    key,
                    compared.get(c).descriptor().name()
                            + ": compared with "
                            + FUSED
                            + " (never sizes or trades), fitted per fold on the same out-of-fold"
                            + " forecasts, fusing the same forecasts"
                            + (loop.comparedFitFailures[c] == 0
                                    ? ""
                                    : "; fit failed in "
                                            + loop.comparedFitFailures[c]
                                            + " of "
                                            + folds.size()
                                            + " folds")
                            + (loop.comparedFirstFailure[c] == null
                                    ? ""
                                    : "; first failure: " + loop.comparedFirstFailure[c]));
        }

        double seconds = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
        String method =
                String.format(
                        Locale.ROOT,
                        "Walk-forward, rolling: %d folds of %d training bars, %d embargo bars, up"
                                + " to %d test bars; every source fitted per fold on the training"
                                + " window's labelled frames, the ensemble on out-of-fold"
                                + " forecasts only; metrics on %d out-of-sample test bars only; orders fill"
                                + " at the next bar's open; costs %.1f bps fee + %.1f bps slippage"
                                + " on every traded notional; long only, cap %.2f; %s; %s.",
                        folds.size(),
                        config.trainBars(),
                        config.embargoBars(),
                        config.testBars(),
                        testCount,
                        config.costs().feeBps(),
                        config.costs().slippageBps(),
                        config.maxFraction(),
                        SizingOutcomes.describe(config.stops()),
                        SizingOutcomes.describe(config.breakers()));
        BacktestResult result =
                new BacktestResult(
                        bars.symbol(),
                        n,
                        config,
                        List.copyOf(folds),
                        testTimes,
                        results,
                        holdResult,
                        forecastMetrics,
                        failures,
                        training,
                        noSignal,
                        testCount / seconds,
                        method,
                        loop.engine.breakerEvents(),
                        loop.engine.stopExits(),
                        bootstrapIntervals ? intervals(results, holdResult, drawn) : Map.of(),
                        loop.gateSummary(
                                !gate
                                        ? "no input gate (switched off)"
                                        : String.format(
                                                Locale.ROOT,
                                                "gap > %d x %s, move > %s ATR(14), Mahalanobis distance"
                                                        + " above the %s quantile of each fold's training"
                                                        + " window's own distances",
                                                InputGate.Limits.DEFAULT_MAX_GAP_BARS,
                                                bars.period(),
                                                InputGate.Limits.DEFAULT_MAX_MOVE_ATR,
                                                GateFit.DEFAULT_QUANTILE)),
                        laterBars(policies, testTimes, results, holdResult));
        return new FinalFit(result, last, sourceFailures, policyFailures, ensembleRows);
    }

    /**
     * The state of one run's test bars: the {@link SymbolEngine} every policy's book steps through,
     * buy-and-hold beside it, the curves and the forecast scores. A method per bar (rather than one
     * loop body inside {@link #run}) lets the JIT compile the per-bar work early.
     */
    private static final class TestLoop {
        final SymbolEngine engine;
        final Account[] accounts;
        final double[][] equity;
        final double[][] drawdown;
        final double[][] targets;
        final String[][] reasons;
        final Account hold;
        final double[] holdEquity;
        final double[] holdDrawdown;
        final double[] holdTargets;
        final String[] holdReasons;
        final ForecastMetrics.Accumulator[] sourceScores;
        final ForecastMetrics.Accumulator fusedScores;

        /** Indices of the policies that recalibrate online ({@link OnlineCalibration}). */
        final int[] calibrating;

        final OnlineCalibration[] calibrations;
        final ForecastMetrics.Accumulator[] calibratedScores;
        List<EnsembleCapability> compared = List.of();
        ForecastMetrics.Accumulator[] comparedScores = new ForecastMetrics.Accumulator[0];
        int[] comparedFailures = new int[0];
        int[] comparedFitFailures = new int[0];
        String[] comparedFirstFailure = new String[0];
        final SizingOutcomes outcomes;
        final Map<String, Integer> failureCounts = new LinkedHashMap<>();
        int noSignal;
        final ForecastMetrics.Accumulator keptScores = new ForecastMetrics.Accumulator();
        final ForecastMetrics.Accumulator abstainedScores = new ForecastMetrics.Accumulator();
        int judged;
        int abstained;
        int gapAbstained;
        int moveAbstained;
        int distributionAbstained;

        private final BarData bars;
        private final int n;
        private final FeatureMatrix features;
        private final String[] sources;
        private final int testFirst;
        private final double[] payoff;
        private final double[] atrPct;
        private double holdPending = Double.NaN;
        java.util.function.Consumer<Step> listener;

        TestLoop(
                Config config,
                FeatureMatrix features,
                Forecasts cache,
                Strategy strategy,
                String[] sources,
                int testFirst,
                double[] payoff,
                SizingOutcomes outcomes) {
            this.outcomes = outcomes;
            this.bars = features.bars();
            this.n = bars.size();
            this.features = features;
            this.sources = sources;
            this.testFirst = testFirst;
            this.payoff = payoff;
            this.atrPct = features.column(SymbolEngine.VOLATILITY_FEATURE);
            this.engine =
                    new SymbolEngine(
                            bars.symbol(),
                            config.rules(),
                            strategy,
                            config.initialEquity(),
                            cache,
                            null);
            int policies = strategy.policies().size();
            int testCount = n - testFirst;
            accounts = new Account[policies];
            equity = new double[policies][testCount];
            drawdown = new double[policies][testCount];
            targets = new double[policies][testCount];
            reasons = new String[policies][testCount];
            for (int p = 0; p < policies; p++) {
                accounts[p] = engine.account(p);
            }
            hold = new Account(config.initialEquity(), config.costs());
            holdEquity = new double[testCount];
            holdDrawdown = new double[testCount];
            holdTargets = new double[testCount];
            holdReasons = new String[testCount];
            Arrays.fill(holdTargets, Double.NaN);
            Arrays.fill(holdReasons, "hold");
            sourceScores = new ForecastMetrics.Accumulator[sources.length];
            for (int p = 0; p < sources.length; p++) {
                sourceScores[p] = new ForecastMetrics.Accumulator();
            }
            fusedScores = new ForecastMetrics.Accumulator();
            List<SizingCapability> list = strategy.policies();
            calibrating =
                    java.util.stream.IntStream.range(0, list.size())
                            .filter(p -> list.get(p) instanceof OnlineCalibration)
                            .toArray();
            calibrations = new OnlineCalibration[calibrating.length];
            calibratedScores = new ForecastMetrics.Accumulator[calibrating.length];
            for (int c = 0; c < calibrating.length; c++) {
                calibrations[c] = (OnlineCalibration) list.get(calibrating[c]);
                calibratedScores[c] = new ForecastMetrics.Accumulator();
            }
        }

        /**
         * Scores {@code ensembles} beside the deciding one (see {@link #withComparedEnsembles}).
         */
        void compare(List<EnsembleCapability> ensembles) {
            compared = ensembles;
            int n = ensembles.size();
            comparedScores = new ForecastMetrics.Accumulator[n];
            for (int c = 0; c < n; c++) {
                comparedScores[c] = new ForecastMetrics.Accumulator();
            }
            comparedFailures = new int[n];
            comparedFitFailures = new int[n];
            comparedFirstFailure = new String[n];
        }

        /** Fits every compared ensemble on a fold's out-of-fold rows; a throw is counted. */
        void fitCompared(List<LabeledForecasts> oof) {
            for (int c = 0; c < compared.size(); c++) {
                try {
                    compared.get(c).fit(oof);
                } catch (RuntimeException e) {
                    comparedFitFailures[c]++;
                    if (comparedFirstFailure[c] == null) {
                        comparedFirstFailure[c] = "fit: " + e;
                    }
                }
            }
        }

        /** Test bar {@code t}. */
        void step(int t) {
            int k = t - testFirst;
            if (!Double.isNaN(holdPending)) {
                hold.rebalance(holdPending, bars.open[t], bars.startMillis[t]);
                holdPending = Double.NaN;
            }
            boolean canFill = t + 1 < n;
            if (k == 0) {
                holdTargets[0] = 1.0;
                holdReasons[0] = "buy and hold: all in at the next open";
                holdPending = canFill ? 1.0 : Double.NaN;
            }
            Step s = engine.step(bars.bar(t), features.frame(t), payoff[t]);
            if (!s.failures().isEmpty()) {
                for (String failed : s.failures().keySet()) {
                    failureCounts.merge(failed, 1, Integer::sum);
                }
            }
            if (listener != null) {
                listener.accept(s);
            }
            hold.mark(bars.close[t], bars.startMillis[t]);
            holdEquity[k] = hold.equity();
            holdDrawdown[k] = hold.drawdown();
            GateVerdict verdict = engine.lastGate();
            boolean gated = verdict != null && verdict.abstain();
            if (verdict != null) {
                judged++;
                if (gated) {
                    abstained++;
                    InputGate.Limits l = engine.gate().limits();
                    gapAbstained += verdict.gapBars() > l.maxGapBars() ? 1 : 0;
                    moveAbstained += verdict.moveAtr() > l.maxMoveAtr() ? 1 : 0;
                    distributionAbstained +=
                            !Double.isNaN(verdict.distance())
                                            && !(verdict.distance() <= verdict.threshold())
                                    ? 1
                                    : 0;
                }
            }
            if (canFill) {
                score(t, s.forecasts(), s.signal());
                if (s.signal() != null && verdict != null) {
                    (gated ? abstainedScores : keptScores)
                            .add(s.signal().probabilityUp(), bars.close[t + 1] > bars.close[t]);
                }
            }
            if (s.signal() == null) {
                noSignal++;
            }
            List<PolicyStep> steps = s.policies();
            for (int p = 0; p < steps.size(); p++) {
                PolicyStep ps = steps.get(p);
                equity[p][k] = ps.equity();
                drawdown[p][k] = ps.drawdown();
                targets[p][k] = ps.decision().fraction();
                reasons[p][k] = ps.decision().reason();
                outcomes.saw(p, k, ps.context());
            }
        }

        /** What the input gate did on the test bars. */
        GateSummary gateSummary(String method) {
            return new GateSummary(
                    judged,
                    abstained,
                    gapAbstained,
                    moveAbstained,
                    distributionAbstained,
                    keptScores.result(),
                    abstainedScores.result(),
                    method);
        }

        /** Forecast scores of bar {@code t}, whose label (bar {@code t + 1}) exists. */
        private void score(int t, List<Forecast> forecasts, FusedSignal signal) {
            boolean up = bars.close[t + 1] > bars.close[t];
            for (int j = 0; j < forecasts.size(); j++) {
                Forecast f = forecasts.get(j);
                for (int p = 0; p < sources.length; p++) {
                    if (sources[p].equals(f.source())) {
                        sourceScores[p].add(f.probabilityUp(), up);
                        // A three-class source: its classes against the band it declared.
                        var classes = DirectionForecast.of(f);
                        if (classes.isPresent()) {
                            sourceScores[p].addClasses(
                                    classes.get(),
                                    Math.log(bars.close[t + 1] / bars.close[t]),
                                    atrPct[t]);
                        }
                    }
                }
            }
            if (signal != null) {
                fusedScores.add(signal.probabilityUp(), up);
                // As calibrated after the outcomes up to bar t - 1 (observed in this bar's step).
                for (int c = 0; c < calibrations.length; c++) {
                    calibratedScores[c].add(calibrations[c].calibrate(signal.probabilityUp()), up);
                }
            }
            if (forecasts.isEmpty()) {
                return;
            }
            for (int c = 0; c < compared.size(); c++) {
                FusedSignal other;
                try {
                    other = compared.get(c).fuse(forecasts, features.frame(t));
                } catch (RuntimeException e) {
                    comparedFailures[c]++;
                    if (comparedFirstFailure[c] == null) {
                        comparedFirstFailure[c] =
                                "bar " + Instant.ofEpochMilli(bars.startMillis[t]) + ": " + e;
                    }
                    continue;
                }
                comparedScores[c].add(other.probabilityUp(), up);
            }
        }

        /** Each policy's result, open trades closed at the last close for the report. */
        Map<String, PolicyResult> results(String[] policyNames, long[] testTimes) {
            long lastMillis = bars.startMillis[n - 1];
            double lastClose = bars.close[n - 1];
            Map<String, PolicyResult> results = new LinkedHashMap<>();
            for (int p = 0; p < accounts.length; p++) {
                accounts[p].closeForReport(lastClose, lastMillis);
                results.put(
                        policyNames[p],
                        result(
                                accounts[p],
                                policyNames[p],
                                testTimes,
                                equity[p],
                                drawdown[p],
                                targets[p],
                                reasons[p]));
            }
            return results;
        }

        /** Buy-and-hold's result over the same bars. */
        PolicyResult holdResult(long[] testTimes) {
            hold.closeForReport(bars.close[n - 1], bars.startMillis[n - 1]);
            return result(
                    hold,
                    BUY_AND_HOLD,
                    testTimes,
                    holdEquity,
                    holdDrawdown,
                    holdTargets,
                    holdReasons);
        }

        PolicyResult result(
                Account a,
                String name,
                long[] times,
                double[] equityCurve,
                double[] drawdownCurve,
                double[] targetFractions,
                String[] why) {
            return new PolicyResult(
                    name,
                    equityCurve,
                    drawdownCurve,
                    targetFractions,
                    why,
                    a.trades(),
                    a.tradedNotional(),
                    a.totalCosts(),
                    PerformanceMetrics.of(
                            times,
                            equityCurve,
                            a.trades(),
                            a.tradedNotional(),
                            a.barsWithPosition(),
                            a.totalCosts()));
        }
    }

    /** Name of the baseline policy the Sharpe differences are taken against. */
    public static final String BASELINE = "fixed";

    private Map<String, Bootstrap.Intervals> intervals(
            Map<String, PolicyResult> results, PolicyResult hold, Bootstrap.Draws drawn) {
        Map<String, double[]> curves = new LinkedHashMap<>();
        results.forEach((k, v) -> curves.put(k, v.equity()));
        curves.put(BUY_AND_HOLD, hold.equity());
        if (hold.equity().length < 3) {
            return Map.of();
        }
        return Bootstrap.intervals(
                curves,
                BASELINE,
                hold.metrics().barsPerYear(),
                Bootstrap.RESAMPLES,
                Bootstrap.SEED,
                options.threads(),
                drawn);
    }

    /**
     * The policy table on the bars after each stated training span a policy declares (descriptor
     * attribute {@code trained_through}, an ISO-8601 instant).
     */
    private List<LaterBars> laterBars(
            List<SizingCapability> policies,
            long[] testTimes,
            Map<String, PolicyResult> results,
            PolicyResult hold) {
        List<LaterBars> out = new ArrayList<>();
        for (SizingCapability p : policies) {
            String through = p.descriptor().attributes().get("trained_through");
            if (through != null) {
                out.add(
                        LaterBars.of(
                                p.descriptor().name(),
                                Instant.parse(through),
                                testTimes,
                                results,
                                hold,
                                options.bootstrapIntervals(),
                                options.threads()));
            }
        }
        return List.copyOf(out);
    }

    /** Key of the ensemble's scores in {@link BacktestResult#forecasts()}. */
    public static final String FUSED = "fused";

    /** How a source was trained, from its descriptor attributes. */
    static String training(Map<String, String> a) {
        if (a.containsKey("trained_through") && !"per-fold".equals(a.get("training"))) {
            return "trained once on "
                    + a.getOrDefault("trained_on", "its own data")
                    + " "
                    + a.getOrDefault("trained_from", "?")
                    + ".."
                    + a.get("trained_through")
                    + ", evaluated only after that span";
        }
        if ("per-fold".equals(a.get("training"))) {
            return "trained per walk-forward fold on the fold's training window";
        }
        return "not trained (rule-based or fixed)";
    }

    /**
     * The bar at whose close training bar {@code i}'s label is known, checked to lie at or before
     * the fold's first test bar minus the embargo.
     *
     * @throws IllegalStateException if it does not (look-ahead)
     */
    private int labelKnownAt(int i, Fold fold) {
        return labelKnownAt(i, fold, config);
    }

    private static int labelKnownAt(int i, Fold fold, Config config) {
        int labelKnownAt = i + HORIZON_BARS;
        if (labelKnownAt > fold.testFirst() - config.embargoBars()) {
            throw new IllegalStateException(
                    "look-ahead: label of training bar "
                            + i
                            + " is known only at bar "
                            + labelKnownAt
                            + ", after test start "
                            + fold.testFirst()
                            + " minus embargo "
                            + config.embargoBars());
        }
        return labelKnownAt;
    }

    /**
     * The fold's training window as labelled frames; checks that every label is known at or before
     * the fold's first test bar minus the embargo.
     */
    private List<LabeledFrame> labeledFrames(Fold fold, FeatureMatrix features) {
        return trainingFrames(fold, features, config);
    }

    /**
     * A fold's training window as labelled frames, exactly what {@link #run} fits every source on:
     * bars {@code [trainFirst, trainLast]}, each labelled with {@code ln(close[i + 1] / close[i])}
     * (horizon 1 bar).
     *
     * @param fold the fold (from {@link #layout})
     * @param features the series' features
     * @param config the windows (its embargo is checked)
     * @return the labelled frames, oldest first
     * @throws IllegalStateException if a label would be known after the fold's first test bar minus
     *     the embargo (look-ahead)
     */
    public static List<LabeledFrame> trainingFrames(
            Fold fold, FeatureMatrix features, Config config) {
        BarData bars = features.bars();
        List<LabeledFrame> rows = new ArrayList<>(fold.trainLast() - fold.trainFirst() + 1);
        for (int i = fold.trainFirst(); i <= fold.trainLast(); i++) {
            int labelKnownAt = labelKnownAt(i, fold, config);
            rows.add(
                    new LabeledFrame(
                            features.frame(i),
                            HORIZON_BARS,
                            Math.log(bars.close[labelKnownAt] / bars.close[i])));
        }
        return rows;
    }

    /**
     * Labelled out-of-fold forecasts of the fold's training window: only bars an earlier fold
     * tested (and stored); checks that every label is in the past.
     */
    private List<LabeledForecasts> trainingWindow(Fold fold, BarData bars, FoldForecasts cache) {
        List<LabeledForecasts> rows = new ArrayList<>(fold.trainLast() - fold.trainFirst() + 1);
        for (int i = fold.trainFirst(); i <= fold.trainLast(); i++) {
            int labelKnownAt = labelKnownAt(i, fold);
            List<Forecast> forecasts = cache.stored(i);
            if (forecasts != null && !forecasts.isEmpty()) {
                rows.add(
                        new LabeledForecasts(
                                Instant.ofEpochMilli(bars.startMillis[i]),
                                forecasts,
                                bars.close[labelKnownAt] > bars.close[i]));
            }
        }
        return rows;
    }
}

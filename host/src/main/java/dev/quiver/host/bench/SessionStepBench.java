package dev.quiver.host.bench;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.OnlineCalibration;
import dev.quiver.api.sizing.ScoredOutcome;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.Forecasts;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.StrategyBundle;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * One in-process session step ({@link SymbolSession#append}: streaming features, every source's
 * forecast, fusion, every policy through the risk guard and its breakers, the book) against the sum
 * of the capability calls it makes, each timed alone on the same inputs.
 *
 * <p>Setup (not timed): a session of the bundle's strategy warmed up on the real bars up to {@code
 * warmupUntil} steps the next {@code rows} bars once, recording each bar's feature frame, forecasts
 * and every policy's {@link SizingContext}. Then, {@code rounds} times after one untimed round:
 *
 * <ul>
 *   <li>step: a fresh session (fresh instances from the bundle, as the service opens one) warmed up
 *       the same way, each {@link SymbolSession#append} of the {@code rows} bars timed;
 *   <li>bare: on fresh instances, per bar each online-calibrating policy's {@code observe(outcome)}
 *       (the outcome the step scored at that bar), each source's {@code forecast(frame)}, the
 *       ensemble's {@code fuse(forecasts, frame)} and each policy's {@code size(context)} timed
 *       alone on the recorded inputs; their per-bar sum is {@code bare_sum}. Each bar's frame is a
 *       copy built just before its calls (untimed), chained to the previous copy, as the step
 *       builds its own: a plugin that reads a window of frames then reads frames allocated among
 *       its own garbage, as in the step, not the recorded ones, which the collector has compacted
 *       since (reading those windows was measurably cheaper: in one run {@code analogs} 17 against
 *       22 µs, {@code lstm} 20.5 against 22.9 µs).
 * </ul>
 *
 * Figures are p50/p99 of per-bar times in microseconds ({@link System#nanoTime}; HdrHistogram, 3
 * significant digits). The plugins' isolation is the caller's (the bench runs same-thread, as a
 * backtest does).
 */
public final class SessionStepBench {

    /**
     * Figures, microseconds.
     *
     * @param rows bars stepped per round
     * @param rounds timed rounds
     * @param firstBar the first stepped bar
     * @param stepP50 median step
     * @param stepP99 99th percentile step
     * @param bareSumP50 median of the per-bar sum of the bare calls
     * @param bareSumP99 99th percentile of that sum
     * @param bare per call ({@code name.forecast}, {@code name.fuse}, {@code name.size}): p50, p99
     */
    public record Result(
            int rows,
            int rounds,
            String firstBar,
            double stepP50,
            double stepP99,
            double bareSumP50,
            double bareSumP99,
            Map<String, double[]> bare) {

        /** Step p50 over the bare-sum p50. */
        public double ratio() {
            return stepP50 / bareSumP50;
        }
    }

    private SessionStepBench() {}

    /**
     * Runs the bench.
     *
     * @param plugins started plugins
     * @param bundle the strategy bundle
     * @param bars real bars
     * @param warmupUntil warm-up end; the stepped bars are the {@code rows} after it
     * @param symbol the session's symbol
     * @param rows bars stepped per round, {@code >= 1}
     * @param rounds timed rounds, {@code >= 1}
     * @return figures
     * @throws IllegalArgumentException if fewer than {@code rows} bars follow the warm-up
     */
    public static Result run(
            PluginRuntime plugins,
            StrategyBundle bundle,
            BarData bars,
            Instant warmupUntil,
            String symbol,
            int rows,
            int rounds) {
        List<Bar> warm = new ArrayList<>();
        int first = 0;
        while (first < bars.size() && !bars.bar(first).start().isAfter(warmupUntil)) {
            warm.add(bars.bar(first));
            first++;
        }
        if (first + rows > bars.size()) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] "
                            + rows
                            + " bars do not follow "
                            + warmupUntil
                            + " in "
                            + bars.symbol());
        }
        List<Bar> timed = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            timed.add(bars.bar(first + i));
        }
        Duration interval = bars.period();

        // The inputs of every capability call, recorded once.
        FeatureFrame[] frames = new FeatureFrame[rows];
        List<List<Forecast>> forecasts = new ArrayList<>(rows);
        List<SizingContext[]> contexts = new ArrayList<>(rows);
        ScoredOutcome[] outcomes = new ScoredOutcome[rows];
        try (BundleLoader.Loaded rec = BundleLoader.load(bundle, plugins)) {
            Forecasts sources = SymbolEngine.sourcesOf(rec.strategy().sources(), null);
            int[] k = {0};
            Forecasts capture =
                    (frame, failures) -> {
                        frames[k[0]] = frame;
                        return sources.at(frame, failures);
                    };
            SymbolSession s = session(rec, symbol, interval, capture);
            s.warmUp(warm);
            FusedSignal[] steps = new FusedSignal[rows];
            for (int i = 0; i < rows; i++) {
                k[0] = i;
                Step step = s.append(timed.get(i));
                if (frames[i] == null || step.signal() == null) {
                    throw new IllegalStateException(
                            "session step bench: no decision at "
                                    + step.barTime()
                                    + ": "
                                    + step.noSignalReason());
                }
                if (i > 0) {
                    // What the step observed at this bar: the previous bar's fused signal, scored
                    // on its own label (SymbolEngine's close phase).
                    FusedSignal scored = steps[i - 1];
                    outcomes[i] =
                            new ScoredOutcome(
                                    scored.barTime(),
                                    scored.probabilityUp(),
                                    timed.get(i).close() > timed.get(i - 1).close());
                }
                steps[i] = step.signal();
                forecasts.add(step.forecasts());
                SizingContext[] c = new SizingContext[step.policies().size()];
                for (int p = 0; p < c.length; p++) {
                    PolicyStep ps = step.policies().get(p);
                    c[p] = ps.context();
                }
                contexts.add(c);
            }
        }

        Histogram step = histogram();
        Histogram bareSum = histogram();
        Map<String, Histogram> perCall = new LinkedHashMap<>();
        double sink = 0;
        for (int round = -1; round < rounds; round++) {
            boolean record = round >= 0;
            try (BundleLoader.Loaded l = BundleLoader.load(bundle, plugins)) {
                SymbolSession s = session(l, symbol, interval, null);
                s.warmUp(warm);
                for (int i = 0; i < rows; i++) {
                    Bar b = timed.get(i);
                    long t0 = System.nanoTime();
                    Step x = s.append(b);
                    long dt = System.nanoTime() - t0;
                    sink += x.policies().get(0).decision().fraction();
                    if (record) {
                        step.recordValue(dt);
                    }
                }
            }
            try (BundleLoader.Loaded l = BundleLoader.load(bundle, plugins)) {
                List<PredictionCapability> src = l.strategy().sources();
                EnsembleCapability ensemble = l.strategy().ensemble();
                List<SizingCapability> policies = l.strategy().policies();
                FeatureFrame fresh = warmChain(frames[0].previous());
                for (int i = 0; i < rows; i++) {
                    // The bar's frame built now, untimed, as the step builds its own just before
                    // its calls: the plugins then read a window of frames allocated among their
                    // own garbage, as in the step, rather than frames recorded long ago, which
                    // the collector has since compacted (cheaper to read than any live frame).
                    fresh = copy(frames[i], fresh);
                    long sum = 0;
                    if (outcomes[i] != null) {
                        // The step's observe calls (online recalibration) are plugin calls too.
                        for (SizingCapability policy : policies) {
                            if (policy instanceof OnlineCalibration c) {
                                long t0 = System.nanoTime();
                                c.observe(outcomes[i]);
                                long dt = System.nanoTime() - t0;
                                sum += dt;
                                if (record) {
                                    call(perCall, policy.descriptor().name() + ".observe")
                                            .recordValue(dt);
                                }
                            }
                        }
                    }
                    for (PredictionCapability p : src) {
                        long t0 = System.nanoTime();
                        Forecast f;
                        try {
                            f = p.forecast(fresh);
                        } catch (RuntimeException e) {
                            f = null; // a declined bar costs what it costs, as in the step
                        }
                        long dt = System.nanoTime() - t0;
                        sink += f == null ? 0 : f.probabilityUp();
                        sum += dt;
                        if (record) {
                            call(perCall, p.descriptor().name() + ".forecast").recordValue(dt);
                        }
                    }
                    long t0 = System.nanoTime();
                    sink += ensemble.fuse(forecasts.get(i), fresh).probabilityUp();
                    long dt = System.nanoTime() - t0;
                    sum += dt;
                    if (record) {
                        call(perCall, ensemble.descriptor().name() + ".fuse").recordValue(dt);
                    }
                    SizingContext[] c = contexts.get(i);
                    for (int p = 0; p < policies.size(); p++) {
                        if (c[p] == null) {
                            continue; // the step made no sizing call for this policy either
                        }
                        SizingCapability policy = policies.get(p);
                        long t1 = System.nanoTime();
                        sink += policy.size(c[p]).fraction();
                        long dt1 = System.nanoTime() - t1;
                        sum += dt1;
                        if (record) {
                            call(perCall, policy.descriptor().name() + ".size").recordValue(dt1);
                        }
                    }
                    if (record) {
                        bareSum.recordValue(sum);
                    }
                }
            }
        }
        if (sink == 42.4242) {
            System.err.print("");
        }
        Map<String, double[]> bare = new LinkedHashMap<>();
        perCall.forEach((name, h) -> bare.put(name, new double[] {p(h, 50), p(h, 99)}));
        return new Result(
                rows,
                rounds,
                timed.get(0).start().toString(),
                p(step, 50),
                p(step, 99),
                p(bareSum, 50),
                p(bareSum, 99),
                bare);
    }

    private static SymbolSession session(
            BundleLoader.Loaded l, String symbol, Duration interval, Forecasts forecasts) {
        SymbolEngine engine =
                new SymbolEngine(
                        symbol, l.rules(), l.strategy(), l.initialEquity(), forecasts, null);
        l.applyExpiry(engine, Optional.empty());
        return new SymbolSession(new SymbolSession.Settings(symbol, interval, 3), engine);
    }

    /**
     * A fresh copy of the warm-up's frame chain ending at {@code last}, oldest first (as a
     * session's warm-up builds it).
     */
    private static FeatureFrame warmChain(FeatureFrame last) {
        List<FeatureFrame> chain = new ArrayList<>();
        for (FeatureFrame f = last; f != null; f = f.previous()) {
            chain.add(f);
        }
        FeatureFrame previous = null;
        for (int k = chain.size() - 1; k >= 0; k--) {
            previous = copy(chain.get(k), previous);
        }
        return previous;
    }

    /** A new frame with {@code f}'s values and history, chained to {@code previous}. */
    private static FeatureFrame copy(FeatureFrame f, FeatureFrame previous) {
        return new FeatureFrame(f.schema(), f.history(), f.toArray(), previous);
    }

    private static Histogram histogram() {
        return new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    }

    private static Histogram call(Map<String, Histogram> m, String name) {
        return m.computeIfAbsent(name, n -> histogram());
    }

    private static double p(Histogram h, double q) {
        return h.getValueAtPercentile(q) / 1e3;
    }
}

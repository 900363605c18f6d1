package dev.quiver.host.bench;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-bar latency of one fused decision against the bare calls it makes, cycling through real
 * feature rows (never one repeated row: a repeated row flatters tree models through branch
 * prediction).
 *
 * <p>Setup (not timed): the trainable sources are fitted on {@code trainBars} labelled frames that
 * end before the first stacking bar; every source then forecasts the next {@code stackBars} bars
 * and the ensemble is fitted on those (out-of-fold) forecasts; the timed rows are the bars after
 * that. Then two passes over the same rows, {@code rounds} times each after one untimed warm-up
 * pass:
 *
 * <ul>
 *   <li>bare: each source's {@code forecast}, the ensemble's {@code fuse}, the policy's {@code
 *       size}, each timed alone on prepared inputs; the per-bar sum of these is {@code bare_sum};
 *   <li>fused: the whole decision in one timed span: the bar's feature frame, every source's
 *       forecast into a list, fusion, sizing context, sizing through the risk guard.
 * </ul>
 *
 * Figures are p50/p99 of the per-bar times, microseconds, {@link System#nanoTime()} (its own cost,
 * tens of ns per read, is in every figure; the bare sum reads the clock once per call, so it
 * carries more of it than the fused span).
 */
public final class DecisionLatency {

    /** Latency figures, microseconds. */
    public record Result(
            int rows,
            int rounds,
            String firstRow,
            Map<String, double[]> bareP50P99,
            double bareSumP50,
            double bareSumP99,
            double fusedP50,
            double fusedP99,
            String ensembleState) {}

    private DecisionLatency() {}

    /**
     * Measures.
     *
     * @param features the series' features
     * @param firstTimedBar first bar whose decision is timed
     * @param rows timed rows (cycled)
     * @param rounds timed passes over the rows
     * @param trainBars training window of the sources, ending before the stacking span
     * @param stackBars bars whose forecasts fit the ensemble, just before {@code firstTimedBar}
     */
    public static Result run(
            FeatureMatrix features,
            List<PredictionCapability> sources,
            EnsembleCapability ensemble,
            SizingCapability policy,
            int firstTimedBar,
            int rows,
            int rounds,
            int trainBars,
            int stackBars) {
        BarData bars = features.bars();
        int stackFirst = firstTimedBar - stackBars;
        int trainLast = stackFirst - 6; // embargo 5 bars
        int trainFirst = trainLast - trainBars + 1;
        if (trainFirst < features.firstWarmIndex() || firstTimedBar + rows > bars.size()) {
            throw new IllegalArgumentException(
                    "series too short for the latency bench: bars "
                            + trainFirst
                            + ".."
                            + (firstTimedBar + rows));
        }
        List<LabeledFrame> window = new ArrayList<>();
        for (int i = trainFirst; i <= trainLast; i++) {
            window.add(
                    new LabeledFrame(
                            features.frame(i), 1, Math.log(bars.close[i + 1] / bars.close[i])));
        }
        List<PredictionCapability> live = new ArrayList<>();
        for (PredictionCapability s : sources) {
            try {
                s.fit(window);
                s.forecast(features.frame(firstTimedBar));
                live.add(s);
            } catch (RuntimeException e) {
                // a source that cannot serve these bars (e.g. inside its training span) is not
                // timed
            }
        }
        List<LabeledForecasts> oof = new ArrayList<>();
        for (int i = stackFirst; i < firstTimedBar; i++) {
            FeatureFrame f = features.frame(i);
            List<Forecast> fs = new ArrayList<>();
            for (PredictionCapability s : live) {
                fs.add(s.forecast(f));
            }
            oof.add(
                    new LabeledForecasts(
                            Instant.ofEpochMilli(bars.startMillis[i]),
                            fs,
                            bars.close[i + 1] > bars.close[i]));
        }
        ensemble.fit(oof);
        RiskGuard guard = new RiskGuard();
        double[] atr = features.column("atr_pct_14");

        FeatureFrame[] frames = new FeatureFrame[rows];
        List<List<Forecast>> prepared = new ArrayList<>();
        FusedSignal[] signals = new FusedSignal[rows];
        for (int r = 0; r < rows; r++) {
            frames[r] = features.frame(firstTimedBar + r);
            List<Forecast> fs = new ArrayList<>();
            for (PredictionCapability s : live) {
                fs.add(s.forecast(frames[r]));
            }
            prepared.add(fs);
            signals[r] = ensemble.fuse(fs, frames[r]);
        }
        int n = live.size();
        int total = rows * rounds;
        long[][] bare = new long[n + 2][total];
        long[] bareSum = new long[total];
        long[] fused = new long[total];
        double sink = 0;
        for (int pass = -1; pass < rounds; pass++) {
            for (int r = 0; r < rows; r++) {
                int k = pass * rows + r;
                long sum = 0;
                for (int p = 0; p < n; p++) {
                    long t0 = System.nanoTime();
                    Forecast f = live.get(p).forecast(frames[r]);
                    long dt = System.nanoTime() - t0;
                    sink += f.probabilityUp();
                    sum += dt;
                    if (k >= 0) {
                        bare[p][k] = dt;
                    }
                }
                long t0 = System.nanoTime();
                FusedSignal sig = ensemble.fuse(prepared.get(r), frames[r]);
                long dtFuse = System.nanoTime() - t0;
                SizingContext ctx = context(sig, atr[firstTimedBar + r]);
                long t1 = System.nanoTime();
                sink += policy.size(ctx).fraction();
                long dtSize = System.nanoTime() - t1;
                if (k >= 0) {
                    bare[n][k] = dtFuse;
                    bare[n + 1][k] = dtSize;
                    bareSum[k] = sum + dtFuse + dtSize;
                }
            }
            for (int r = 0; r < rows; r++) {
                int k = pass * rows + r;
                int bar = firstTimedBar + r;
                long t0 = System.nanoTime();
                FeatureFrame frame = features.frame(bar);
                List<Forecast> fs = new ArrayList<>(n);
                for (int p = 0; p < n; p++) {
                    fs.add(live.get(p).forecast(frame));
                }
                FusedSignal sig = ensemble.fuse(fs, frame);
                sink += guard.decide(policy, context(sig, atr[bar])).fraction();
                long dt = System.nanoTime() - t0;
                if (k >= 0) {
                    fused[k] = dt;
                }
            }
        }
        Map<String, double[]> perCall = new LinkedHashMap<>();
        for (int p = 0; p < n; p++) {
            perCall.put(
                    live.get(p).descriptor().name() + ".forecast",
                    new double[] {pct(bare[p], 50), pct(bare[p], 99)});
        }
        perCall.put(
                ensemble.descriptor().name() + ".fuse",
                new double[] {pct(bare[n], 50), pct(bare[n], 99)});
        perCall.put(
                policy.descriptor().name() + ".size",
                new double[] {pct(bare[n + 1], 50), pct(bare[n + 1], 99)});
        if (sink == 42.4242) {
            System.err.print("");
        }
        return new Result(
                rows,
                rounds,
                Instant.ofEpochMilli(bars.startMillis[firstTimedBar]).toString(),
                perCall,
                pct(bareSum, 50),
                pct(bareSum, 99),
                pct(fused, 50),
                pct(fused, 99),
                ensemble.toString());
    }

    /**
     * A decision chain for {@link #fused}: the sources, the ensemble and the policy one decision
     * calls.
     *
     * @param label how the figures name it
     * @param sources forecast sources, fitted or restored
     * @param ensemble the fusion, fitted or restored
     * @param policy the sizing policy
     */
    public record Chain(
            String label,
            List<PredictionCapability> sources,
            EnsembleCapability ensemble,
            SizingCapability policy) {}

    /**
     * The fused decision (the span {@link #run} times as {@code fused}: the bar's frame, every
     * source's forecast, fusion, sizing through the risk guard) of each chain on the same rows, the
     * chains taking turns within each round (one untimed round first), so drift in the machine
     * touches all alike. A source that throws on a row is left out of that decision, as the service
     * does.
     *
     * @param features the series' features
     * @param chains the chains to compare
     * @param firstRow first timed bar
     * @param rows timed rows
     * @param rounds timed passes over the rows per chain
     * @return per chain label, {p50, p99} in microseconds
     */
    public static Map<String, double[]> fused(
            FeatureMatrix features, List<Chain> chains, int firstRow, int rows, int rounds) {
        double[] atr = features.column("atr_pct_14");
        RiskGuard guard = new RiskGuard();
        long[][] t = new long[chains.size()][rows * rounds];
        double sink = 0;
        for (int pass = -1; pass < rounds; pass++) {
            for (int c = 0; c < chains.size(); c++) {
                Chain chain = chains.get(c);
                int n = chain.sources().size();
                for (int r = 0; r < rows; r++) {
                    int bar = firstRow + r;
                    long t0 = System.nanoTime();
                    FeatureFrame frame = features.frame(bar);
                    List<Forecast> fs = new ArrayList<>(n);
                    for (int p = 0; p < n; p++) {
                        try {
                            fs.add(chain.sources().get(p).forecast(frame));
                        } catch (RuntimeException e) {
                            // left out, as the service leaves a failed source out
                        }
                    }
                    FusedSignal sig = chain.ensemble().fuse(fs, frame);
                    sink += guard.decide(chain.policy(), context(sig, atr[bar])).fraction();
                    long dt = System.nanoTime() - t0;
                    if (pass >= 0) {
                        t[c][pass * rows + r] = dt;
                    }
                }
            }
        }
        if (sink == 42.4242) {
            System.err.print("");
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        for (int c = 0; c < chains.size(); c++) {
            out.put(chains.get(c).label(), new double[] {pct(t[c], 50), pct(t[c], 99)});
        }
        return out;
    }

    /** p50/p99 of a source's forecast alone over the same kind of rows (e.g. another serving). */
    public static double[] forecastLatency(
            FeatureMatrix features,
            PredictionCapability source,
            int trainFirst,
            int trainLast,
            int firstRow,
            int rows,
            int rounds) {
        BarData bars = features.bars();
        List<LabeledFrame> window = new ArrayList<>();
        for (int i = trainFirst; i <= trainLast; i++) {
            window.add(
                    new LabeledFrame(
                            features.frame(i), 1, Math.log(bars.close[i + 1] / bars.close[i])));
        }
        source.fit(window);
        FeatureFrame[] frames = new FeatureFrame[rows];
        for (int r = 0; r < rows; r++) {
            frames[r] = features.frame(firstRow + r);
        }
        long[] t = new long[rows * rounds];
        double sink = 0;
        for (int pass = -1; pass < rounds; pass++) {
            for (int r = 0; r < rows; r++) {
                long t0 = System.nanoTime();
                sink += source.forecast(frames[r]).probabilityUp();
                long dt = System.nanoTime() - t0;
                if (pass >= 0) {
                    t[pass * rows + r] = dt;
                }
            }
        }
        if (sink == 42.4242) {
            System.err.print("");
        }
        return new double[] {pct(t, 50), pct(t, 99)};
    }

    private static SizingContext context(FusedSignal sig, double atrPct) {
        return new SizingContext(
                sig, 10_000, 0, 1.0, Double.isFinite(atrPct) ? Math.max(0, atrPct) : 0, 1.0);
    }

    private static double pct(long[] nanos, int q) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        int i = (int) Math.min(s.length - 1, Math.ceil(q / 100.0 * s.length) - 1);
        return s[Math.max(0, i)] / 1e3;
    }
}

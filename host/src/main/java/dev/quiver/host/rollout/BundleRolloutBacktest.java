package dev.quiver.host.rollout;

import dev.quiver.engine.Step;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.strategy.BundleLoader;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code backtest --rollout SPEC} for a strategy rollout: the champion bundle (the served one,
 * {@code --strategy}) and the spec's challenger bundle replayed side by side on the bars after
 * <em>both</em> bundles' training spans, with no refits, then routed, scored and judged by the
 * service's {@link RolloutController} ({@link RolloutBacktest#replay}).
 *
 * <p>Each bundle is stepped by the same engine as {@code backtest --strategy} ({@link
 * WalkForwardBacktest#runPinned}: features from the series' first bar, decisions from the first bar
 * both bundles may decide, paper books filled at the next open, the bundle's expiry applied). A
 * bundle's output at a bar is its fused p_up and its acting policy's fraction (the policy a session
 * acts with: {@code kelly_ml} when the bundle has it, else its first); a bar without a fused signal
 * (every source failed, or the bundle expired and abstains with no signal) has no output and is
 * counted as declined. The controller's P&amp;L of a bundle is then the one-bar P&amp;L of holding
 * that fraction ({@link Metric#PNL}); each bundle's own account, with fills at the next open, stops
 * and breakers, is in its {@link BacktestResult}.
 *
 * <p>Not thread-safe.
 */
public final class BundleRolloutBacktest {

    /**
     * The replay and both bundles' own backtests.
     *
     * @param rollout the controller's replay (routing, figures, transitions)
     * @param champion the champion bundle's backtest over the same bars
     * @param challenger the challenger bundle's
     * @param fromBar per series, the first bar replayed (both bundles serve from it)
     * @param policy the acting policy whose fraction is each bundle's position
     */
    public record Result(
            RolloutBacktest.Result rollout,
            List<BacktestResult> champion,
            List<BacktestResult> challenger,
            Map<String, Instant> fromBar,
            String policy) {}

    private final WalkForwardBacktest.Config config;
    private final RolloutBacktest.KeyMode keyMode;

    /**
     * A replay.
     *
     * @param config the backtest's costs and settings (its windows are not used: no refits)
     * @param keyMode the routing key
     */
    public BundleRolloutBacktest(
            WalkForwardBacktest.Config config, RolloutBacktest.KeyMode keyMode) {
        this.config = config;
        this.keyMode = keyMode;
    }

    /**
     * Runs both bundles over every series and the rollout over their outputs.
     *
     * @param spec a strategy rollout
     * @param series the series' features (computed from each series' first bar)
     * @param champion the champion bundle, loaded
     * @param challenger the challenger bundle, loaded (the same policies)
     * @param progress told every 500 bars of each bundle
     * @return the result
     * @throws IllegalArgumentException if the spec is not a strategy rollout, the bundles' policies
     *     differ, or a series has no bar after both bundles' training spans (naming it and both
     *     first servable bars)
     */
    public Result run(
            RolloutSpec spec,
            List<FeatureMatrix> series,
            BundleLoader.Loaded champion,
            BundleLoader.Loaded challenger,
            Progress progress) {
        if (spec.kind() != RolloutSpec.Kind.STRATEGY) {
            throw new IllegalArgumentException(
                    "rollout '" + spec.id() + "' is not a strategy rollout");
        }
        List<String> policies = champion.strategy().policyNames();
        if (!policies.equals(challenger.strategy().policyNames())) {
            throw new IllegalArgumentException(
                    "[Quiver/ROLLOUT_BACKTEST] the challenger bundle's policies "
                            + challenger.strategy().policyNames()
                            + " differ from the champion's "
                            + policies);
        }
        RolloutBacktest.checkCosts(spec, config);
        String policy = policies.contains("kelly_ml") ? "kelly_ml" : policies.get(0);
        int acting = policies.indexOf(policy);
        Instant from =
                champion.bundle().servesFrom().isAfter(challenger.bundle().servesFrom())
                        ? champion.bundle().servesFrom()
                        : challenger.bundle().servesFrom();
        int n = series.size();
        double[][][] p = new double[n][2][];
        double[][][] w = new double[n][2][];
        RolloutBacktest.Status[][][] status = new RolloutBacktest.Status[n][2][];
        int[] first = new int[n];
        List<BarData> bars = new ArrayList<>();
        List<BacktestResult> champResults = new ArrayList<>();
        List<BacktestResult> challResults = new ArrayList<>();
        Map<String, Instant> fromBar = new java.util.LinkedHashMap<>();
        BundleLoader.Loaded[] both = {champion, challenger};
        for (int s = 0; s < n; s++) {
            FeatureMatrix f = series.get(s);
            BarData b = f.bars();
            bars.add(b);
            int i = Math.max(f.firstWarmIndex(), 0);
            while (i < b.size() && b.startMillis[i] < from.toEpochMilli()) {
                i++;
            }
            if (i >= b.size() - 1) {
                throw new IllegalArgumentException(
                        "[Quiver/NO_BARS_AFTER_BUNDLE] series '"
                                + b.symbol()
                                + "' ends at "
                                + Instant.ofEpochMilli(b.startMillis[b.size() - 1])
                                + ": no two bars after both bundles' training spans (the champion"
                                + " serves from "
                                + champion.bundle().servesFrom()
                                + ", the challenger from "
                                + challenger.bundle().servesFrom()
                                + ")");
            }
            first[s] = i;
            fromBar.put(b.symbol(), Instant.ofEpochMilli(b.startMillis[i]));
            for (int v = 0; v < 2; v++) {
                p[s][v] = new double[b.size()];
                w[s][v] = new double[b.size()];
                Arrays.fill(p[s][v], Double.NaN);
                status[s][v] = new RolloutBacktest.Status[b.size()];
                Map<Long, Integer> index = new HashMap<>();
                for (int t = 0; t < b.size(); t++) {
                    index.put(b.startMillis[t], t);
                }
                BundleLoader.Loaded l = both[v];
                double[] pv = p[s][v];
                double[] wv = w[s][v];
                RolloutBacktest.Status[] sv = status[s][v];
                BacktestResult r =
                        new WalkForwardBacktest(config)
                                .runPinned(
                                        f,
                                        l.strategy(),
                                        l.rules(),
                                        i,
                                        (v == 0 ? "champion" : "challenger")
                                                + " strategy bundle "
                                                + l.bundle().id(),
                                        progress,
                                        (Step step) -> {
                                            int t = index.get(step.barTime().toEpochMilli());
                                            if (step.signal() == null) {
                                                sv[t] = RolloutBacktest.Status.DECLINED;
                                                return;
                                            }
                                            pv[t] = step.signal().probabilityUp();
                                            double fr =
                                                    step.policies()
                                                            .get(acting)
                                                            .decision()
                                                            .fraction();
                                            wv[t] = Math.max(0, Math.min(1, fr));
                                            sv[t] = RolloutBacktest.Status.OK;
                                        },
                                        engine -> l.applyExpiry(engine, Optional.empty()));
                (v == 0 ? champResults : challResults).add(r);
            }
        }
        RolloutBacktest.Result rollout =
                new RolloutBacktest(config, keyMode)
                        .replay(
                                spec,
                                bars,
                                new RolloutBacktest.Outputs(p, w, status, first),
                                Map.of(),
                                new int[2]);
        return new Result(rollout, champResults, challResults, fromBar, policy);
    }
}

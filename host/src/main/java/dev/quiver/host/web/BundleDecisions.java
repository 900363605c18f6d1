package dev.quiver.host.web;

import dev.quiver.api.market.Bar;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.EngineListener;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.session.FusedJson;
import dev.quiver.host.session.GateJson;
import dev.quiver.host.session.ServedStrategy;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.StrategyBundle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stateless {@code POST /v1/decisions} of a service that serves a strategy bundle: the decision
 * on the last posted bar made by the served bundle, exactly as a session warmed up on the posted
 * window would make it.
 *
 * <p>Per request: the bars before the last warm up a fresh {@link SymbolSession} (streaming
 * features and the payoff ratio over the posted window only: nothing is kept between requests),
 * then the last bar is stepped through a {@link SymbolEngine} with the bundle's fitted sources, its
 * fitted ensemble (stack weights, calibrator) and its policies' fitted state (kelly_ml), its
 * trading settings and expiry. The books are the bundle's: flat, at its initial equity, drawdown 0
 * (a stateless request has no account; a session has one). So the fused p_up equals that of a
 * session warmed up on the same bars, and {@code provenance} names the bundle.
 *
 * <p>The bundle's instances are loaded once and reloaded when the served bundle changes (an alias
 * move, {@code PUT /v1/strategy}, a completed strategy rollout): a request decides with one bundle
 * only. Requests are serialised (plugins are not required to be thread-safe); sessions have their
 * own instances.
 */
final class BundleDecisions implements AutoCloseable {

    /** A gap of any size inside a posted window is accepted (it is history, not a session). */
    private static final int ANY_GAP_BARS = Integer.MAX_VALUE;

    private final ServedStrategy served;
    private final PluginRuntime runtime;
    private final EngineListener listener;
    private BundleLoader.Loaded loaded;

    BundleDecisions(ServedStrategy served, PluginRuntime runtime, EngineListener listener) {
        this.served = served;
        this.runtime = runtime;
        this.listener = listener;
    }

    /** The served bundle's instances, loaded again when another bundle serves. */
    private BundleLoader.Loaded instances() {
        StrategyBundle now = served.bundle();
        if (loaded == null || !loaded.bundle().id().equals(now.id())) {
            BundleLoader.Loaded next = BundleLoader.load(now, runtime);
            if (loaded != null) {
                loaded.close();
            }
            loaded = next;
        }
        return loaded;
    }

    /**
     * Decides on the last of the posted bars with the served bundle.
     *
     * @param bars the posted window, oldest first (validated by {@link DecisionService#parse})
     * @return the JSON-ready answer
     * @throws BadRequestException {@code TOO_FEW_BARS} naming {@code bars} when the window is
     *     shorter than the features' warm-up
     */
    synchronized Map<String, Object> decide(BarData bars) {
        BundleLoader.Loaded l = instances();
        SymbolEngine engine =
                new SymbolEngine(
                        bars.symbol(), l.rules(), l.strategy(), l.initialEquity(), null, listener);
        l.applyExpiry(engine, served.maxAge());
        SymbolSession session =
                new SymbolSession(
                        new SymbolSession.Settings(bars.symbol(), bars.period(), ANY_GAP_BARS),
                        engine);
        int last = bars.size() - 1;
        List<Bar> warm = new ArrayList<>(last);
        for (int i = 0; i < last; i++) {
            warm.add(bars.bar(i));
        }
        session.warmUp(warm);
        Step step = session.append(bars.bar(last));
        if (session.state() == SymbolSession.State.WARMING_UP) {
            int need = FeaturePipeline.compute(bars).firstWarmIndex() + 1;
            throw new BadRequestException(
                    "TOO_FEW_BARS",
                    "bars",
                    null,
                    "[Quiver/TOO_FEW_BARS] field 'bars' holds "
                            + bars.size()
                            + " bars; the features need at least "
                            + need
                            + " to warm up");
        }
        return answer(bars, l, step, GateJson.of(engine.gate(), engine.lastGate()));
    }

    private static Map<String, Object> answer(
            BarData bars, BundleLoader.Loaded l, Step step, Map<String, Object> gate) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("symbol", bars.symbol());
        out.put("bar_time", step.barTime().toString());
        String bundle = l.bundle().id();
        if (step.signal() != null) {
            Map<String, Object> fused =
                    FusedJson.of(step.signal(), l.strategy().ensemble().descriptor().name());
            fused.put("fitted", true);
            fused.put(
                    "fusion_note",
                    "the ensemble's fitted state from strategy bundle "
                            + bundle
                            + " (out-of-fold fit, as validated by its walk-forward)");
            out.put("fused", fused);
        } else {
            out.put("fused", null);
            out.put("no_signal", step.noSignalReason());
        }
        Map<String, Object> decisions = new LinkedHashMap<>();
        for (PolicyStep ps : step.policies()) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("fraction", ps.decision().fraction());
            d.put("reason", ps.decision().reason());
            d.put("overridden_by_risk_guard", ps.decision().overridden());
            SizingContext c = ps.context();
            if (c != null) {
                Map<String, Object> in = new LinkedHashMap<>();
                in.put("p_up", c.signal().probabilityUp());
                in.put("confidence", c.signal().confidence());
                in.put("payoff_ratio", c.payoffRatio());
                in.put("volatility", c.volatility());
                in.put("equity", c.equity());
                in.put("drawdown", c.drawdown());
                in.put("max_fraction", c.maxFraction());
                d.put("inputs", in);
            }
            decisions.put(ps.policy(), d);
        }
        out.put("decisions", decisions);
        out.put("gate", gate);
        Map<String, Object> provenance = new LinkedHashMap<>(l.bundle().provenance());
        provenance.put(
                "feature_schema",
                FeaturePipeline.SCHEMA.name() + " v" + FeaturePipeline.SCHEMA.version());
        provenance.put("feature_schema_hash", FeaturePipeline.SCHEMA.hash());
        provenance.put("failed_sources", step.failures());
        provenance.put(
                "window",
                "features over the "
                        + bars.size()
                        + " posted bars; books flat at the bundle's initial equity (no account:"
                        + " open a session for one)");
        out.put("provenance", provenance);
        return out;
    }

    /** Closes the loaded instances. */
    @Override
    public synchronized void close() {
        if (loaded != null) {
            loaded.close();
            loaded = null;
        }
    }
}

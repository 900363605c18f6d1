package dev.quiver.host.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.gate.GateVerdict;
import dev.quiver.engine.gate.InputGate;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.GuardedDecision;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.live.Pipeline;
import dev.quiver.host.live.PipelineHolder;
import dev.quiver.host.live.ServedModel;
import dev.quiver.host.rollout.LiveRollouts;
import dev.quiver.host.rollout.Role;
import dev.quiver.host.rollout.RolloutController;
import dev.quiver.host.rollout.RolloutSpec;
import dev.quiver.host.rollout.Transition;
import dev.quiver.host.rollout.VariantOutput;
import dev.quiver.host.session.GateJson;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One decision from a request's bars when the service serves no strategy bundle ({@code --strategy
 * none}; with a bundle {@link BundleDecisions} decides): the plugins as loaded, and the answer says
 * plainly that its fusion and learning policies are unfitted ({@code warning}, {@code fused.fitted
 * = false}). Point-in-time features, every prediction plugin on the last bar's frame, fusion, every
 * sizing policy through the {@link RiskGuard}. When every prediction source fails the decision
 * falls back as a session's {@link SymbolEngine} does: {@code fused} null, {@code no_signal} and
 * every policy's fraction 0 with {@link SymbolEngine#NO_FORECAST_REASON}, each source and why in
 * {@code provenance.failed_sources}. Calls into plugins are serialised (plugins are not required to
 * be thread-safe). Each decision takes a lease on the holder's current {@link Pipeline} and uses
 * only that generation, so a swap never splits one.
 */
final class DecisionService {

    /** Trailing window of 1-bar returns for the payoff ratio handed to sizing, as the backtest. */
    static final int PAYOFF_WINDOW_BARS = 250;

    private final PipelineHolder pipelines;
    private final ServiceMetrics metrics;
    private final double maxFraction;
    private final RiskGuard guard = new RiskGuard();
    private final WeightedFusion untrainedFusion = new WeightedFusion();

    private final Optional<LiveRollouts> rollouts;

    DecisionService(
            PipelineHolder pipelines,
            ServiceMetrics metrics,
            double maxFraction,
            Optional<LiveRollouts> rollouts) {
        this.pipelines = pipelines;
        this.metrics = metrics;
        this.maxFraction = maxFraction;
        this.rollouts = rollouts;
    }

    double maxFraction() {
        return maxFraction;
    }

    /** Reads and validates the request's bars; 400 naming the field and bar index when bad. */
    static BarData parse(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new BadRequestException(
                    "BAD_REQUEST", "body", null, "the body must be a JSON object {symbol, bars}");
        }
        JsonNode symbolNode = body.get("symbol");
        if (symbolNode == null || symbolNode.isNull()) {
            throw new BadRequestException(
                    "BAD_REQUEST", "symbol", null, "field 'symbol' is missing");
        }
        // A number was taken as its text ("symbol": 5 decided symbol "5").
        if (!symbolNode.isTextual()
                || !SessionRoutes.SYMBOL.matcher(symbolNode.asText()).matches()) {
            throw new BadRequestException(
                    "BAD_REQUEST",
                    "symbol",
                    null,
                    "field 'symbol' " + SessionRoutes.SYMBOL_FORM + " (value: " + symbolNode + ")");
        }
        JsonNode account = body.get("account");
        if (account != null && !account.isNull() && !account.isTextual()) {
            throw new BadRequestException(
                    "BAD_REQUEST",
                    "account",
                    null,
                    "field 'account' must be a string (value: " + account + ")");
        }
        String symbol = symbolNode.asText();
        List<Bar> bars = bars(body.get("bars"));
        Duration period =
                bars.size() >= 2
                        ? Duration.between(
                                bars.get(bars.size() - 2).start(),
                                bars.get(bars.size() - 1).start())
                        : Duration.ofDays(1);
        return new BarData(symbol, period, bars);
    }

    /**
     * Reads and validates a JSON array of bars (strictly increasing time); 400 naming the field and
     * index when bad.
     *
     * @param barsNode the {@code bars} array
     * @return the bars, oldest first
     * @throws BadRequestException naming {@code bars[i].field}
     */
    static List<Bar> bars(JsonNode barsNode) {
        if (barsNode == null || !barsNode.isArray() || barsNode.isEmpty()) {
            throw new BadRequestException(
                    "BAD_REQUEST", "bars", null, "field 'bars' must be a non-empty array");
        }
        List<Bar> bars = new ArrayList<>(barsNode.size());
        for (int i = 0; i < barsNode.size(); i++) {
            JsonNode b = barsNode.get(i);
            if (!b.isObject()) {
                throw bad(i, "bars[" + i + "]", "is not an object");
            }
            Instant start = timestamp(b, i);
            Bar bar;
            try {
                bar =
                        new Bar(
                                start,
                                number(b, "open", i),
                                number(b, "high", i),
                                number(b, "low", i),
                                number(b, "close", i),
                                number(b, "volume", i));
            } catch (QuiverInputException e) {
                String field = e.field().equals("start") ? "timestamp" : e.field();
                throw new BadRequestException(
                        e.code(),
                        "bars[" + i + "]." + field,
                        i,
                        "bars[" + i + "]: " + e.getMessage());
            }
            if (!bars.isEmpty() && !start.isAfter(bars.get(bars.size() - 1).start())) {
                throw bad(
                        i,
                        "bars[" + i + "].timestamp",
                        "is not after the previous bar's "
                                + bars.get(bars.size() - 1).start()
                                + " (bars must be in strictly increasing time order)");
            }
            bars.add(bar);
        }
        return bars;
    }

    private static Instant timestamp(JsonNode b, int i) {
        JsonNode t = b.get("timestamp");
        String field = "bars[" + i + "].timestamp";
        if (t == null || t.isNull()) {
            throw bad(i, field, "is missing");
        }
        if (t.isIntegralNumber()) {
            return Instant.ofEpochMilli(t.asLong());
        }
        if (t.isTextual()) {
            try {
                return Instant.parse(t.asText());
            } catch (DateTimeParseException e) {
                throw bad(
                        i,
                        field,
                        "'"
                                + t.asText()
                                + "' is not an ISO-8601 instant (e.g. 2024-01-01T00:00:00Z)");
            }
        }
        throw bad(i, field, "must be an ISO-8601 instant or epoch milliseconds");
    }

    private static double number(JsonNode b, String name, int i) {
        JsonNode v = b.get(name);
        if (v == null || v.isNull()) {
            throw bad(i, "bars[" + i + "]." + name, "is missing");
        }
        if (!v.isNumber()) {
            throw bad(i, "bars[" + i + "]." + name, "must be a number (value: " + v + ")");
        }
        return v.asDouble();
    }

    private static BadRequestException bad(int i, String field, String problem) {
        return new BadRequestException(
                "BAD_BAR", field, i, "[Quiver/BAD_BAR] field '" + field + "' " + problem);
    }

    /** Computes the decision; the answer is a JSON-ready map. */
    Map<String, Object> decide(BarData bars) {
        return decide(bars, null);
    }

    /**
     * Computes the decision for a request that may name an account (a rollout routed by account
     * uses it; without one, the symbol).
     */
    Map<String, Object> decide(BarData bars, String account) {
        try (PipelineHolder.Lease lease = pipelines.acquire()) {
            return decide(bars, account, lease.pipeline());
        }
    }

    private synchronized Map<String, Object> decide(
            BarData bars, String account, Pipeline pipeline) {
        FeatureMatrix features = FeaturePipeline.compute(bars);
        int last = bars.size() - 1;
        if (last < features.firstWarmIndex()) {
            throw new BadRequestException(
                    "TOO_FEW_BARS",
                    "bars",
                    null,
                    "[Quiver/TOO_FEW_BARS] field 'bars' holds "
                            + bars.size()
                            + " bars; the features need at least "
                            + (features.firstWarmIndex() + 1)
                            + " to warm up");
        }
        FeatureFrame frame = features.frame(last);
        // No bundle, so no training distribution: the gap and move checks only, against the
        // posted window's median bar spacing.
        InputGate gate =
                new InputGate(
                        InputGate.Limits.defaults(medianSpacing(bars)),
                        null,
                        "no strategy bundle serves (--strategy none): no training distribution");
        GateVerdict verdict = gate.check(frame);
        Map<String, Object> gateJson = GateJson.of(gate, verdict);

        // Rollouts: score the outcomes this request's bars reveal, before anything new is recorded.
        List<LiveRollouts.Active> active = rollouts.map(LiveRollouts::active).orElse(List.of());
        for (LiveRollouts.Active a : active) {
            scoreOutcomes(a, routingKey(a, bars, account), bars);
        }
        List<Map<String, Object>> rolloutProvenance = new ArrayList<>();
        Instant barTime = bars.bar(last).start();

        List<Forecast> forecasts = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        java.util.Set<String> rolledOut = new java.util.HashSet<>();
        for (PredictionCapability p : pipeline.predictions()) {
            String name = p.descriptor().name();
            Optional<LiveRollouts.Active> rollout =
                    rollouts.flatMap(r -> r.forCapability(RolloutSpec.Kind.PREDICTION, name));
            if (rollout.isPresent()) {
                rolledOut.add(name);
                rolloutForecast(
                        rollout.get(),
                        frame,
                        routingKey(rollout.get(), bars, account),
                        bars,
                        barTime,
                        forecasts,
                        failed,
                        rolloutProvenance);
                continue;
            }
            try {
                Forecast f = timed("prediction", name, () -> p.forecast(frame));
                if (f == null) {
                    failed.put(name, "returned no forecast");
                } else {
                    forecasts.add(f);
                }
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                // as the session's engine: an Error of a source (not behind a plugin guard) fails
                // it
                failed.put(name, String.valueOf(e.getMessage()));
            }
        }
        for (LiveRollouts.Active a : active) {
            RolloutSpec spec = a.controller().spec();
            if (spec.kind() == RolloutSpec.Kind.PREDICTION
                    && !rolledOut.contains(spec.capability())
                    && rollouts.get().forCapability(spec.kind(), spec.capability()).orElse(null)
                            == a) {
                // a capability the pipeline does not have: the rollout adds it
                rolloutForecast(
                        a,
                        frame,
                        routingKey(a, bars, account),
                        bars,
                        barTime,
                        forecasts,
                        failed,
                        rolloutProvenance);
            }
        }
        if (forecasts.isEmpty()) {
            // As a session's engine decides such a bar (SymbolEngine.step): no fusion, no policy
            // asked; every policy flat with the engine's reason, each failure in failed_sources.
            Map<String, Object> decisions = new LinkedHashMap<>();
            for (SizingCapability s : pipeline.sizings()) {
                Map<String, Object> decision = new LinkedHashMap<>();
                decision.put("fraction", 0.0);
                decision.put("reason", SymbolEngine.NO_FORECAST_REASON);
                decision.put("overridden_by_risk_guard", false);
                decisions.put(s.descriptor().name(), decision);
            }
            return answer(
                    bars, pipeline, null, decisions, failed, rolloutProvenance, verdict, gateJson);
        }

        // The plugin's stacking ensemble when installed, else the first plugin ensemble, else the
        // built-in weighted fusion; a fusion that fails falls back to the untrained weighted one.
        EnsembleCapability ensemble =
                pipeline.ensembles().stream()
                        .filter(e -> e.descriptor().name().equals("stack"))
                        .findFirst()
                        .or(() -> pipeline.ensembles().stream().findFirst())
                        .orElse(untrainedFusion);
        FusedSignal fused;
        String fusionName = ensemble.descriptor().name();
        String fusionNote;
        try {
            fused = timed("ensemble", fusionName, () -> ensemble.fuse(forecasts, frame));
            fusionNote =
                    ensemble == untrainedFusion
                            ? "UNFITTED: built-in weighted fusion (equal weights, no"
                                    + " calibration); this service serves no strategy bundle"
                                    + " (--strategy none)"
                            : "UNFITTED: plugin ensemble '"
                                    + fusionName
                                    + "' as loaded (an unfitted ensemble weighs its sources"
                                    + " equally, no calibration); this service serves no strategy"
                                    + " bundle (--strategy none)";
        } catch (RuntimeException e) {
            failed.put("ensemble:" + fusionName, String.valueOf(e.getMessage()));
            fusionName = untrainedFusion.descriptor().name();
            fused = untrainedFusion.fuse(forecasts, frame);
            fusionNote =
                    "UNFITTED: plugin ensemble failed; built-in weighted fusion (equal weights, no"
                            + " calibration); this service serves no strategy bundle (--strategy"
                            + " none)";
        }

        double atrPct = features.column("atr_pct_14")[last];
        double volatility = Double.isFinite(atrPct) ? Math.max(0, atrPct) : 0;
        double payoff = payoffRatio(bars.close, PAYOFF_WINDOW_BARS);
        SizingContext ctx = new SizingContext(fused, 1.0, 0.0, maxFraction, volatility, payoff);
        Map<String, Object> decisions = new LinkedHashMap<>();
        for (SizingCapability s : pipeline.sizings()) {
            String name = s.descriptor().name();
            Optional<LiveRollouts.Active> rollout =
                    rollouts.flatMap(r -> r.forCapability(RolloutSpec.Kind.SIZING, name));
            GuardedDecision d =
                    rollout.isPresent()
                            ? rolloutSizing(
                                    rollout.get(),
                                    ctx,
                                    routingKey(rollout.get(), bars, account),
                                    bars,
                                    barTime,
                                    rolloutProvenance)
                            : timed("sizing", name, () -> guard.decide(s, ctx));
            Map<String, Object> inputs = new LinkedHashMap<>();
            inputs.put("p_up", fused.probabilityUp());
            inputs.put("confidence", fused.confidence());
            inputs.put("payoff_ratio", payoff);
            inputs.put("volatility", volatility);
            inputs.put("equity", ctx.equity());
            inputs.put("drawdown", ctx.drawdown());
            inputs.put("max_fraction", maxFraction);
            Map<String, Object> decision = new LinkedHashMap<>();
            decision.put("fraction", d.fraction());
            decision.put("reason", d.reason());
            decision.put("overridden_by_risk_guard", d.overridden());
            decision.put("inputs", inputs);
            decisions.put(name, decision);
        }

        List<Map<String, Object>> contributions = new ArrayList<>();
        Map<String, Object> fusedOut = new LinkedHashMap<>();
        fusedOut.put("p_up", fused.probabilityUp());
        fusedOut.put("confidence", fused.confidence());
        fusedOut.put("agreement", fused.agreement());
        fusedOut.put("fusion", fusionName);
        fusedOut.put("fitted", false);
        fusedOut.put("fusion_note", fusionNote);
        fusedOut.put("contributions", contributions);
        for (SourceContribution c : fused.contributions()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("source", c.source());
            m.put("p_up", c.probabilityUp());
            m.put("weight", c.weight());
            contributions.add(m);
        }
        return answer(
                bars, pipeline, fusedOut, decisions, failed, rolloutProvenance, verdict, gateJson);
    }

    /** The median distance between consecutive posted bars (one day for a single bar). */
    static Duration medianSpacing(BarData bars) {
        int n = bars.size();
        if (n < 2) {
            return Duration.ofDays(1);
        }
        long[] d = new long[n - 1];
        for (int i = 1; i < n; i++) {
            d[i - 1] = bars.startMillis[i] - bars.startMillis[i - 1];
        }
        java.util.Arrays.sort(d);
        return Duration.ofMillis(d[(d.length - 1) / 2]);
    }

    /**
     * The answer: {@code fused} null (then {@code no_signal} says why, as a session's answer does)
     * when every prediction source failed.
     */
    private static Map<String, Object> answer(
            BarData bars,
            Pipeline pipeline,
            Map<String, Object> fusedOut,
            Map<String, Object> decisions,
            Map<String, String> failed,
            List<Map<String, Object>> rolloutProvenance,
            GateVerdict verdict,
            Map<String, Object> gateJson) {
        if (verdict.abstain()) {
            // The gate refused the bar: every policy abstains (flat) with its reason.
            for (Object d : decisions.values()) {
                @SuppressWarnings("unchecked")
                Map<String, Object> decision = (Map<String, Object>) d;
                decision.put("fraction", 0.0);
                decision.put("reason", verdict.reason());
                decision.put("overridden_by_risk_guard", true);
            }
        }
        Map<String, Object> models = new LinkedHashMap<>();
        for (ServedModel m : pipeline.models().values()) {
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("plugin_id", m.pluginId());
            model.put("requested", m.requested());
            model.put("name", m.name());
            model.put("version", m.version());
            model.put("run_id", m.runId());
            model.put("sha256", m.sha256());
            models.put(m.capability(), model);
        }
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("pipeline_generation", pipeline.generation());
        provenance.put("plugins", pipeline.pluginVersions());
        provenance.put("models", models);
        provenance.put(
                "feature_schema",
                FeaturePipeline.SCHEMA.name() + " v" + FeaturePipeline.SCHEMA.version());
        provenance.put("feature_schema_hash", FeaturePipeline.SCHEMA.hash());
        provenance.put("failed_sources", failed);
        if (!rolloutProvenance.isEmpty()) {
            provenance.put("rollouts", rolloutProvenance);
        }

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("symbol", bars.symbol());
        out.put("bar_time", bars.bar(bars.size() - 1).start().toString());
        out.put(
                "warning",
                "unfitted: no strategy bundle serves (--strategy none); the plugins' ensemble and"
                        + " learning sizing policies decide as loaded, not as any backtest"
                        + " validated them");
        out.put("fused", fusedOut);
        if (fusedOut == null) {
            out.put("no_signal", SymbolEngine.NO_FORECAST_REASON);
        }
        out.put("decisions", decisions);
        out.put("gate", gateJson);
        out.put("provenance", provenance);
        return out;
    }

    private static String routingKey(LiveRollouts.Active a, BarData bars, String account) {
        return a.controller().spec().routingKey() == RolloutSpec.RoutingKey.ACCOUNT
                        && account != null
                        && !account.isBlank()
                ? account
                : bars.symbol();
    }

    /**
     * Scores a rollout's pending forecasts for this key whose next bar is in the request: the
     * outcome of bar t is the close of the bar right after t, known only once a request brings it.
     */
    private void scoreOutcomes(LiveRollouts.Active a, String key, BarData bars) {
        RolloutController c = a.controller();
        List<Transition> transitions = new ArrayList<>();
        boolean scored = false;
        for (Instant t : c.pendingBars(key)) {
            int j = java.util.Arrays.binarySearch(bars.startMillis, t.toEpochMilli());
            if (j >= 0 && j + 1 < bars.size()) {
                transitions.addAll(
                        c.resolve(
                                key,
                                t,
                                Instant.ofEpochMilli(bars.startMillis[j + 1]),
                                bars.close[j + 1],
                                Instant.now()));
                scored = true;
            }
        }
        if (scored) {
            rollouts.orElseThrow().manager().applied(c, transitions);
        }
    }

    private void rolloutForecast(
            LiveRollouts.Active a,
            FeatureFrame frame,
            String key,
            BarData bars,
            Instant barTime,
            List<Forecast> forecasts,
            Map<String, String> failed,
            List<Map<String, Object>> provenance) {
        RolloutController c = a.controller();
        String name = c.spec().capability();
        Role acting = c.route(key);
        Map<Role, Forecast> out = new java.util.EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            if (!c.computes(role)) {
                continue;
            }
            try {
                Forecast f =
                        timed(
                                "prediction",
                                name + "@" + role.id(),
                                () -> a.variant(role).prediction().forecast(frame));
                if (f == null) {
                    failed.put(name + "@" + role.id(), "returned no forecast");
                } else {
                    out.put(role, f);
                }
            } catch (RuntimeException e) {
                failed.put(name + "@" + role.id(), String.valueOf(e.getMessage()));
            }
        }
        Role used =
                out.containsKey(acting)
                        ? acting
                        : out.isEmpty() ? acting : out.keySet().iterator().next();
        Forecast f = out.get(used);
        if (f != null) {
            forecasts.add(f);
        }
        c.record(
                key,
                barTime,
                bars.close[bars.size() - 1],
                out.containsKey(Role.CHAMPION)
                        ? VariantOutput.forecast(out.get(Role.CHAMPION).probabilityUp())
                        : null,
                out.containsKey(Role.CHALLENGER)
                        ? VariantOutput.forecast(out.get(Role.CHALLENGER).probabilityUp())
                        : null,
                used);
        rollouts.orElseThrow().manager().saveSoon(c);
        Map<String, Object> m = rolloutEntry(a, key, acting, used);
        m.put(
                "champion_p_up",
                out.containsKey(Role.CHAMPION) ? out.get(Role.CHAMPION).probabilityUp() : null);
        m.put(
                "challenger_p_up",
                out.containsKey(Role.CHALLENGER) ? out.get(Role.CHALLENGER).probabilityUp() : null);
        provenance.add(m);
    }

    private GuardedDecision rolloutSizing(
            LiveRollouts.Active a,
            SizingContext ctx,
            String key,
            BarData bars,
            Instant barTime,
            List<Map<String, Object>> provenance) {
        RolloutController c = a.controller();
        String name = c.spec().capability();
        Role acting = c.route(key);
        Map<Role, GuardedDecision> out = new java.util.EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            if (c.computes(role)) {
                // the risk guard turns a failure into a flat decision with a reason
                out.put(
                        role,
                        timed(
                                "sizing",
                                name + "@" + role.id(),
                                () -> guard.decide(a.variant(role).sizing(), ctx)));
            }
        }
        Role used = out.containsKey(acting) ? acting : out.keySet().iterator().next();
        c.record(
                key,
                barTime,
                bars.close[bars.size() - 1],
                out.containsKey(Role.CHAMPION)
                        ? VariantOutput.sizing(out.get(Role.CHAMPION).fraction())
                        : null,
                out.containsKey(Role.CHALLENGER)
                        ? VariantOutput.sizing(out.get(Role.CHALLENGER).fraction())
                        : null,
                used);
        rollouts.orElseThrow().manager().saveSoon(c);
        Map<String, Object> m = rolloutEntry(a, key, acting, used);
        m.put(
                "champion_fraction",
                out.containsKey(Role.CHAMPION) ? out.get(Role.CHAMPION).fraction() : null);
        m.put(
                "challenger_fraction",
                out.containsKey(Role.CHALLENGER) ? out.get(Role.CHALLENGER).fraction() : null);
        provenance.add(m);
        return out.get(used);
    }

    private static Map<String, Object> rolloutEntry(
            LiveRollouts.Active a, String key, Role acting, Role used) {
        RolloutController c = a.controller();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rollout", c.id());
        m.put("stage", c.stage().id());
        m.put("capability", c.spec().kind().id() + ":" + c.spec().capability());
        m.put("routing_key", key);
        m.put("routed", acting.id());
        m.put("acted", used.id());
        if (used != acting) {
            m.put("note", "the routed " + acting.id() + " failed; the " + used.id() + " acted");
        }
        m.put("variant", a.variant(used).description());
        return m;
    }

    private <T> T timed(String capability, String name, Supplier<T> call) {
        return metrics.timed(capability, name, call);
    }

    /** Trailing payoff ratio of 1-bar returns over the last {@code window}; 1.0 without both. */
    static double payoffRatio(double[] close, int window) {
        double gainSum = 0;
        double lossSum = 0;
        int gains = 0;
        int losses = 0;
        for (int j = Math.max(1, close.length - window); j < close.length; j++) {
            double r = close[j] / close[j - 1] - 1;
            if (r > 0) {
                gainSum += r;
                gains++;
            } else if (r < 0) {
                lossSum -= r;
                losses++;
            }
        }
        return gains > 0 && losses > 0 ? (gainSum / gains) / (lossSum / losses) : 1.0;
    }
}

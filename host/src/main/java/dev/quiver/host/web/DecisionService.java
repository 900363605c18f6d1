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
import dev.quiver.host.data.BarData;
import dev.quiver.host.feature.FeatureMatrix;
import dev.quiver.host.feature.FeaturePipeline;
import dev.quiver.host.fusion.WeightedFusion;
import dev.quiver.host.live.Pipeline;
import dev.quiver.host.live.PipelineHolder;
import dev.quiver.host.live.ServedModel;
import dev.quiver.host.risk.GuardedDecision;
import dev.quiver.host.risk.RiskGuard;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One decision from a request's bars: point-in-time features, every prediction plugin on the last
 * bar's frame, fusion, every sizing policy through the {@link RiskGuard}. Calls into plugins are
 * serialised (plugins are not required to be thread-safe). Each decision takes a lease on the
 * holder's current {@link Pipeline} and uses only that generation, so a swap never splits one.
 */
final class DecisionService {

    /** Trailing window of 1-bar returns for the payoff ratio handed to sizing, as the backtest. */
    static final int PAYOFF_WINDOW_BARS = 250;

    private final PipelineHolder pipelines;
    private final MeterRegistry metrics;
    private final double maxFraction;
    private final RiskGuard guard = new RiskGuard();
    private final WeightedFusion untrainedFusion = new WeightedFusion();

    DecisionService(PipelineHolder pipelines, MeterRegistry metrics, double maxFraction) {
        this.pipelines = pipelines;
        this.metrics = metrics;
        this.maxFraction = maxFraction;
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
        String symbol = symbolNode == null || symbolNode.isNull() ? "" : symbolNode.asText();
        if (symbol.isBlank()) {
            throw new BadRequestException(
                    "BAD_REQUEST", "symbol", null, "field 'symbol' is missing or blank");
        }
        JsonNode barsNode = body.get("bars");
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
        Duration period =
                bars.size() >= 2
                        ? Duration.between(
                                bars.get(bars.size() - 2).start(),
                                bars.get(bars.size() - 1).start())
                        : Duration.ofDays(1);
        return new BarData(symbol, period, bars);
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
        try (PipelineHolder.Lease lease = pipelines.acquire()) {
            return decide(bars, lease.pipeline());
        }
    }

    private synchronized Map<String, Object> decide(BarData bars, Pipeline pipeline) {
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

        List<Forecast> forecasts = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        for (PredictionCapability p : pipeline.predictions()) {
            String name = p.descriptor().name();
            try {
                Forecast f = timed("prediction", name, () -> p.forecast(frame));
                if (f == null) {
                    failed.put(name, "returned no forecast");
                } else {
                    forecasts.add(f);
                }
            } catch (RuntimeException e) {
                failed.put(name, String.valueOf(e.getMessage()));
            }
        }
        if (forecasts.isEmpty()) {
            throw new IllegalStateException(
                    "[Quiver/NO_FORECAST] every prediction source failed: " + failed);
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
                            ? "built-in weighted fusion, not fitted by this service (equal"
                                    + " weights, no calibration)"
                            : "plugin ensemble '"
                                    + fusionName
                                    + "' as loaded; not fitted by this service (an unfitted"
                                    + " ensemble weighs its sources equally)";
        } catch (RuntimeException e) {
            failed.put("ensemble:" + fusionName, String.valueOf(e.getMessage()));
            fusionName = untrainedFusion.descriptor().name();
            fused = untrainedFusion.fuse(forecasts, frame);
            fusionNote =
                    "plugin ensemble failed; built-in weighted fusion, not fitted by this service"
                            + " (equal weights, no calibration)";
        }

        double atrPct = features.column("atr_pct_14")[last];
        double volatility = Double.isFinite(atrPct) ? Math.max(0, atrPct) : 0;
        double payoff = payoffRatio(bars.close, PAYOFF_WINDOW_BARS);
        SizingContext ctx = new SizingContext(fused, 1.0, 0.0, maxFraction, volatility, payoff);
        Map<String, Object> decisions = new LinkedHashMap<>();
        for (SizingCapability s : pipeline.sizings()) {
            String name = s.descriptor().name();
            GuardedDecision d = timed("sizing", name, () -> guard.decide(s, ctx));
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
        for (SourceContribution c : fused.contributions()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("source", c.source());
            m.put("p_up", c.probabilityUp());
            m.put("weight", c.weight());
            contributions.add(m);
        }
        Map<String, Object> fusedOut = new LinkedHashMap<>();
        fusedOut.put("p_up", fused.probabilityUp());
        fusedOut.put("confidence", fused.confidence());
        fusedOut.put("agreement", fused.agreement());
        fusedOut.put("fusion", fusionName);
        fusedOut.put("fusion_note", fusionNote);
        fusedOut.put("contributions", contributions);

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

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("symbol", bars.symbol());
        out.put("bar_time", bars.bar(last).start().toString());
        out.put("fused", fusedOut);
        out.put("decisions", decisions);
        out.put("provenance", provenance);
        return out;
    }

    private <T> T timed(String capability, String name, Supplier<T> call) {
        Timer timer =
                Timer.builder("quiver.capability.call")
                        .description("Latency of one call into a capability")
                        .tag("capability", capability)
                        .tag("name", name)
                        .publishPercentileHistogram()
                        .register(metrics);
        return timer.record(call);
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

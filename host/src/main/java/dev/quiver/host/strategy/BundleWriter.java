package dev.quiver.host.strategy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.Fold;
import dev.quiver.host.backtest.ForecastMetrics;
import dev.quiver.host.backtest.PolicyResult;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Writes a strategy bundle from capabilities left in their final fitted state by {@link
 * WalkForwardBacktest#runAndFitFinal}: each source's model ({@code exportModel}; a source without
 * one is recorded as rule-based), the ensemble's and each learning policy's state ({@code
 * exportState}), and {@code manifest.json}:
 *
 * <pre>{@code
 * {"format": "quiver-strategy/1", "created": ISO-8601, "max_age": "P30D",
 *  "dataset": "btc-usd-4h", "interval": "PT4H", "serves_from": first bar after the data,
 *  "feature_schema": {"name", "version", "hash"}, "api_version": "1.3.0",
 *  "plugins": {id: version},
 *  "components": {"sources": [{"name", "plugin", "version", "kind": "model"|"rule",
 *                              "files": [...], "training": {...}}],
 *                 "ensemble": {...}, "policies": [...]},
 *  "left_out": {name: why},
 *  "settings": {costs, cap, band, payoff window, stops, breakers, walk-forward windows,
 *               "evolved_sizing" (only when fitted with one: EvolvedSizing.Rule)},
 *  "walk_forward": {"folds", "test_from", "test_to", "policies": {...}, "forecasts": {...}},
 *  "files": {relative path: sha256}}
 * }</pre>
 *
 * The folder is written beside its destination and moved into place at the end, so a reader never
 * sees half a bundle.
 */
public final class BundleWriter {

    /** Default maximum age of a bundle. */
    public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(30);

    private BundleWriter() {}

    /**
     * Everything the manifest records besides the components.
     *
     * @param bars the series the bundle was fitted on
     * @param config the walk-forward configuration (windows, costs, stops, breakers)
     * @param fit the walk-forward result and the final fit's window
     * @param schema the feature schema
     * @param apiVersion the plugins API version the host runs
     * @param pluginVersions loaded plugin id to version
     * @param maxAge the bundle's maximum age
     * @param created when it was fitted
     * @param sizingRule the evolved sizing rule the fit sized with ({@link EvolvedSizing}),
     *     recorded as {@code settings.evolved_sizing}; empty for none
     */
    public record Context(
            BarData bars,
            WalkForwardBacktest.Config config,
            WalkForwardBacktest.FinalFit fit,
            FeatureSchema schema,
            String apiVersion,
            Map<String, String> pluginVersions,
            Duration maxAge,
            Instant created,
            java.util.Optional<EvolvedSizing.Rule> sizingRule) {

        /**
         * A context without an evolved sizing rule.
         *
         * @param bars the series the bundle was fitted on
         * @param config the walk-forward configuration (windows, costs, stops, breakers)
         * @param fit the walk-forward result and the final fit's window
         * @param schema the feature schema
         * @param apiVersion the plugins API version the host runs
         * @param pluginVersions loaded plugin id to version
         * @param maxAge the bundle's maximum age
         * @param created when it was fitted
         */
        public Context(
                BarData bars,
                WalkForwardBacktest.Config config,
                WalkForwardBacktest.FinalFit fit,
                FeatureSchema schema,
                String apiVersion,
                Map<String, String> pluginVersions,
                Duration maxAge,
                Instant created) {
            this(
                    bars,
                    config,
                    fit,
                    schema,
                    apiVersion,
                    pluginVersions,
                    maxAge,
                    created,
                    java.util.Optional.empty());
        }
    }

    /**
     * Writes the bundle.
     *
     * @param out the destination folder; must not exist yet
     * @param sources the sources, in their final fitted state
     * @param ensemble the ensemble, fitted
     * @param policies the policies, fitted
     * @param ctx the rest of the manifest
     * @return the verified bundle
     * @throws IllegalArgumentException if {@code out} exists
     * @throws UncheckedIOException if a file cannot be written
     */
    public static StrategyBundle write(
            Path out,
            List<PredictionCapability> sources,
            EnsembleCapability ensemble,
            List<SizingCapability> policies,
            Context ctx) {
        if (Files.exists(out)) {
            throw new IllegalArgumentException(
                    "[Quiver/BUNDLE_EXISTS] " + out + " exists; a bundle is written once");
        }
        Path parent = out.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
            Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".");
            try {
                writeInto(tmp, sources, ensemble, policies, ctx);
                try {
                    Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, out);
                }
            } finally {
                deleteTree(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write strategy bundle " + out, e);
        }
        return StrategyBundle.open(out);
    }

    private static void writeInto(
            Path dir,
            List<PredictionCapability> sources,
            EnsembleCapability ensemble,
            List<SizingCapability> policies,
            Context ctx)
            throws IOException {
        Fold fold = ctx.fit().fold();
        BarData bars = ctx.bars();
        ObjectNode m = StrategyBundle.newObject();
        m.put("format", StrategyBundle.FORMAT);
        m.put("created", ctx.created().toString());
        m.put("max_age", ctx.maxAge().toString());
        m.put("dataset", bars.symbol());
        m.put("interval", bars.period().toString());
        m.put("serves_from", fold.testStart().toString());
        ObjectNode schema = m.putObject("feature_schema");
        schema.put("name", ctx.schema().name());
        schema.put("version", ctx.schema().version());
        schema.put("hash", ctx.schema().hash());
        m.put("api_version", ctx.apiVersion());

        ObjectNode training = StrategyBundle.newObject();
        training.put("dataset", bars.symbol());
        training.put("first_bar", fold.trainStart().toString());
        training.put("last_bar", fold.trainEnd().toString());
        training.put("rows", fold.trainLast() - fold.trainFirst() + 1);

        TreeMap<String, String> plugins = new TreeMap<>();
        ObjectNode components = m.putObject("components");
        ArrayNode sourceNodes = components.putArray("sources");
        ObjectNode leftOut = StrategyBundle.newObject();
        for (PredictionCapability s : sources) {
            String name = s.descriptor().name();
            if (ctx.fit().sourceFitFailures().containsKey(name)) {
                leftOut.put(name, ctx.fit().sourceFitFailures().get(name));
                continue;
            }
            ObjectNode c =
                    component(s.descriptor().name(), s, s.descriptor().version(), ctx, plugins);
            Path sub = dir.resolve("sources").resolve(name);
            Files.createDirectories(sub);
            List<Path> files;
            try {
                files = s.exportModel(sub);
                c.put("kind", "model");
                c.set("training", sourceTraining(s, training));
            } catch (UnsupportedOperationException e) {
                files = List.of();
                c.put("kind", "as-shipped");
                Files.delete(sub);
            }
            c.set("files", paths(dir, files));
            sourceNodes.add(c);
        }
        if (sourceNodes.isEmpty()) {
            throw new IllegalStateException(
                    "[Quiver/NOTHING_TO_BUNDLE] every source's final fit failed: "
                            + ctx.fit().sourceFitFailures());
        }
        if (!ctx.fit().policyFitFailures().isEmpty()) {
            throw new IllegalStateException(
                    "[Quiver/NOTHING_TO_BUNDLE] a policy's final fit failed; a bundle never ships"
                            + " a policy that would decide flat because it is unfitted: "
                            + ctx.fit().policyFitFailures());
        }

        ObjectNode e =
                component(
                        ensemble.descriptor().name(),
                        ensemble,
                        ensemble.descriptor().version(),
                        ctx,
                        plugins);
        List<Path> ensembleFiles = List.of();
        if (ensemble.hasFittedState()) {
            Path sub = dir.resolve("ensemble");
            Files.createDirectories(sub);
            ensembleFiles = ensemble.exportState(sub);
        }
        e.set("files", paths(dir, ensembleFiles));
        ObjectNode et = training.deepCopy();
        et.put("rows", ctx.fit().ensembleRows());
        et.put("note", "out-of-fold forecasts of earlier folds' test bars inside the window");
        e.set("training", et);
        components.set("ensemble", e);

        ArrayNode policyNodes = components.putArray("policies");
        for (SizingCapability wrapped : policies) {
            SizingCapability p = wrapped instanceof EvolvedSizing ev ? ev.inner() : wrapped;
            String name = p.descriptor().name();
            ObjectNode c = component(name, p, p.descriptor().version(), ctx, plugins);
            List<Path> files = List.of();
            if (p.hasFittedState()) {
                Path sub = dir.resolve("sizing").resolve(name);
                Files.createDirectories(sub);
                files = p.exportState(sub);
                ObjectNode pt = training.deepCopy();
                pt.put(
                        "note",
                        "outcomes of the walk-forward's out-of-sample decisions realised before the"
                                + " embargo");
                c.set("training", pt);
            }
            c.set("files", paths(dir, files));
            policyNodes.add(c);
        }
        ObjectNode pluginNode = m.putObject("plugins");
        plugins.forEach(pluginNode::put);
        if (!leftOut.isEmpty()) {
            m.set("left_out", leftOut);
        }
        ObjectNode settings = settings(ctx.config());
        ctx.sizingRule().ifPresent(r -> settings.set(EvolvedSizing.FIELD, r.toJson()));
        m.set("settings", settings);
        m.set(
                BundleGate.FIELD,
                BundleGate.toJson(
                        WalkForwardBacktest.foldGate(
                                FeaturePipeline.compute(bars), fold.trainFirst(), fold.trainLast()),
                        fold.trainStart().toString(),
                        fold.trainEnd().toString()));
        m.set("walk_forward", walkForward(ctx.fit().result()));

        TreeMap<String, String> sha = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isRegularFile(p)) {
                    sha.put(dir.relativize(p).toString().replace('\\', '/'), ModelStore.sha256(p));
                }
            }
        }
        ObjectNode files = m.putObject("files");
        sha.forEach(files::put);
        StrategyBundle.json()
                .writerWithDefaultPrettyPrinter()
                .writeValue(dir.resolve(StrategyBundle.MANIFEST).toFile(), m);
    }

    private static ObjectNode component(
            String name,
            Object capability,
            String version,
            Context ctx,
            Map<String, String> plugins) {
        ObjectNode c = StrategyBundle.newObject();
        c.put("name", name);
        String plugin = PluginRuntime.pluginIdOf(capability).orElse("host");
        c.put("plugin", plugin);
        c.put("version", version);
        String pv = ctx.pluginVersions().get(plugin);
        if (pv != null) {
            plugins.put(plugin, pv);
        }
        return c;
    }

    /** A pretrained source says its own span in its descriptor; a fitted one the final window. */
    private static ObjectNode sourceTraining(PredictionCapability s, ObjectNode window) {
        Map<String, String> a = s.descriptor().attributes();
        if (a.containsKey("trained_through") && !"per-fold".equals(a.get("training"))) {
            ObjectNode t = StrategyBundle.newObject();
            t.put("dataset", a.getOrDefault("trained_on", "its own data"));
            t.put("first_bar", a.getOrDefault("trained_from", "?"));
            t.put("last_bar", a.get("trained_through"));
            t.put("note", "pretrained, shipped with its plugin; not refitted");
            return t;
        }
        return window.deepCopy();
    }

    private static ArrayNode paths(Path dir, List<Path> files) {
        ArrayNode a = StrategyBundle.json().createArrayNode();
        for (Path f : files) {
            a.add(dir.relativize(f.toAbsolutePath().normalize()).toString().replace('\\', '/'));
        }
        return a;
    }

    private static ObjectNode settings(WalkForwardBacktest.Config c) {
        ObjectNode s = StrategyBundle.newObject();
        s.put("fee_bps", c.costs().feeBps());
        s.put("slippage_bps", c.costs().slippageBps());
        s.put("max_fraction", c.maxFraction());
        s.put("rebalance_band", c.rebalanceBand());
        s.put("payoff_window_bars", c.payoffWindowBars());
        s.put("initial_equity", c.initialEquity());
        s.put("train_bars", c.trainBars());
        s.put("embargo_bars", c.embargoBars());
        s.put("test_bars", c.testBars());
        ObjectNode stops = s.putObject("stops");
        stops.put("stop_loss_atr", c.stops().stopLossAtr());
        stops.put("take_profit_atr", c.stops().takeProfitAtr());
        stops.put("trailing_atr", c.stops().trailingAtr());
        CircuitBreakers.Config b = c.breakers();
        if (b == null) {
            s.putNull("breakers");
        } else {
            ObjectNode br = s.putObject("breakers");
            br.put("max_drawdown", b.maxDrawdown());
            br.put("daily_loss", b.dailyLoss());
            br.put("min_hit_rate", b.minHitRate());
            br.put("hit_rate_window", b.hitRateWindow());
            br.put("drawdown_cooldown_days", b.drawdownCooldownDays());
            br.put("drawdown_rearm", b.drawdownRearm().name().toLowerCase(java.util.Locale.ROOT));
        }
        return s;
    }

    private static ObjectNode walkForward(BacktestResult r) {
        ObjectNode w = StrategyBundle.newObject();
        w.put("folds", r.folds().size());
        w.put("test_bars", r.testTimes().length);
        if (r.testTimes().length > 0) {
            w.put("test_from", Instant.ofEpochMilli(r.testTimes()[0]).toString());
            w.put(
                    "test_to",
                    Instant.ofEpochMilli(r.testTimes()[r.testTimes().length - 1]).toString());
        }
        ObjectNode pol = w.putObject("policies");
        List<PolicyResult> all = new ArrayList<>(r.policies().values());
        all.add(r.buyAndHold());
        for (PolicyResult p : all) {
            ObjectNode n = pol.putObject(p.name());
            num(n, "cagr", p.metrics().cagr());
            num(n, "sharpe", p.metrics().sharpe());
            num(n, "sortino", p.metrics().sortino());
            num(n, "max_drawdown", p.metrics().maxDrawdown());
            num(n, "hit_rate", p.metrics().hitRate());
            n.put("trades", p.metrics().trades());
            num(n, "final_equity", p.metrics().finalEquity());
        }
        if (r.gate() != null) {
            ObjectNode g = w.putObject("input_gate");
            g.put("test_bars", r.gate().testBars());
            g.put("abstained", r.gate().abstained());
            num(g, "abstain_rate", r.gate().abstainRate());
            num(g, "fused_log_loss_kept", r.gate().kept().logLoss());
            num(g, "fused_log_loss_abstained", r.gate().abstainedForecasts().logLoss());
        }
        ObjectNode fc = w.putObject("forecasts");
        for (var e : r.forecasts().entrySet()) {
            ForecastMetrics f = e.getValue();
            ObjectNode n = fc.putObject(e.getKey());
            num(n, "log_loss", f.logLoss());
            num(n, "brier", f.brier());
            num(n, "ece", f.ece());
            num(n, "hit_rate", f.hitRate());
            n.put("n", f.n());
        }
        return w;
    }

    /** A figure, or null when it is not a number (JSON has no NaN). */
    private static void num(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) {
            n.put(key, v);
        } else {
            n.putNull(key);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> all = Files.walk(p)) {
            for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}

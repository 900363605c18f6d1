package dev.quiver.host.strategy;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.Strategy;
import dev.quiver.engine.TradingRules;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.engine.trading.Stops;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a verified {@link StrategyBundle} into a {@link Strategy} of fresh capability instances:
 * each source created by its plugin with {@code <name>.model} pointing at the bundle's sidecar (a
 * rule-based source as it is), the ensemble and every learning policy restored from their state
 * files, and the policy an evolved sizing rule names ({@code settings.evolved_sizing}, {@link
 * EvolvedSizing}) wrapped in it, as the fit that wrote the bundle sized. Every call makes new
 * instances, so each session (and each bundle version during a swap) has its own; the caller closes
 * them.
 */
public final class BundleLoader {

    private BundleLoader() {}

    /**
     * A bundle's strategy, ready to step, with the instances to close.
     *
     * @param bundle the bundle
     * @param strategy sources, ensemble and policies restored from it
     * @param rules the bundle's trading settings
     * @param initialEquity the bundle's starting equity per book
     * @param instances what to close when done
     */
    public record Loaded(
            StrategyBundle bundle,
            Strategy strategy,
            TradingRules rules,
            double initialEquity,
            List<AutoCloseable> instances)
            implements AutoCloseable {

        /**
         * Makes an engine abstain on bars past the bundle's expiry (see {@link
         * StrategyBundle#expiresAt}) and sets the bundle's input gate ({@link BundleGate#of}):
         * every place that serves or replays a bundle calls this, so they all abstain on the same
         * bars.
         *
         * @param engine the engine stepping this strategy
         * @param maxAgeOverride a maximum age that replaces the manifest's, or empty
         */
        public void applyExpiry(
                dev.quiver.engine.SymbolEngine engine,
                java.util.Optional<java.time.Duration> maxAgeOverride) {
            engine.expireAt(
                    bundle.expiresAt(maxAgeOverride).toEpochMilli(),
                    bundle.expiryReason(maxAgeOverride));
            engine.gate(BundleGate.of(bundle));
        }

        /** Closes every instance; the first failure is rethrown after all are closed. */
        @Override
        public void close() {
            RuntimeException first = null;
            for (AutoCloseable c : instances) {
                try {
                    c.close();
                } catch (Exception e) {
                    if (first == null) {
                        first = new IllegalStateException("closing a bundle instance failed", e);
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    /**
     * Checks the bundle against the loaded plugins and creates its strategy.
     *
     * @param bundle a verified bundle
     * @param runtime the loaded plugins
     * @return the strategy; close it when done
     * @throws QuiverInputException {@code BUNDLE_MISMATCH} if plugin or capability versions or the
     *     feature schema differ, or {@code BAD_BUNDLE} if a component cannot be restored (with the
     *     plugin's reason)
     */
    public static Loaded load(StrategyBundle bundle, PluginRuntime runtime) {
        Map<String, String> pluginVersions = new HashMap<>();
        for (LoadedPlugin p : runtime.plugins()) {
            pluginVersions.put(p.id(), p.version());
        }
        bundle.checkCompatible(FeaturePipeline.SCHEMA, pluginVersions, capabilityVersions(runtime));
        java.util.Optional<EvolvedSizing.Rule> rule = EvolvedSizing.Rule.of(bundle);
        List<AutoCloseable> made = new ArrayList<>();
        try {
            List<PredictionCapability> sources = new ArrayList<>();
            EnsembleCapability ensemble = null;
            List<SizingCapability> policies = new ArrayList<>();
            for (StrategyBundle.Component c : bundle.components()) {
                switch (c.kind()) {
                    case "prediction" -> {
                        Map<String, String> overrides = new HashMap<>();
                        if (!c.files().isEmpty()) {
                            String sidecar =
                                    c.files().stream()
                                            .filter(f -> f.endsWith(".json"))
                                            .reduce((a, b) -> b)
                                            .orElseThrow(
                                                    () ->
                                                            bad(
                                                                    bundle,
                                                                    c,
                                                                    "has no sidecar JSON among "
                                                                            + c.files()));
                            overrides.put(c.name() + ".model", bundle.file(sidecar).toString());
                        }
                        PredictionCapability p = create(bundle, c, runtime, overrides).prediction();
                        made.add(p);
                        sources.add(p);
                    }
                    case "ensemble" -> {
                        EnsembleCapability e = create(bundle, c, runtime, Map.of()).ensemble();
                        made.add(e);
                        if (!c.files().isEmpty()) {
                            restore(bundle, c, () -> e.restoreState(folderOf(bundle, c)));
                        }
                        ensemble = e;
                    }
                    default -> {
                        SizingCapability s = create(bundle, c, runtime, Map.of()).sizing();
                        made.add(s);
                        if (!c.files().isEmpty()) {
                            restore(bundle, c, () -> s.restoreState(folderOf(bundle, c)));
                        } else if (s.hasFittedState()) {
                            throw bad(
                                    bundle,
                                    c,
                                    "learns (has fitted state) but the bundle ships none for it:"
                                            + " it would decide unfitted");
                        }
                        if (rule.isPresent() && rule.get().policy().equals(c.name())) {
                            try {
                                policies.add(EvolvedSizing.wrap(s, rule.get()));
                            } catch (IllegalArgumentException e) {
                                throw bad(
                                        bundle,
                                        c,
                                        "cannot take the evolved sizing rule: " + e.getMessage());
                            }
                        } else {
                            policies.add(s);
                        }
                    }
                }
            }
            if (rule.isPresent()
                    && policies.stream()
                            .noneMatch(x -> x.descriptor().name().equals(rule.get().policy()))) {
                throw new QuiverInputException(
                        "BAD_BUNDLE",
                        "settings." + EvolvedSizing.FIELD + ".policy",
                        "strategy bundle " + bundle.id(),
                        rule.get().policy(),
                        "names a sizing policy the bundle does not have (its policies: "
                                + policies.stream().map(x -> x.descriptor().name()).toList()
                                + ")");
            }
            return new Loaded(
                    bundle,
                    new Strategy(sources, ensemble, policies),
                    rules(bundle),
                    bundle.settings().path("initial_equity").asDouble(10_000),
                    List.copyOf(made));
        } catch (RuntimeException e) {
            for (AutoCloseable c : made) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** The trading rules the bundle was validated with. */
    public static TradingRules rules(StrategyBundle bundle) {
        var s = bundle.settings();
        var stops = s.path("stops");
        var b = s.path("breakers");
        CircuitBreakers.Config breakers =
                b.isObject()
                        ? new CircuitBreakers.Config(
                                b.path("max_drawdown").asDouble(),
                                b.path("daily_loss").asDouble(),
                                b.path("min_hit_rate").asDouble(),
                                b.path("hit_rate_window").asInt(),
                                b.path("drawdown_cooldown_days").asDouble(),
                                CircuitBreakers.DrawdownRearm.valueOf(
                                        b.path("drawdown_rearm")
                                                .asText("manual")
                                                .toUpperCase(Locale.ROOT)))
                        : null;
        return new TradingRules(
                new CostModel(s.path("fee_bps").asDouble(), s.path("slippage_bps").asDouble()),
                s.path("max_fraction").asDouble(),
                s.path("rebalance_band").asDouble(),
                s.path("payoff_window_bars").asInt(),
                new Stops(
                        stops.path("stop_loss_atr").asDouble(),
                        stops.path("take_profit_atr").asDouble(),
                        stops.path("trailing_atr").asDouble()),
                breakers);
    }

    private static Map<String, String> capabilityVersions(PluginRuntime runtime) {
        Map<String, String> m = new HashMap<>();
        runtime.predictions()
                .forEach(
                        p ->
                                m.put(
                                        "prediction:" + p.descriptor().name(),
                                        p.descriptor().version()));
        runtime.ensembles()
                .forEach(p -> m.put("ensemble:" + p.descriptor().name(), p.descriptor().version()));
        runtime.sizings()
                .forEach(p -> m.put("sizing:" + p.descriptor().name(), p.descriptor().version()));
        return m;
    }

    private static PluginRuntime.NewInstance create(
            StrategyBundle bundle,
            StrategyBundle.Component c,
            PluginRuntime runtime,
            Map<String, String> overrides) {
        try {
            return switch (c.kind()) {
                case "prediction" -> runtime.newPrediction(c.name(), overrides);
                case "ensemble" -> runtime.newEnsemble(c.name());
                default -> runtime.newSizing(c.name());
            };
        } catch (IllegalArgumentException e) {
            throw bad(bundle, c, "cannot be created: " + e.getMessage());
        }
    }

    private static Path folderOf(StrategyBundle bundle, StrategyBundle.Component c) {
        return bundle.file(c.files().get(0)).getParent();
    }

    private static void restore(StrategyBundle bundle, StrategyBundle.Component c, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            throw bad(bundle, c, "state cannot be restored: " + e.getMessage());
        }
    }

    private static QuiverInputException bad(
            StrategyBundle bundle, StrategyBundle.Component c, String problem) {
        return new QuiverInputException(
                "BAD_BUNDLE",
                "components." + c.kind() + ":" + c.name(),
                "strategy bundle " + bundle.id(),
                c.files(),
                c.kind() + " '" + c.name() + "' " + problem);
    }
}

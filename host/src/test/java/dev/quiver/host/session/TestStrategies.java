package dev.quiver.host.session;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.engine.Strategy;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.BundleWriter;
import dev.quiver.host.strategy.StrategyBundle;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A strategy of plain test capabilities, served through a real bundle written by {@link
 * BundleWriter} (its id, provenance, trading rules and breakers are the bundle's), whose calls can
 * be made to fail on chosen bars ({@link Faults}): plugins that fail live and would not fail in a
 * replay.
 */
final class TestStrategies {

    private TestStrategies() {}

    /** Bar start times on which a capability fails; shared by every instance. */
    static final class Faults {
        final Set<Instant> source = ConcurrentHashMap.newKeySet();
        final Set<Instant> ensemble = ConcurrentHashMap.newKeySet();
        final Set<Instant> policy = ConcurrentHashMap.newKeySet();

        void clear() {
            source.clear();
            ensemble.clear();
            policy.clear();
        }
    }

    static final Faults FAULTS = new Faults();

    /** p = sigmoid(k ln(close_t / close_(t-20))). */
    static PredictionCapability momentum() {
        return new PredictionCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("momentum", "1.0.0");
            }

            @Override
            public Forecast forecast(FeatureFrame frame) {
                BarSeries h = frame.history();
                int last = h.size() - 1;
                double r = Math.log(h.get(last).close() / h.get(Math.max(0, last - 20)).close());
                return new Forecast(
                        "momentum", frame.bar().start(), 1, 1 / (1 + Math.exp(-8 * r)), Map.of());
            }
        };
    }

    /** Mean reversion on rsi_14; throws on the bars in {@link Faults#source}. */
    static PredictionCapability flaky() {
        return new PredictionCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("flaky", "1.0.0");
            }

            @Override
            public Forecast forecast(FeatureFrame frame) {
                if (FAULTS.source.contains(frame.bar().start())) {
                    throw new IllegalStateException("flaky timed out at " + frame.bar().start());
                }
                double rsi = Math.max(0, Math.min(100, frame.get("rsi_14")));
                return new Forecast(
                        "flaky", frame.bar().start(), 1, 0.5 + (50 - rsi) / 200, Map.of());
            }
        };
    }

    /** The mean of the forecasts; throws on the bars in {@link Faults#ensemble}. */
    static EnsembleCapability mean() {
        return new EnsembleCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("mean", "1.0.0");
            }

            @Override
            public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
                if (FAULTS.ensemble.contains(frame.bar().start())) {
                    throw new IllegalStateException("mean ran out of memory");
                }
                double sum = 0;
                List<SourceContribution> c = new ArrayList<>();
                for (Forecast f : forecasts) {
                    sum += f.probabilityUp();
                    c.add(
                            new SourceContribution(
                                    f.source(), f.probabilityUp(), 1.0 / forecasts.size()));
                }
                double p = sum / forecasts.size();
                return new FusedSignal(frame.bar().start(), p, Math.abs(2 * p - 1), 1.0, c);
            }
        };
    }

    /** Long 0.8 when p > 0.5; throws on the bars in {@link Faults#policy}. */
    static SizingCapability fixed() {
        return new SizingCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("fixed", "1.0.0");
            }

            @Override
            public SizingDecision size(SizingContext ctx) {
                if (FAULTS.policy.contains(ctx.signal().barTime())) {
                    throw new IllegalStateException("fixed lost its connection");
                }
                double f = ctx.signal().probabilityUp() > 0.5 ? 0.8 : 0;
                return new SizingDecision(f, "fixed -> " + f, Map.of());
            }
        };
    }

    /** Quarter-Kelly, floored at 0. */
    static SizingCapability kelly() {
        return new SizingCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("kelly", "1.0.0");
            }

            @Override
            public SizingDecision size(SizingContext ctx) {
                double p = ctx.signal().probabilityUp();
                double f = Math.max(0, 0.25 * (p - (1 - p) / ctx.payoffRatio()));
                return new SizingDecision(f, "kelly -> " + f, Map.of());
            }
        };
    }

    static Strategy strategy() {
        return new Strategy(List.of(momentum(), flaky()), mean(), List.of(fixed(), kelly()));
    }

    /**
     * Writes a bundle of this strategy's sources and policies, fitted on the first 1,600 S&amp;P
     * 500 days, that does not expire for a century (so it decides on BTC bars of 2024).
     */
    static StrategyBundle bundle(Path dir) {
        BarData bars = BundledData.SP500_DAILY.load().truncate(1600);
        var config = WalkForwardBacktest.Config.defaults().withWindows(500, 5, 250);
        // The built-in fusion ships a fitted state file (a bundle lists at least one file); the
        // catalog serves the test strategy in its place.
        Strategy s =
                new Strategy(
                        List.of(momentum(), flaky()),
                        new dev.quiver.engine.fusion.WeightedFusion(),
                        List.of(fixed(), kelly()));
        var fit =
                new WalkForwardBacktest(config)
                        .withoutIntervals()
                        .runAndFitFinal(
                                FeaturePipeline.compute(bars),
                                s.sources(),
                                s.ensemble(),
                                s.policies(),
                                Progress.NONE);
        BundleWriter.write(
                dir,
                s.sources(),
                s.ensemble(),
                s.policies(),
                new BundleWriter.Context(
                        bars,
                        config,
                        fit,
                        FeaturePipeline.SCHEMA,
                        "1.3.0",
                        Map.of(),
                        Duration.ofDays(36_500),
                        Instant.parse("2026-01-01T00:00:00Z")));
        // Fitted on S&P 500 days, it steps BTC 4h bars: the input gate's distance to its training
        // distribution would abstain on most of them, and these tests are about sessions, not the
        // gate. So it is made a bundle fitted before the gate (no input_gate: the distribution
        // check off, the gap and move checks on), which sessions must still serve.
        try {
            Path manifest = dir.resolve(StrategyBundle.MANIFEST);
            var json = new com.fasterxml.jackson.databind.ObjectMapper();
            var m =
                    (com.fasterxml.jackson.databind.node.ObjectNode)
                            json.readTree(manifest.toFile());
            m.remove(dev.quiver.host.strategy.BundleGate.FIELD);
            json.writerWithDefaultPrettyPrinter().writeValue(manifest.toFile(), m);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return StrategyBundle.open(dir);
    }

    /**
     * A portfolio policy {@code equal} that keeps state, as a plugin may: each member gets {@code
     * min(maxFraction, grossCap / n)}, and every decision's reason and inputs carry the instance's
     * call number ({@code equal call 7}), computed through an instance scratch array. One instance
     * per account decides the same whatever other accounts do; a shared one does not.
     */
    static final class EqualPortfolio implements dev.quiver.api.sizing.PortfolioSizingCapability {
        private int calls;
        private double[] scratch = new double[0];

        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of("equal", "1.0.0");
        }

        @Override
        public dev.quiver.api.sizing.PortfolioSizingDecision size(
                dev.quiver.api.sizing.PortfolioSizingContext context) {
            int call = ++calls;
            int n = context.members().size();
            scratch = new double[n];
            for (int i = 0; i < n; i++) {
                scratch[i] =
                        Math.min(
                                context.members().get(i).context().maxFraction(),
                                context.grossCap() / n);
                Thread.yield();
            }
            List<SizingDecision> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                out.add(
                        new SizingDecision(
                                scratch[i],
                                "equal call " + call,
                                Map.of("call", (double) call, "n", (double) n)));
            }
            return new dev.quiver.api.sizing.PortfolioSizingDecision(out);
        }
    }

    /**
     * A catalog serving {@code bundle} as {@link #catalog}, with the portfolio policy {@code equal}
     * ({@link EqualPortfolio}): {@code shared} is the instance listed as loaded (as a plugin
     * runtime lists its wired extensions); {@code newPortfolioPolicy} makes a fresh one.
     */
    static StrategyCatalog portfolioCatalog(
            StrategyBundle bundle, dev.quiver.api.sizing.PortfolioSizingCapability shared) {
        return portfolioCatalog(bundle, shared, java.util.function.UnaryOperator.identity());
    }

    /**
     * As {@link #portfolioCatalog(StrategyBundle,
     * dev.quiver.api.sizing.PortfolioSizingCapability)}, serving the bundle with its trading rules
     * changed by {@code rules} (as a swap to a bundle with other costs would).
     */
    static StrategyCatalog portfolioCatalog(
            StrategyBundle bundle,
            dev.quiver.api.sizing.PortfolioSizingCapability shared,
            java.util.function.UnaryOperator<dev.quiver.engine.TradingRules> rules) {
        StrategyCatalog plain = catalog(bundle);
        return new StrategyCatalog() {
            @Override
            public StrategyBundle current() {
                return bundle;
            }

            @Override
            public BundleLoader.Loaded load(String id) {
                BundleLoader.Loaded l = plain.load(id);
                return new BundleLoader.Loaded(
                        l.bundle(), l.strategy(), rules.apply(l.rules()), 10_000, List.of());
            }

            @Override
            public List<dev.quiver.api.sizing.PortfolioSizingCapability> portfolioPolicies() {
                return List.of(shared);
            }

            @Override
            public java.util.Optional<dev.quiver.api.sizing.PortfolioSizingCapability>
                    newPortfolioPolicy(String name) {
                return name.equals("equal")
                        ? java.util.Optional.of(new EqualPortfolio())
                        : java.util.Optional.empty();
            }
        };
    }

    /** A catalog serving {@code bundle} with fresh test instances on every load. */
    static StrategyCatalog catalog(StrategyBundle bundle) {
        return new StrategyCatalog() {
            @Override
            public StrategyBundle current() {
                return bundle;
            }

            @Override
            public BundleLoader.Loaded load(String id) {
                if (!id.equals(bundle.id())) {
                    throw new IllegalArgumentException("unknown bundle " + id);
                }
                return new BundleLoader.Loaded(
                        bundle, strategy(), BundleLoader.rules(bundle), 10_000, List.of());
            }
        };
    }
}

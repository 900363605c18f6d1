package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.trading.Stops;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.EvolvedSizing;
import dev.quiver.host.strategy.StrategyBundle;
import dev.quiver.host.strategy.StrategyFitter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code evolve-params} registers is what serves: a bundle fitted (as the job fits it, {@link
 * StrategyFitter} with the judged sources and the set's {@link EvolvedSizing.Rule}) with an evolved
 * Kelly fraction, maximum position and leverage rule, on the first 1,500 S&amp;P 500 days. {@code
 * quiver serve --strategy} of that bundle, fed the next 100 days one request at a time, decides
 * every bar as the walk-forward driver's replay of the same bundle (no refits; what {@code backtest
 * --strategy} runs): the same fused p_up and the same fraction and equity for every policy (|diff|
 * &lt;= 1e-9); and the served {@code kelly} fractions are the rule's (recomputed here from the
 * decision's inputs by the declared formula) under the evolved maximum position, not the plugin's
 * quarter Kelly.
 */
class EvolvedBundleParityIT {

    static final int FITTED_BARS = 1500;

    static final int LIVE_BARS = 100;

    static final double MAX_POSITION = 0.2;

    static final EvolvedSizing.Rule RULE = new EvolvedSizing.Rule("kelly", 0.6, 2.5, 1.5);

    @TempDir Path work;

    @Test
    void theServedDecisionsAreTheRulesAndTheBacktestsOfTheSameBundle() throws Exception {
        long t0 = System.nanoTime();
        BarData sp500 = BundledData.SP500_DAILY.load();
        BarData fitted = sp500.truncate(FITTED_BARS);
        String until = fitted.bar(FITTED_BARS - 1).start().toString();
        WalkForwardBacktest.Config d =
                WalkForwardBacktest.Config.defaults().withWindows(500, 5, 250);
        WalkForwardBacktest.Config config =
                new WalkForwardBacktest.Config(
                        d.trainBars(),
                        d.embargoBars(),
                        d.testBars(),
                        d.initialEquity(),
                        d.costs(),
                        MAX_POSITION,
                        d.rebalanceBand(),
                        d.payoffWindowBars(),
                        new Stops(2.5, 4, 3.5),
                        d.breakers());
        Path bundle = work.resolve("evolved-bundle");
        List<String[]> expected = new ArrayList<>();
        // The fit needs only these plugins (the bundle's components): not starting the ONNX and
        // CatBoost ones keeps the test short. The service loads them all.
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        try (var zips = Files.list(ServeProcess.DISTRIBUTION.resolve("plugins"))) {
            for (Path z : zips.toList()) {
                String f = z.getFileName().toString();
                if (f.endsWith(".zip")
                        && List.of(
                                        "prediction-traditional-",
                                        "ensemble-gbm-",
                                        "sizing-fixed-",
                                        "sizing-kelly-")
                                .stream()
                                .anyMatch(f::startsWith)) {
                    Files.copy(z, plugins.resolve(f));
                }
            }
        }
        try (PluginRuntime runtime =
                PluginRuntime.start(plugins, Map.of("quiver.plugin.isolation", "same-thread"))) {
            assertThat(runtime.plugins()).hasSize(4);
            StrategyFitter.fit(
                    runtime,
                    new StrategyFitter.Request(
                            sp500,
                            fitted,
                            config,
                            1,
                            bundle,
                            Duration.ofDays(36_500),
                            Instant.parse("2026-01-01T00:00:00Z"),
                            List.of("traditional"),
                            Optional.of(RULE)),
                    Optional.empty(),
                    Progress.NONE);
            // The walk-forward driver's replay of the bundle, no refits: what backtest --strategy
            // runs (BacktestCommand), here on the fitted days and the live ones only.
            try (BundleLoader.Loaded loaded =
                    BundleLoader.load(StrategyBundle.open(bundle), runtime)) {
                new WalkForwardBacktest(WalkForwardBacktest.Config.defaults())
                        .runPinned(
                                FeaturePipeline.compute(sp500.truncate(FITTED_BARS + LIVE_BARS)),
                                loaded.strategy(),
                                loaded.rules(),
                                FITTED_BARS,
                                "evolved bundle",
                                Progress.NONE,
                                step -> expected.add(row(step)),
                                engine -> loaded.applyExpiry(engine, Optional.empty()));
            }
        }
        JsonNode settings = StrategyBundle.open(bundle).settings();
        assertThat(settings.path("max_fraction").asDouble()).isEqualTo(MAX_POSITION);
        assertThat(settings.at("/evolved_sizing/kelly_fraction").asDouble()).isEqualTo(0.6);
        assertThat(expected).hasSize(LIVE_BARS);
        assertThat(expected.get(0)[0]).isEqualTo(sp500.bar(FITTED_BARS).start().toString());

        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve",
                        "--strategy",
                        bundle.toString(),
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"))) {
            Map<String, Object> open = new LinkedHashMap<>();
            open.put("account", "evolved");
            open.put("interval", "P1D");
            open.put("max_gap_bars", 10);
            open.put("warmup", Map.of("dataset", "sp500-daily", "until", until));
            serve.ok("PUT", "/v1/sessions/SPX", open);

            List<String> policies = null;
            double worst = 0;
            int atCap = 0;
            int ruled = 0;
            int unlikeQuarterKelly = 0;
            for (int k = 0; k < LIVE_BARS; k++) {
                Bar b = sp500.bar(FITTED_BARS + k);
                JsonNode dec =
                        serve.ok(
                                "POST",
                                "/v1/sessions/SPX/bars",
                                Map.of("bars", List.of(StrategyParityIT.bar(b))));
                String[] row = expected.get(k);
                assertThat(dec.path("bar_time").asText()).isEqualTo(row[0]);
                if (policies == null) {
                    policies = new ArrayList<>();
                    for (Iterator<String> it = dec.path("decisions").fieldNames(); it.hasNext(); ) {
                        policies.add(it.next());
                    }
                    assertThat(policies).contains("kelly", "fixed");
                }
                for (double x : StrategyParityIT.differences(dec, row, policies)) {
                    worst = Double.isNaN(x) ? Double.NaN : Math.max(worst, x);
                }
                JsonNode kelly = dec.at("/decisions/kelly");
                double f = kelly.path("fraction").asDouble();
                assertThat(f).isLessThanOrEqualTo(MAX_POSITION);
                assertThat(kelly.at("/inputs/max_fraction").asDouble()).isEqualTo(MAX_POSITION);
                if (dec.path("fused").isNull() || kelly.path("overridden_by_risk").asBoolean()) {
                    continue;
                }
                // The declared rule, from the served inputs: min(cap, 0.6 max(0, full Kelly) x
                // (1 + 1.5 confidence) x min(1, 1.5 / atr%)).
                JsonNode in = kelly.path("inputs");
                double p = in.path("p_up").asDouble();
                double full = p - (1 - p) / in.path("payoff_ratio").asDouble();
                double atrPct = in.path("volatility").asDouble() * 100;
                double confidence = dec.at("/fused/confidence").asDouble();
                double lev =
                        (1 + (RULE.leverageMax() - 1) * confidence)
                                * (atrPct > RULE.leverageAtrPct()
                                        ? RULE.leverageAtrPct() / atrPct
                                        : 1);
                double want =
                        Math.min(MAX_POSITION, RULE.kellyFraction() * Math.max(0, full) * lev);
                assertThat(f).as("kelly at %s", row[0]).isCloseTo(want, within(1e-12));
                if (f > 0) {
                    ruled++;
                    assertThat(kelly.path("reason").asText())
                            .contains("evolved Kelly fraction and leverage rule");
                }
                if (f == MAX_POSITION) {
                    atCap++;
                }
                if (Math.abs(f - Math.min(1, 0.25 * Math.max(0, full))) > 1e-6) {
                    unlikeQuarterKelly++;
                }
            }
            System.out.printf(
                    "EvolvedBundleParityIT: %d bars, largest |backtest - live| %.3g; kelly"
                            + " sized by the rule on %d bars, at the evolved cap %.2f on %d, unlike"
                            + " the plugin's quarter Kelly on %d; %.1f s%n",
                    LIVE_BARS,
                    worst,
                    ruled,
                    MAX_POSITION,
                    atCap,
                    unlikeQuarterKelly,
                    (System.nanoTime() - t0) / 1e9);
            assertThat(worst).as("largest |backtest - live|").isLessThanOrEqualTo(1e-9);
            assertThat(ruled).as("bars kelly traded").isPositive();
            assertThat(unlikeQuarterKelly).as("bars unlike the plugin's own sizing").isPositive();
        }
    }

    /**
     * A step as a row of {@code decisions.csv}: time, fused p_up, then fraction, equity per policy.
     */
    private static String[] row(Step s) {
        List<String> r = new ArrayList<>();
        r.add(s.barTime().toString());
        r.add(s.signal() == null ? "" : Double.toString(s.signal().probabilityUp()));
        for (PolicyStep p : s.policies()) {
            r.add(Double.toString(p.decision().fraction()));
            r.add(Double.toString(p.equity()));
        }
        return r.toArray(new String[0]);
    }

    private static org.assertj.core.data.Offset<Double> within(double d) {
        return org.assertj.core.data.Offset.offset(d);
    }
}

package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BundledData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ensemble-gbm plugin loads through PF4J from its zip (XGBoost and LightGBM natives inside the
 * plugin class loader), trains per fold in the walk-forward, and the whole model pipeline (per-fold
 * GBM training, stacking on out-of-fold forecasts, isotonic calibration, sizing) has no look-ahead:
 * decisions up to bar t are identical whether the series ends at t or goes on.
 */
class GbmPluginIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));

    @TempDir Path dir;

    @Test
    void gbmSourcesAndStackHaveNoLookAheadAcrossTheWholePipeline() throws IOException {
        for (String zip :
                List.of(
                        "ensemble-gbm-1.3.0.zip",
                        "prediction-traditional-1.0.0.zip",
                        "sizing-kelly-1.3.0.zip",
                        "sizing-adaptive-1.0.0.zip")) {
            Files.copy(DISTRIBUTION.resolve("plugins").resolve(zip), dir.resolve(zip));
        }
        BarData full = BundledData.SP500_DAILY.load();
        var config =
                new WalkForwardBacktest.Config(
                        600, 5, 300, 10_000, CostModel.DEFAULT, 1.0, 0.05, 250);
        int cut = 3_100; // inside the 9th fold: eight folds of out-of-fold rows before it
        BacktestResult whole;
        BacktestResult truncated;
        // One runtime for both runs: every fold refits every source and the ensemble from scratch.
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            whole = run(runtime, full, config);
            truncated = run(runtime, full.truncate(cut), config);
        }
        assertThat(truncated.training().get("lightgbm")).doesNotContain("fit failed");
        assertThat(truncated.training().get("xgboost")).doesNotContain("fit failed");
        assertThat(whole.forecasts())
                .containsKeys(
                        "xgboost",
                        "lightgbm",
                        "random_forest",
                        "traditional",
                        "fused",
                        "fused@kelly_ts");
        assertThat(truncated.training().get("random_forest")).doesNotContain("fit failed");
        assertThat(whole.policies()).containsKey("kelly_ts");
        // The recalibrated fused probability up to the cut does not depend on later bars either.
        assertThat(truncated.forecasts().get("fused@kelly_ts").n()).isGreaterThan(1000);
        assertThat(whole.training().get("xgboost")).contains("per walk-forward fold");
        assertThat(whole.training().get("fused")).contains("stack").contains("1 of");
        assertThat(whole.forecastFailures().get("xgboost")).isZero();
        int k = truncated.testTimes().length - 1;
        assertThat(k).isGreaterThan(1000);
        for (String policy : whole.policies().keySet()) {
            var a = whole.policies().get(policy);
            var b = truncated.policies().get(policy);
            for (int i = 0; i <= k; i++) {
                assertThat(b.targetFraction()[i])
                        .as("%s target at test bar %d", policy, i)
                        .isEqualTo(a.targetFraction()[i]);
                assertThat(b.reasons()[i]).isEqualTo(a.reasons()[i]);
            }
        }
    }

    private BacktestResult run(
            PluginRuntime runtime, BarData bars, WalkForwardBacktest.Config config) {
        {
            assertThat(runtime.refusals()).isEmpty();
            List<PredictionCapability> sources = runtime.predictions();
            EnsembleCapability stack =
                    runtime.ensembles().stream()
                            .filter(e -> e.descriptor().name().equals("stack"))
                            .findFirst()
                            .orElseThrow();
            // Handed out behind the host's isolation guard; the stack itself is the plugin's.
            assertThat(((Guarded) stack).delegate().getClass().getClassLoader())
                    .isNotSameAs(PluginRuntime.class.getClassLoader());
            return new WalkForwardBacktest(config)
                    .run(
                            FeaturePipeline.compute(bars),
                            sources,
                            stack,
                            runtime.sizings(),
                            new RiskGuard(),
                            Progress.NONE);
        }
    }
}

package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.risk.RiskGuard;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Ensembles compared beside the deciding one ({@link WalkForwardBacktest#withComparedEnsembles}):
 * fitted on the same out-of-fold rows and fusing the same forecasts, so a compared copy of the
 * deciding ensemble scores exactly as {@code fused}; they never trade, and their failures are
 * counted as theirs.
 */
class ComparedEnsemblesTest {

    /** The engine's weighted fusion under another name, failing every {@code failEvery}-th fuse. */
    static final class Renamed implements EnsembleCapability {
        final WeightedFusion delegate = new WeightedFusion();
        final String name;
        final int failEvery;
        int fuses;

        Renamed(String name, int failEvery) {
            this.name = name;
            this.failEvery = failEvery;
        }

        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of(name, "1.0.0");
        }

        @Override
        public void fit(List<LabeledForecasts> trainingWindow) {
            delegate.fit(trainingWindow);
        }

        @Override
        public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
            if (failEvery > 0 && ++fuses % failEvery == 0) {
                throw new IllegalStateException("fails on purpose at " + frame.bar().start());
            }
            return delegate.fuse(forecasts, frame);
        }
    }

    private static BacktestResult run(List<EnsembleCapability> compared) {
        return new WalkForwardBacktest(ParallelFoldsTest.CONFIG)
                .withThreads(2)
                .withComparedEnsembles(compared)
                .run(
                        ParallelFoldsTest.FEATURES,
                        List.copyOf(ParallelFoldsTest.sources()),
                        new WeightedFusion(),
                        ParallelFoldsTest.policies(),
                        new RiskGuard(),
                        Progress.NONE);
    }

    @Test
    void aComparedCopyScoresAsFusedAndNothingElseMoves() {
        BacktestResult alone = run(List.of());
        BacktestResult with = run(List.of(new Renamed("copy", 0), new Renamed("flaky", 10)));
        ForecastMetrics fused = with.forecasts().get(WalkForwardBacktest.FUSED);
        ForecastMetrics copy = with.forecasts().get("fused/copy");
        assertThat(copy.logLoss()).isEqualTo(fused.logLoss());
        assertThat(copy.brier()).isEqualTo(fused.brier());
        assertThat(copy.ece()).isEqualTo(fused.ece());
        assertThat(copy.hitRate()).isEqualTo(fused.hitRate());
        assertThat(copy.n()).isEqualTo(fused.n());
        assertThat(copy.binCount()).containsExactly(fused.binCount());
        assertThat(with.forecastFailures().get("fused/copy")).isZero();
        assertThat(with.training().get("fused/copy")).startsWith("copy: compared with fused");
        // every 10th fuse of "flaky" throws: counted, left out of its scores, named
        ForecastMetrics flaky = with.forecasts().get("fused/flaky");
        int failed = with.forecastFailures().get("fused/flaky");
        assertThat(failed).isPositive();
        assertThat(flaky.n() + failed).isEqualTo(fused.n());
        assertThat(with.training().get("fused/flaky")).contains("fails on purpose");
        // the deciding run is untouched: everything but the compared rows is the same
        ObjectNode a = ReportWriter.json(alone);
        ObjectNode b = ReportWriter.json(with);
        ((ObjectNode) b.get("forecasts")).remove(List.of("fused/copy", "fused/flaky"));
        ((ObjectNode) b.get("evaluation").get("forecast_failures"))
                .remove(List.of("fused/copy", "fused/flaky"));
        a.remove("throughput_bars_per_s");
        b.remove("throughput_bars_per_s");
        assertThat(b).isEqualTo(a);
    }
}

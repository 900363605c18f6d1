package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.data.BundledData;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Walk-forward trains for real: every source is fitted before each fold on labels known before the
 * fold's test start minus the embargo, its forecasts of the fold's bars come from that fit, and the
 * ensemble sees only out-of-fold forecasts (earlier folds' test bars), none in the first fold.
 */
class PerFoldTrainingTest {

    /** Forecasts the fit count, so each forecast names the fit it came from. */
    static final class Recording implements PredictionCapability {
        final List<Instant[]> fits = new ArrayList<>();
        final String name;
        final int failFold;
        int fitted = -1;
        final Map<Instant, Integer> fitOfBar = new HashMap<>();

        Recording(String name, int failFold) {
            this.name = name;
            this.failFold = failFold;
        }

        @Override
        public CapabilityDescriptor descriptor() {
            return new CapabilityDescriptor(name, "1.0.0", Map.of("training", "per-fold"));
        }

        @Override
        public void fit(List<LabeledFrame> window) {
            fits.add(
                    new Instant[] {
                        window.get(0).frame().bar().start(),
                        window.get(window.size() - 1).frame().bar().start()
                    });
            fitted = fits.size() - 1;
            if (fitted == failFold) {
                throw new CapabilityException(name, "deliberate fit failure", null);
            }
        }

        @Override
        public Forecast forecast(FeatureFrame frame) {
            fitOfBar.put(frame.bar().start(), fitted);
            return new Forecast(
                    name, frame.bar().start(), 1, 0.5 + 0.001 * (fitted % 10), Map.of());
        }
    }

    @Test
    void sourcesFitPerFoldOnPastLabelsAndTheEnsembleOnlyOnOutOfFoldForecasts() {
        BarData bars = BundledData.SP500_DAILY.load();
        var config = WalkForwardBacktest.Config.defaults().withWindows(500, 5, 250);
        Recording a = new Recording("a", -1);
        Recording b = new Recording("b", 2);
        List<List<LabeledForecasts>> ensembleFits = new ArrayList<>();
        EnsembleCapability ensemble =
                new EnsembleCapability() {
                    final WeightedFusion inner = new WeightedFusion();

                    @Override
                    public CapabilityDescriptor descriptor() {
                        return CapabilityDescriptor.of("recorder", "1.0.0");
                    }

                    @Override
                    public void fit(List<LabeledForecasts> window) {
                        ensembleFits.add(window);
                        inner.fit(window);
                    }

                    @Override
                    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
                        return inner.fuse(forecasts, frame);
                    }
                };
        BacktestResult r =
                new WalkForwardBacktest(config)
                        .run(
                                FeaturePipeline.compute(bars),
                                List.of(a, b),
                                ensemble,
                                List.of(TestCapabilities.fixed(0.5)),
                                new RiskGuard(),
                                Progress.NONE);
        List<Fold> folds = r.folds();
        assertThat(a.fits).hasSize(folds.size());
        Instant firstTest = folds.get(0).testStart();
        for (int k = 0; k < folds.size(); k++) {
            Fold f = folds.get(k);
            // labels of the window are known by test start minus embargo (5 trading days here)
            assertThat(a.fits.get(k)[1]).isEqualTo(f.trainEnd()).isBefore(f.testStart());
            // every test bar was forecast by this fold's fit
            for (var e : a.fitOfBar.entrySet()) {
                if (!e.getKey().isBefore(f.testStart()) && !e.getKey().isAfter(f.testEnd())) {
                    assertThat(e.getValue()).isEqualTo(k);
                }
            }
            // the ensemble saw only bars an earlier fold tested, inside this training window
            for (LabeledForecasts row : ensembleFits.get(k)) {
                assertThat(row.barTime())
                        .isAfterOrEqualTo(firstTest)
                        .isAfterOrEqualTo(f.trainStart())
                        .isBeforeOrEqualTo(f.trainEnd());
                for (Forecast fc : row.forecasts()) {
                    assertThat(a.fitOfBar.getOrDefault(row.barTime(), -1)).isLessThan(k);
                    assertThat(fc.barTime()).isEqualTo(row.barTime());
                }
            }
        }
        assertThat(ensembleFits.get(0)).isEmpty();
        assertThat(ensembleFits.get(2)).isNotEmpty();
        // b's fit failed in fold 2: it is out of that fold only, and the report says why
        Fold two = folds.get(2);
        for (var e : b.fitOfBar.entrySet()) {
            assertThat(!e.getKey().isBefore(two.testStart()) && !e.getKey().isAfter(two.testEnd()))
                    .isFalse();
        }
        assertThat(r.forecasts().get("b").n()).isLessThan(r.forecasts().get("a").n());
        assertThat(r.training().get("b"))
                .contains("fit failed in 1 of " + folds.size())
                .contains("deliberate fit failure");
        assertThat(r.training().get("fused")).contains("1 of " + folds.size() + " folds had none");
        assertThat(r.forecasts()).containsKey("fused");
        assertThat(r.forecasts().get("fused").ece()).isBetween(0.0, 1.0);
    }
}

package dev.quiver.plugins.catboost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.testkit.FixtureSeries;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The batch path (CatBoost's {@code predict(float[][], ...)}, one call per chunk of 256 rows) gives
 * the forecasts of the frame-by-frame path to 1e-6, on the bundled model and the testkit's real
 * BTC-USD 4h bars (2020 onwards, outside the model's training span), across chunk edges.
 */
class CatBoostBatchTest {

    static final double TOLERANCE = 1e-6;

    static final PluginContext CONTEXT =
            new PluginContext() {
                @Override
                public String pluginId() {
                    return "prediction-catboost";
                }

                @Override
                public Optional<String> config(String key) {
                    return Optional.empty();
                }
            };

    @Test
    void batchForecastsEqualTheFrameByFrameOnesOnRealBars() {
        var fx = FixtureSeries.btcUsd4h();
        List<FeatureFrame> frames = new ArrayList<>();
        for (int t = 0; t < fx.size(); t++) {
            frames.add(fx.frame(t));
        }
        List<Forecast> one = new ArrayList<>();
        List<Forecast> batch;
        try (var cb = new CatBoostForecaster(CONTEXT)) {
            for (FeatureFrame f : frames) {
                one.add(cb.forecast(f));
            }
            assertThat(cb.forecastBatchSize()).isEqualTo(256);
            batch = cb.forecastBatch(frames); // 600 rows: chunks of 256, 256, 88
        }
        assertThat(batch).hasSameSizeAs(one);
        double worst = 0;
        int bitwise = 0;
        for (int i = 0; i < one.size(); i++) {
            Forecast a = one.get(i);
            Forecast b = batch.get(i);
            assertThat(b.barTime()).isEqualTo(a.barTime());
            assertThat(b.source()).isEqualTo("catboost");
            assertThat(b.probabilityUp())
                    .as("frame %d", i)
                    .isCloseTo(a.probabilityUp(), within(TOLERANCE));
            assertThat(b.details().get("raw")).isCloseTo(a.details().get("raw"), within(TOLERANCE));
            worst = Math.max(worst, Math.abs(b.probabilityUp() - a.probabilityUp()));
            bitwise += b.probabilityUp() == a.probabilityUp() ? 1 : 0;
        }
        System.out.printf(
                "catboost batch vs per row: %d forecasts, max |diff| = %.3g, %d bit-identical%n",
                one.size(), worst, bitwise);
        // the forecasts vary: not a comparison of constants
        assertThat(one.stream().mapToDouble(Forecast::probabilityUp).distinct().count())
                .isGreaterThan(100);
    }

    @Test
    void aBatchWithARefusedFrameThrowsWhatTheFrameByFrameCallThrows() {
        var fx = FixtureSeries.btcUsd4h();
        List<FeatureFrame> frames = new ArrayList<>();
        for (int t = 0; t < 300; t++) {
            frames.add(t == 290 ? fx.frameWithoutFeatures(t) : fx.frame(t));
        }
        try (var cb = new CatBoostForecaster(CONTEXT)) {
            String perRow = null;
            try {
                cb.forecast(frames.get(290));
            } catch (QuiverInputException e) {
                perRow = e.getMessage();
            }
            assertThat(perRow).contains("SCHEMA_MISMATCH");
            assertThatThrownBy(() -> cb.forecastBatch(frames))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessage(perRow);
            assertThat(cb.forecastBatch(frames.subList(0, 290))).hasSize(290);
        }
    }
}

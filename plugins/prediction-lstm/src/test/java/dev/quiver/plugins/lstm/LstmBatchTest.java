package dev.quiver.plugins.lstm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.testkit.FixtureSeries;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The batch path (one ONNX run over {@code float[batch][32][7]} per chunk) gives the forecasts of
 * the frame-by-frame path to 1e-6, on the bundled model and the testkit's real BTC-USD 4h bars
 * (2020 onwards, outside the model's training span), across chunk edges.
 */
class LstmBatchTest {

    static final double TOLERANCE = 1e-6;

    @Test
    void batchForecastsEqualTheFrameByFrameOnesOnRealBars() {
        var fx = FixtureSeries.btcUsd4h();
        List<FeatureFrame> frames = new ArrayList<>();
        for (int t = 31; t < fx.size(); t++) { // 32 chained rows from t = 31
            frames.add(fx.frame(t));
        }
        List<Forecast> one = new ArrayList<>();
        try (var lstm = new LstmForecaster(LstmModel.bundled())) {
            for (FeatureFrame f : frames) {
                one.add(lstm.forecast(f));
            }
        }
        // the default chunk (256: 569 frames in 3 runs) and an odd one (37: 16 runs, 14 left over)
        for (int size : new int[] {LstmForecaster.DEFAULT_BATCH_SIZE, 37}) {
            List<Forecast> batch;
            try (var lstm = new LstmForecaster(LstmModel.bundled(), size)) {
                assertThat(lstm.forecastBatchSize()).isEqualTo(size);
                batch = lstm.forecastBatch(frames);
            }
            assertThat(batch).hasSameSizeAs(one);
            double worst = 0;
            int bitwise = 0;
            for (int i = 0; i < one.size(); i++) {
                Forecast a = one.get(i);
                Forecast b = batch.get(i);
                assertThat(b.barTime()).isEqualTo(a.barTime());
                assertThat(b.source()).isEqualTo("lstm");
                assertThat(b.probabilityUp())
                        .as("chunk %d, frame %d", size, i)
                        .isCloseTo(a.probabilityUp(), within(TOLERANCE));
                assertThat(b.details().get("p_down"))
                        .isCloseTo(a.details().get("p_down"), within(TOLERANCE));
                worst = Math.max(worst, Math.abs(b.probabilityUp() - a.probabilityUp()));
                bitwise += b.probabilityUp() == a.probabilityUp() ? 1 : 0;
            }
            System.out.printf(
                    "lstm batch (chunks of %d) vs per row: %d forecasts, max |diff| = %.3g,"
                            + " %d bit-identical%n",
                    size, one.size(), worst, bitwise);
        }
        // the forecasts vary: not a comparison of constants
        assertThat(one.stream().mapToDouble(Forecast::probabilityUp).distinct().count())
                .isGreaterThan(100);
    }

    @Test
    void aBatchWithARefusedFrameThrowsWhatTheFrameByFrameCallThrows() {
        var fx = FixtureSeries.btcUsd4h();
        try (var lstm = new LstmForecaster(LstmModel.bundled(), 4)) {
            // frame 30 has 31 chained rows, one short of the window; it sits in the second chunk
            List<FeatureFrame> frames = new ArrayList<>();
            for (int t = 34; t >= 28; t--) {
                frames.add(fx.frame(t));
            }
            assertThatThrownBy(() -> lstm.forecastBatch(frames))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageEndingWith(
                            ": field 'window' has fewer than 32 chained feature rows (value: 31)");
            // and the source still serves afterwards
            assertThat(lstm.forecastBatch(frames.subList(0, 4))).hasSize(4);
        }
    }

    @Test
    void aClosedSourceRefusesABatch() {
        var fx = FixtureSeries.btcUsd4h();
        var lstm = new LstmForecaster(LstmModel.bundled());
        lstm.close();
        assertThatThrownBy(() -> lstm.forecastBatch(List.of(fx.frame(40))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("CAPABILITY_CLOSED");
    }
}

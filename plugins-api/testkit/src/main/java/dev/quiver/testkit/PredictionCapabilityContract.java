package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link PredictionCapability} must meet, run on real bars ({@link
 * FixtureSeries}). Implement it in a test class and supply {@link #newPrediction()}.
 *
 * <p>Every fresh instance is first fitted ({@link PredictionCapability#fit}) on the labelled
 * fixture bars before {@link #firstFrame()} minus one, then asked about the bars from {@link
 * #firstFrame()} on: trainable sources (trained per walk-forward fold) and fixed ones (whose {@code
 * fit} is a no-op) go through the same contract, and no forecast is of a bar the source was fitted
 * on.
 */
public interface PredictionCapabilityContract {

    /**
     * A fresh instance of the capability under test.
     *
     * @return the capability
     */
    PredictionCapability newPrediction();

    /**
     * First fixture bar the source is asked about; bars {@code [0, firstFrame() - 2]} are its
     * training window.
     *
     * @return a bar index, default 400 (of the fixture's 600)
     */
    default int firstFrame() {
        return 400;
    }

    /**
     * The labelled frames every fresh instance is fitted on: fixture bars {@code [0, firstFrame() -
     * 2]}, each labelled with the next bar's log return, so every label is known before the first
     * bar asked about.
     *
     * @param fx the fixture
     * @return the training window, in time order
     */
    default List<LabeledFrame> trainingWindow(FixtureSeries fx) {
        var rows = new ArrayList<LabeledFrame>();
        for (int t = 0; t <= firstFrame() - 2; t++) {
            double r = Math.log(fx.frame(t + 1).bar().close() / fx.frame(t).bar().close());
            rows.add(new LabeledFrame(fx.frame(t), 1, r));
        }
        return rows;
    }

    private PredictionCapability fitted(FixtureSeries fx) {
        PredictionCapability p = newPrediction();
        p.fit(trainingWindow(fx));
        return p;
    }

    private List<Forecast> run(PredictionCapability p, FixtureSeries fx, int endExclusive) {
        var out = new ArrayList<Forecast>();
        for (int t = firstFrame(); t < endExclusive; t++) {
            out.add(p.forecast(fx.frame(t)));
        }
        return out;
    }

    @Test
    default void forecastsAreFiniteProbabilitiesForTheDecisionBar() {
        var fx = FixtureSeries.btcUsd4h();
        try (PredictionCapability p = fitted(fx)) {
            String horizon = p.descriptor().attributes().get("horizon");
            for (int t = firstFrame(); t < fx.size(); t++) {
                Forecast f = p.forecast(fx.frame(t));
                assertThat(f.probabilityUp()).as("bar %s", t).isFinite().isBetween(0.0, 1.0);
                assertThat(f.barTime()).isEqualTo(fx.frame(t).bar().start());
                assertThat(f.source()).isEqualTo(p.descriptor().name());
                if (horizon != null) {
                    assertThat(f.horizonBars()).isEqualTo(Integer.parseInt(horizon));
                }
            }
        }
    }

    @Test
    default void pointInTimeSameForecastWhetherTheSeriesEndsOrGoesOn() {
        var fx = FixtureSeries.btcUsd4h();
        List<Forecast> full;
        try (PredictionCapability p = fitted(fx)) {
            full = run(p, fx, fx.size());
        }
        for (int cut :
                new int[] {firstFrame() + 1, (firstFrame() + fx.size()) / 2, fx.size() - 7}) {
            try (PredictionCapability p = fitted(fx)) {
                List<Forecast> truncated = run(p, fx, cut + 1);
                assertThat(truncated)
                        .as("series ending at bar %s", cut)
                        .isEqualTo(full.subList(0, truncated.size()));
            }
        }
    }

    @Test
    default void deterministicForTheSameInput() {
        var fx = FixtureSeries.btcUsd4h();
        try (PredictionCapability a = fitted(fx);
                PredictionCapability b = fitted(fx)) {
            assertThat(run(a, fx, fx.size())).isEqualTo(run(b, fx, fx.size()));
        }
    }

    /**
     * {@code forecastBatch} (plugins-api 1.4.0) gives, frame for frame, the forecasts of {@code
     * forecast} on a fresh instance fitted alike: probabilities within 1e-6, same bars and source.
     */
    @Test
    default void batchForecastsEqualTheFrameByFrameOnes() {
        var fx = FixtureSeries.btcUsd4h();
        var frames = new ArrayList<FeatureFrame>();
        for (int t = firstFrame(); t < fx.size(); t++) {
            frames.add(fx.frame(t));
        }
        try (PredictionCapability a = fitted(fx);
                PredictionCapability b = fitted(fx)) {
            List<Forecast> one = run(a, fx, fx.size());
            assertThat(b.forecastBatchSize()).isPositive();
            List<Forecast> batch = b.forecastBatch(frames);
            assertThat(batch).hasSameSizeAs(one);
            for (int i = 0; i < one.size(); i++) {
                assertThat(batch.get(i).barTime()).isEqualTo(one.get(i).barTime());
                assertThat(batch.get(i).source()).isEqualTo(one.get(i).source());
                assertThat(batch.get(i).probabilityUp())
                        .as("frame %s", i)
                        .isCloseTo(one.get(i).probabilityUp(), within(1e-6));
            }
        }
    }

    @Test
    default void aMissingFeatureIsRejectedWithItsName() {
        var fx = FixtureSeries.btcUsd4h();
        try (PredictionCapability p = fitted(fx)) {
            try {
                p.forecast(fx.frameWithoutFeatures(fx.size() - 1));
            } catch (QuiverInputException e) {
                assertThat(e.field()).isNotBlank();
                assertThat(e.getMessage()).contains(e.value());
                return;
            }
            // A source that reads no feature has nothing to reject: it must still forecast.
            assertThat(p.forecast(fx.frame(fx.size() - 1)).probabilityUp()).isBetween(0.0, 1.0);
        }
    }

    @Test
    default void closeIsIdempotentAndLaterCallsFailClearly() {
        var fx = FixtureSeries.btcUsd4h();
        PredictionCapability p = fitted(fx);
        p.close();
        p.close();
        assertThatThrownBy(() -> p.forecast(fx.frame(fx.size() - 1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }
}

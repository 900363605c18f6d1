package dev.quiver.plugins.lstm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.PredictionCapabilityContract;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LstmForecasterTest implements PredictionCapabilityContract {

    @Override
    public PredictionCapability newPrediction() {
        return new LstmForecaster(LstmModel.bundled());
    }

    @Test
    void bundledModelThroughThePluginContextDescribesItself() {
        PluginContext context =
                new PluginContext() {
                    @Override
                    public String pluginId() {
                        return "prediction-lstm";
                    }

                    @Override
                    public Optional<String> config(String key) {
                        return Optional.empty();
                    }
                };
        try (var lstm = new LstmForecaster(context)) {
            assertThat(lstm.descriptor().name()).isEqualTo("lstm");
            assertThat(lstm.descriptor().attributes())
                    .containsEntry("horizon", "1")
                    .containsEntry("timesteps", "32")
                    .containsEntry("trained_on", "btc-usd-4h")
                    .containsEntry("trained_through", "2018-12-31T20:00:00Z")
                    .containsEntry("schema_hash", FixtureSeries.btcUsd4h().schema().hash())
                    .containsOnlyKeys(
                            "horizon",
                            "calibrated",
                            "timesteps",
                            "schema_hash",
                            "trained_on",
                            "trained_from",
                            "trained_through");
        }
    }

    @Test
    void aSeriesStartShorterThanTheWindowIsRefusedNotGuessed() {
        var fx = FixtureSeries.btcUsd4h();
        try (var lstm = newPrediction()) {
            // frame(t) chains t + 1 rows: 31 rows at t = 30, one short of the 32-bar window
            assertThatThrownBy(() -> lstm.forecast(fx.frame(30)))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageStartingWith("[Quiver/SHORT_HISTORY] feature window at bar ")
                    .hasMessageEndingWith(
                            ": field 'window' has fewer than 32 chained feature rows (value: 31)");
            assertThat(lstm.forecast(fx.frame(31)).probabilityUp()).isBetween(0.0, 1.0);
        }
    }

    @Test
    void theForecastDependsOnlyOnTheFrameNotOnEarlierCalls() {
        var fx = FixtureSeries.btcUsd4h();
        List<Forecast> inSequence = new ArrayList<>();
        try (var lstm = newPrediction()) {
            for (int t = 100; t < 200; t++) {
                inSequence.add(lstm.forecast(fx.frame(t)));
            }
        }
        try (var lstm = newPrediction()) {
            for (int t = 199; t >= 100; t -= 7) {
                assertThat(lstm.forecast(fx.frame(t))).isEqualTo(inSequence.get(t - 100));
            }
        }
        // the model's probabilities move with the window
        assertThat(inSequence.stream().map(Forecast::probabilityUp).distinct())
                .hasSizeGreaterThan(50);
    }

    @Test
    void aFrameOfAnotherSchemaIsRefusedNamingBothHashes() {
        var fx = FixtureSeries.btcUsd4h();
        FeatureFrame real = fx.frame(300);
        var names = new ArrayList<>(real.schema().names());
        var other = new FeatureSchema("quiver-core", "2", names);
        try (var lstm = newPrediction()) {
            assertThatThrownBy(
                            () ->
                                    lstm.forecast(
                                            new FeatureFrame(
                                                    other, real.history(), real.toArray())))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageStartingWith("[Quiver/SCHEMA_MISMATCH] capability 'lstm'")
                    .hasMessageContaining("quiver-core v2 sha256=" + other.hash())
                    .hasMessageContaining("quiver-core v1 sha256=" + real.schema().hash());
        }
    }

    @Test
    void barsOfTheTrainingSpanAreNeverForecast() {
        var fx = FixtureSeries.btcUsd4h();
        FeatureFrame real = fx.frame(300);
        BarSeries inSpan = series("btc-usd-4h", Instant.parse("2017-06-01T00:00:00Z"), 40);
        BarSeries otherSeries = series("sp500-daily", Instant.parse("2017-06-01T00:00:00Z"), 40);
        try (var lstm = newPrediction()) {
            assertThatThrownBy(
                            () ->
                                    lstm.forecast(
                                            new FeatureFrame(
                                                    real.schema(), inSpan, real.toArray())))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageStartingWith(
                            "[Quiver/IN_TRAINING_SPAN] capability 'lstm' on btc-usd-4h")
                    .hasMessageContaining("inside the model's training span")
                    .hasMessageContaining("2018-12-31T20:00:00Z");
            // another series at the same dates is not refused for the span; this unchained
            // frame fails only for its missing window
            assertThatThrownBy(
                            () ->
                                    lstm.forecast(
                                            new FeatureFrame(
                                                    real.schema(), otherSeries, real.toArray())))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageStartingWith("[Quiver/SHORT_HISTORY]");
        }
    }

    @Test
    void closeWaitsForTheCallInFlightAndLaterCallsFail() throws Exception {
        var fx = FixtureSeries.btcUsd4h();
        var lstm = newPrediction();
        var done = new AtomicInteger();
        var failure = new ArrayList<Throwable>();
        Thread caller =
                new Thread(
                        () -> {
                            try {
                                for (int t = 60; t < fx.size(); t++) {
                                    lstm.forecast(fx.frame(t));
                                    done.incrementAndGet();
                                }
                            } catch (IllegalStateException closed) {
                                assertThat(closed).hasMessageContaining("closed");
                            } catch (Throwable e) {
                                failure.add(e);
                            }
                        });
        caller.start();
        while (done.get() < 100) {
            Thread.onSpinWait();
        }
        lstm.close();
        caller.join();
        lstm.close();
        assertThat(failure).isEmpty();
    }

    private static BarSeries series(String symbol, Instant start, int size) {
        return new BarSeries() {
            @Override
            public String symbol() {
                return symbol;
            }

            @Override
            public Duration period() {
                return Duration.ofHours(4);
            }

            @Override
            public int size() {
                return size;
            }

            @Override
            public Bar get(int index) {
                double c = 100 + index;
                return new Bar(start.plus(Duration.ofHours(4L * index)), c, c + 1, c - 1, c, 10);
            }
        };
    }
}

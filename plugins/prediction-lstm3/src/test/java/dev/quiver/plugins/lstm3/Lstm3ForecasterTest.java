package dev.quiver.plugins.lstm3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Direction;
import dev.quiver.api.prediction.DirectionForecast;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.PredictionCapabilityContract;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The test kit's prediction contracts on the bundled three-class model, what its forecasts carry
 * (the class probabilities, p_up of an up close from them), its training-span guard, and a leaky
 * variant (a streaming-buffer bug that forecasts from the newest window it has seen) caught by a
 * re-forecast check after {@code LookaheadCheck}'s idea, which the real source passes.
 */
class Lstm3ForecasterTest implements PredictionCapabilityContract {

    @Override
    public PredictionCapability newPrediction() {
        return new Lstm3Forecaster(Lstm3Model.bundled());
    }

    private static JsonNode sidecar() throws IOException {
        try (InputStream in = Lstm3Forecaster.class.getResourceAsStream("model/lstm3.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @Test
    void theDescriptorDeclaresTheClassesTheBandAndTheTrainingSpan() {
        try (var lstm3 = newPrediction()) {
            assertThat(lstm3.descriptor().name()).isEqualTo("lstm3");
            assertThat(lstm3.descriptor().attributes())
                    .containsEntry("classes", "down,sideways,up")
                    .containsEntry("sideways_band_atr_multiple", "0.25")
                    .containsEntry("trained_on", "btc-usd-4h")
                    .containsEntry("trained_through", "2018-12-31T20:00:00Z")
                    .containsEntry("schema_hash", FixtureSeries.btcUsd4h().schema().hash())
                    .containsOnlyKeys(
                            "horizon",
                            "calibrated",
                            "classes",
                            "sideways_band_atr_multiple",
                            "timesteps",
                            "schema_hash",
                            "trained_on",
                            "trained_from",
                            "trained_through");
        }
    }

    @Test
    void everyForecastCarriesItsClassProbabilitiesAndPUpIsUpPlusTheSidewaysShareThatClosedUp()
            throws IOException {
        JsonNode sidecar = sidecar();
        double k = sidecar.get("sideways_band").get("atr_multiple").asDouble();
        double share = sidecar.get("p_up_close").get("sideways_up_share").asDouble();
        var fx = FixtureSeries.btcUsd4h();
        Map<Direction, Integer> predicted = new EnumMap<>(Direction.class);
        try (var lstm3 = newPrediction()) {
            for (int t = 100; t < fx.size(); t++) {
                Forecast f = lstm3.forecast(fx.frame(t));
                DirectionForecast c = DirectionForecast.of(f).orElseThrow();
                assertThat(c.band().atrMultiple()).isEqualTo(k);
                assertThat(c.probabilityDown() + c.probabilitySideways() + c.probabilityUp())
                        .isCloseTo(1.0, within(1e-5));
                assertThat(f.probabilityUp())
                        .as("bar %s", t)
                        .isCloseTo(
                                c.probabilityUp() + c.probabilitySideways() * share, within(1e-12));
                predicted.merge(c.predicted(), 1, Integer::sum);
            }
        }
        System.out.println("lstm3: predicted classes on the fixture's bars 100..599: " + predicted);
        // the model is not a constant: more than one class wins somewhere on 500 bars
        assertThat(predicted).hasSizeGreaterThan(1);
    }

    @Test
    void barsOfTheTrainingSpanAreNeverForecast() {
        var fx = FixtureSeries.btcUsd4h();
        FeatureFrame real = fx.frame(300);
        BarSeries inSpan = series("btc-usd-4h", Instant.parse("2017-06-01T00:00:00Z"), 40);
        try (var lstm3 = newPrediction()) {
            assertThatThrownBy(
                            () ->
                                    lstm3.forecast(
                                            new FeatureFrame(
                                                    real.schema(), inSpan, real.toArray())))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageStartingWith(
                            "[Quiver/IN_TRAINING_SPAN] capability 'lstm3' on btc-usd-4h")
                    .hasMessageContaining("2018-12-31T20:00:00Z");
        }
    }

    @Test
    void aLeakyVariantIsCaughtByReForecastingCutBarsAndTheRealSourceIsNot() {
        var fx = FixtureSeries.btcUsd4h();
        int[] cuts = {120, 250, 333, 480, 590};
        List<Integer> real = differingCuts(this::newPrediction, fx, cuts);
        List<Integer> leaky = differingCuts(() -> new NewestWindow(newPrediction()), fx, cuts);
        System.out.println(
                "lstm3 re-forecast check: real differs at " + real + ", leaky at " + leaky);
        assertThat(real).isEmpty();
        assertThat(leaky).containsExactly(120, 250, 333, 480, 590);
    }

    /**
     * One instance forecasts bars 100..end in order (the full run), then the same instance
     * forecasts each cut bar again from the series truncated right after it: a point-in-time source
     * gives the same forecast; one that carries later bars in its state does not.
     */
    private static List<Integer> differingCuts(
            Supplier<PredictionCapability> make, FixtureSeries fx, int[] cuts) {
        List<Integer> differ = new ArrayList<>();
        try (PredictionCapability p = make.get()) {
            List<Forecast> full = new ArrayList<>();
            for (int t = 100; t < fx.size(); t++) {
                full.add(p.forecast(fx.frame(t)));
            }
            for (int c : cuts) {
                if (!p.forecast(fx.frame(c)).equals(full.get(c - 100))) {
                    differ.add(c);
                }
            }
        }
        return differ;
    }

    /**
     * The leaky variant: a streaming buffer that keeps the newest frame it was given and forecasts
     * from it whatever bar it is asked about (the bug of a source that appends rows to its own
     * buffer instead of reading the frame's window), stamped with the asked bar's time.
     */
    private static final class NewestWindow implements PredictionCapability {
        private final PredictionCapability real;
        private FeatureFrame newest;

        NewestWindow(PredictionCapability real) {
            this.real = real;
        }

        @Override
        public CapabilityDescriptor descriptor() {
            return real.descriptor();
        }

        @Override
        public Forecast forecast(FeatureFrame frame) {
            if (newest == null || frame.bar().start().isAfter(newest.bar().start())) {
                newest = frame;
            }
            Forecast f = real.forecast(newest);
            return new Forecast(
                    f.source(),
                    frame.bar().start(),
                    f.horizonBars(),
                    f.probabilityUp(),
                    f.details());
        }

        @Override
        public void close() {
            real.close();
        }
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

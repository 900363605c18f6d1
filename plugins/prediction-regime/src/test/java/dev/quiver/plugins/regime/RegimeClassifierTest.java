package dev.quiver.plugins.regime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.PredictionCapabilityContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegimeClassifierTest implements PredictionCapabilityContract {

    static final FixtureSeries FX = FixtureSeries.btcUsd4h();

    @TempDir Path dir;

    @Override
    public PredictionCapability newPrediction() {
        return new RegimeClassifier(42, 20);
    }

    private RegimeClassifier fitted(long seed) {
        var c = new RegimeClassifier(seed, 20);
        c.fit(trainingWindow(FX));
        return c;
    }

    private static List<Forecast> forecasts(PredictionCapability p) {
        var out = new ArrayList<Forecast>();
        for (int t = 400; t < FX.size(); t++) {
            out.add(p.forecast(FX.frame(t)));
        }
        return out;
    }

    @Test
    void sameSeedSameModelFileAndForecastsBitForBit() throws IOException {
        try (var a = fitted(42);
                var b = fitted(42)) {
            Path da = Files.createDirectory(dir.resolve("a"));
            Path db = Files.createDirectory(dir.resolve("b"));
            List<Path> fa = a.exportModel(da);
            List<Path> fb = b.exportModel(db);
            assertThat(Files.readAllBytes(fa.get(0))).isEqualTo(Files.readAllBytes(fb.get(0)));
            assertThat(forecasts(a)).isEqualTo(forecasts(b));
            assertThat(a.descriptor().attributes()).containsEntry("seed", "42");
        }
    }

    @Test
    void anExportedModelServesBitForBitTheSameAndIsNotRefitted() throws IOException {
        try (var a = fitted(42)) {
            List<Path> files = a.exportModel(dir);
            assertThat(files)
                    .extracting(p -> p.getFileName().toString())
                    .containsExactly("regime.gmm.json", "regime.json");
            var pinned = new RegimeClassifier(files.get(1), 7, 20, RegimeInputs.POINT_IN_TIME);
            List<Forecast> before = forecasts(pinned);
            assertThat(before).isEqualTo(forecasts(a));
            // A configured model is served as it is: fit keeps it.
            List<LabeledFrame> other = trainingWindow(FX).subList(0, 200);
            pinned.fit(other);
            assertThat(forecasts(pinned)).isEqualTo(before);
            assertThat(pinned.descriptor().attributes()).containsEntry("training", "pinned");
        }
    }

    @Test
    void aDamagedModelFileIsRefusedNamingIt() throws IOException {
        try (var a = fitted(42)) {
            List<Path> files = a.exportModel(dir);
            byte[] bytes = Files.readAllBytes(files.get(0));
            Files.write(files.get(0), java.util.Arrays.copyOf(bytes, bytes.length / 2));
            assertThatThrownBy(
                            () ->
                                    new RegimeClassifier(
                                            files.get(1), 42, 20, RegimeInputs.POINT_IN_TIME))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageContaining("regime.gmm.json")
                    .hasMessageContaining("model_sha256");
        }
    }

    @Test
    void everyForecastCarriesItsRegimeAndPosteriorsThatSumToOne() {
        try (var a = fitted(42)) {
            int[] seen = new int[4];
            for (Forecast f : forecasts(a)) {
                double r = f.details().get("regime");
                assertThat(r).isIn(0.0, 1.0, 2.0, 3.0);
                seen[(int) r]++;
                double sum = 0;
                double best = -1;
                for (Regime g : Regime.values()) {
                    double p = f.details().get(g.detail());
                    sum += p;
                    best = Math.max(best, p);
                }
                assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
                assertThat(f.details().get(Regime.values()[(int) r].detail())).isEqualTo(best);
                assertThat(f.probabilityUp())
                        .isEqualTo(a.model().upRate[(int) r])
                        .isStrictlyBetween(0.0, 1.0);
            }
            // 200 real bars of 2020 are not all one regime.
            assertThat(java.util.Arrays.stream(seen).filter(n -> n > 0).count())
                    .isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void theLabellingRuleByHand() {
        // means {trend_z, log_atr_pct}: component 2 is the most volatile; of the rest, 0 trends
        // up most, 3 down most, 1 is in the middle.
        Regime[] r =
                RegimeModel.label(
                        new double[][] {{1.5, -0.2}, {0.1, -0.5}, {-0.3, 1.8}, {-1.2, 0.0}});
        assertThat(r)
                .containsExactly(
                        Regime.TRENDING_UP,
                        Regime.RANGING,
                        Regime.HIGH_VOLATILITY,
                        Regime.TRENDING_DOWN);
    }

    @Test
    void unfittedItDeclinesAndTooShortAWindowIsNamed() {
        try (var c = new RegimeClassifier(42, 20)) {
            assertThatThrownBy(() -> c.forecast(FX.frame(500)))
                    .isInstanceOf(CapabilityException.class)
                    .hasMessageContaining("not fitted");
            assertThatThrownBy(() -> c.fit(trainingWindow(FX).subList(0, 50)))
                    .isInstanceOf(CapabilityException.class)
                    .hasMessageContaining("fewer than 100");
        }
        assertThatThrownBy(() -> new RegimeClassifier(42, 4))
                .hasMessage(
                        "[Quiver/BAD_CONFIG] plugin regime: field 'window' is not in [5, 500] (value: 4)");
    }
}

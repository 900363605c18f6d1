package dev.quiver.plugins.catboost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.PluginContext;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.PredictionCapabilityContract;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatBoostForecasterTest implements PredictionCapabilityContract {

    private static final PluginContext CONTEXT =
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

    @Override
    public PredictionCapability newPrediction() {
        return new CatBoostForecaster(CONTEXT);
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = CatBoostForecaster.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    /** Java catboost-prediction 1.2.7 equals Python catboost 1.2.7 on 200 recorded rows. */
    @Test
    void javaEqualsPythonCatBoostOnTwoHundredRecordedRows() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(resource("catboost-golden.json"));
        try (var cb = new CatBoostForecaster(CONTEXT)) {
            assertThat(golden.get("features").toString())
                    .isEqualTo(new ObjectMapper().writeValueAsString(cb.features()));
            double worstRaw = 0;
            double worstP = 0;
            int n = 0;
            for (JsonNode r : golden.get("rows")) {
                float[] x = new float[r.get("x").size()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.get("x").get(i).asDouble();
                }
                double raw = cb.raw(x);
                double p = CatBoostForecaster.probabilityUp(raw);
                assertThat(raw)
                        .as("bar %s", r.get("bar"))
                        .isCloseTo(r.get("raw").asDouble(), within(1e-9));
                assertThat(p)
                        .as("bar %s", r.get("bar"))
                        .isCloseTo(r.get("p_up").asDouble(), within(1e-9));
                worstRaw = Math.max(worstRaw, Math.abs(raw - r.get("raw").asDouble()));
                worstP = Math.max(worstP, Math.abs(p - r.get("p_up").asDouble()));
                n++;
            }
            assertThat(n).isEqualTo(200);
            System.out.printf(
                    "catboost parity: %d rows, max |raw diff| %.3g, max |p diff| %.3g%n",
                    n, worstRaw, worstP);
        }
    }

    @Test
    void aTruncatedModelIsRefusedNamingTheFile() throws IOException {
        byte[] json = resource("model/catboost.json");
        byte[] cbm = resource("model/catboost.cbm");
        byte[] cut = Arrays.copyOf(cbm, cbm.length * 6 / 10);
        assertThatThrownBy(() -> new CatBoostForecaster(json, "catboost.json", cut, "cut.cbm"))
                .hasMessageStartingWith("[Quiver/MODEL_REFUSED] cut.cbm: sha256 ")
                .hasMessageContaining("truncated");
        // with the hash updated to match, CatBoost's own parser must refuse it, not crash
        String original = CatBoostForecaster.sha256(cbm);
        for (int len : new int[] {0, 16, cbm.length / 3, cbm.length * 6 / 10, cbm.length - 1}) {
            byte[] c = Arrays.copyOf(cbm, len);
            byte[] j =
                    new String(json, StandardCharsets.UTF_8)
                            .replace(original, CatBoostForecaster.sha256(c))
                            .getBytes(StandardCharsets.UTF_8);
            assertThatThrownBy(() -> new CatBoostForecaster(j, "catboost.json", c, "cut.cbm"))
                    .as("cut at %s bytes", len)
                    .hasMessageStartingWith("[Quiver/MODEL_REFUSED] cut.cbm: ")
                    .hasMessageContaining("expected a catboost 1.2.7 .cbm classifier over 7");
        }
    }

    @Test
    void aModelWithOtherFeaturesIsRefused() throws IOException {
        byte[] json =
                new String(resource("model/catboost.json"), StandardCharsets.UTF_8)
                        .replace("\"volume_ratio_20\"", "\"volume_ratio_50\"")
                        .getBytes(StandardCharsets.UTF_8);
        byte[] cbm = resource("model/catboost.cbm");
        assertThatThrownBy(() -> new CatBoostForecaster(json, "catboost.json", cbm, "m.cbm"))
                .hasMessageStartingWith("[Quiver/MODEL_REFUSED] m.cbm: prediction dimension 1")
                .hasMessageContaining("volume_ratio_50");
    }

    @Test
    void descriptorStatesTheTrainingSpan() {
        try (var cb = newPrediction()) {
            assertThat(cb.descriptor().name()).isEqualTo("catboost");
            assertThat(cb.descriptor().attributes())
                    .containsEntry("trained_through", "2018-12-31T20:00:00Z")
                    .containsEntry("schema_hash", FixtureSeries.btcUsd4h().schema().hash());
        }
    }

    private static PluginContext configured(String key, String value) {
        return new PluginContext() {
            @Override
            public String pluginId() {
                return "prediction-catboost";
            }

            @Override
            public Optional<String> config(String k) {
                return k.equals(key) ? Optional.of(value) : Optional.empty();
            }
        };
    }

    /**
     * A registered version's files (sidecar + model beside it), named by {@code catboost.model},
     * serve the same forecasts as the bundled model; a damaged file or an escaping model_file is
     * refused naming the file.
     */
    @Test
    void aConfiguredSidecarServesItsModelAndDamagedFilesAreRefused(@TempDir Path dir)
            throws IOException {
        Path sidecar = dir.resolve("catboost.json");
        Files.write(sidecar, resource("model/catboost.json"));
        Files.write(dir.resolve("catboost.cbm"), resource("model/catboost.cbm"));
        var fx = FixtureSeries.btcUsd4h();
        try (var bundled = new CatBoostForecaster(CONTEXT);
                var fromFiles =
                        new CatBoostForecaster(configured("catboost.model", sidecar.toString()))) {
            for (int t = 400; t < fx.size(); t++) {
                assertThat(fromFiles.forecast(fx.frame(t)).probabilityUp())
                        .isEqualTo(bundled.forecast(fx.frame(t)).probabilityUp());
            }
        }
        byte[] cbm = Files.readAllBytes(dir.resolve("catboost.cbm"));
        cbm[cbm.length / 2] ^= 1;
        Files.write(dir.resolve("catboost.cbm"), cbm);
        assertThatThrownBy(
                        () ->
                                new CatBoostForecaster(
                                        configured("catboost.model", sidecar.toString())))
                .hasMessageContaining("MODEL_REFUSED")
                .hasMessageContaining(dir.resolve("catboost.cbm").toString());
        Files.writeString(
                sidecar,
                Files.readString(sidecar).replace("\"catboost.cbm\"", "\"../catboost.cbm\""));
        assertThatThrownBy(
                        () ->
                                new CatBoostForecaster(
                                        configured("catboost.model", sidecar.toString())))
                .hasMessageContaining("must be a plain file name beside the sidecar");
    }
}

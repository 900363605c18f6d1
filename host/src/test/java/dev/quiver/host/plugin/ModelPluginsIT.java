package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.host.data.BundledData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model plugins (ONNX Runtime LSTM, CatBoost) load through PF4J from the distribution's zips,
 * their native libraries load inside the plugin class loaders, they survive an unload and a second
 * load in the same JVM, and on the host's own feature frames they reproduce the Python outputs the
 * training scripts recorded: the whole chain host features -> plugin -> model equals Python.
 */
class ModelPluginsIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final Path LSTM_GOLDEN =
            Path.of(
                    "../plugins/prediction-lstm/src/test/resources/dev/quiver/plugins/lstm/lstm-golden.json");
    static final Path CATBOOST_GOLDEN =
            Path.of(
                    "../plugins/prediction-catboost/src/test/resources/dev/quiver/plugins/catboost/catboost-golden.json");

    @TempDir Path dir;

    private static PredictionCapability source(PluginRuntime runtime, String name) {
        return runtime.predictions().stream()
                .filter(p -> p.descriptor().name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no prediction source " + name));
    }

    @Test
    void hostFramesThroughThePf4jLoadedPluginsEqualPythonAcrossAnUnloadAndReload()
            throws IOException {
        for (String zip : List.of("prediction-lstm-1.0.0.zip", "prediction-catboost-1.0.0.zip")) {
            Files.copy(DISTRIBUTION.resolve("plugins").resolve(zip), dir.resolve(zip));
        }
        FeatureMatrix features = FeaturePipeline.compute(BundledData.BTC_USD_4H.load());
        JsonNode lstmGolden = new ObjectMapper().readTree(LSTM_GOLDEN.toFile());
        JsonNode cbGolden = new ObjectMapper().readTree(CATBOOST_GOLDEN.toFile());
        List<Double> firstLoad = null;
        ClassLoader firstLoader = null;
        for (int load = 0; load < 2; load++) {
            List<Double> seen = new ArrayList<>();
            try (var runtime = PluginRuntime.start(dir, Map.of())) {
                assertThat(runtime.refusals()).isEmpty();
                PredictionCapability lstm = source(runtime, "lstm");
                PredictionCapability catboost = source(runtime, "catboost");
                // Behind the runtime's guard, the plugin's own object.
                ClassLoader lstmLoader = ((Guarded) lstm).delegate().getClass().getClassLoader();
                assertThat(lstmLoader)
                        .isNotSameAs(PluginRuntime.class.getClassLoader())
                        .isNotSameAs(firstLoader);
                firstLoader = lstmLoader;
                for (JsonNode block : lstmGolden.get("blocks")) {
                    int first = block.get("first_end_bar_index").asInt();
                    for (int t = first - 31; t < first; t++) {
                        lstm.forecast(features.frame(t));
                    }
                    JsonNode p = block.get("p");
                    for (int k = 0; k < p.size(); k++) {
                        Forecast f = lstm.forecast(features.frame(first + k));
                        assertThat(f.probabilityUp())
                                .as("lstm bar %s", first + k)
                                .isCloseTo(p.get(k).get(1).asDouble(), within(1e-5));
                        seen.add(f.probabilityUp());
                    }
                }
                for (JsonNode row : cbGolden.get("rows")) {
                    Forecast f = catboost.forecast(features.frame(row.get("bar_index").asInt()));
                    assertThat(f.probabilityUp())
                            .as("catboost bar %s", row.get("bar"))
                            .isCloseTo(row.get("p_up").asDouble(), within(1e-9));
                    seen.add(f.probabilityUp());
                }
            }
            // unloading closed the sessions and dropped the plugin class loaders without a crash
            if (firstLoad == null) {
                firstLoad = seen;
            } else {
                assertThat(seen).isEqualTo(firstLoad);
            }
        }
    }
}

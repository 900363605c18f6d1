package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.web.SourceFitting;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The plugins with native engines (ONNX Runtime, CatBoost, XGBoost4J + LightGBM4J) can be reloaded
 * live too: each is loaded, fitted where trainable, called, taken out and loaded again through
 * {@link PluginRuntime#apply}, as the service does, and every class loader retired must be
 * collected. Before the host created and closed extensions on threads of the plugin's own and
 * released ONNX Runtime's shutdown hook (see {@code PluginLeaks}), none of these was.
 */
class NativePluginReloadIT {

    static final int CYCLES = 2;

    static BarData history;
    static FeatureMatrix features;

    @TempDir Path dir;

    @BeforeAll
    static void bars() {
        history = BundledData.BTC_USD_4H.load();
        features = FeaturePipeline.compute(history);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"prediction-lstm", "prediction-catboost", "ensemble-gbm", "sizing-kelly"})
    void reloadedNativePluginsLeaveNoClassLoaderBehind(String pluginId) throws Exception {
        Path source;
        try (var zips =
                Files.newDirectoryStream(
                        LivePlugins.DISTRIBUTION.resolve("plugins"), pluginId + "-[0-9]*.zip")) {
            source = zips.iterator().next();
        }
        String name = source.getFileName().toString();
        Path zip = dir.resolve(name);
        Files.copy(source, zip);
        String sha = LivePlugins.sha(zip);
        var retired = new ArrayList<WeakReference<ClassLoader>>();
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.refusals()).isEmpty();
            exercise(runtime.predictions(), runtime.sizings());
            for (int i = 0; i < CYCLES; i++) {
                Files.delete(zip);
                PluginTransition out = runtime.apply(Map.of(), Set.of());
                assertThat(out.removed()).hasSize(1);
                out.retire();
                retired.addAll(out.retiredClassLoaders());

                Files.copy(source, zip);
                PluginTransition in = runtime.apply(Map.of(zip, sha), Set.of());
                assertThat(in.added()).hasSize(1);
                exercise(in.addedPredictions(), in.addedSizings());
            }
        }
        int leaked = ReloadLeakIT.collect(retired);
        System.out.printf(
                "NativePluginReloadIT: %s: %d of %d retired class loaders still reachable%n",
                name, leaked, retired.size());
        assertThat(leaked).as("class loaders of %s still reachable after unload", name).isZero();
    }

    /** Fits what is trainable and calls every capability on real bars, as the service would. */
    static void exercise(List<PredictionCapability> predictions, List<SizingCapability> sizings) {
        SourceFitting.fit(predictions, history, 1_000);
        for (PredictionCapability p : predictions) {
            // After the LSTM's and CatBoost's training span (2016-05-28..2018-12-31).
            for (int i = history.size() - 10; i < history.size(); i++) {
                assertThat(p.forecast(features.frame(i)).probabilityUp()).isBetween(0.0, 1.0);
            }
        }
        var signal =
                new FusedSignal(
                        features.frame(history.size() - 1).bar().start(), 0.6, 0.2, 1, List.of());
        for (SizingCapability s : sizings) {
            assertThat(s.size(new SizingContext(signal, 1.0, 0, 1, 0.01, 1.2)).fraction())
                    .isBetween(0.0, 1.0);
        }
    }
}

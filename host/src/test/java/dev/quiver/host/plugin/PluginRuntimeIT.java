package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.QuiverApi;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads the built plugin zips of the distribution through PF4J, as {@code bin/quiver} does. */
class PluginRuntimeIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final Path TEST_PLUGINS = Path.of(System.getProperty("quiver.testPlugins"));

    @TempDir Path dir;

    @Test
    void firstPartyPluginsLoadFromTheirZipsThroughPf4j() throws IOException {
        copyZips(DISTRIBUTION.resolve("plugins"), dir);
        try (var runtime = PluginRuntime.start(dir, Map.of("sizing-fixed.fraction", "0.3"))) {
            assertThat(runtime.refusals()).isEmpty();
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::id)
                    .containsExactlyInAnyOrder(
                            "ensemble-gbm",
                            "ensemble-selector",
                            "prediction-analogs",
                            "prediction-catboost",
                            "prediction-lstm",
                            "prediction-lstm3",
                            "prediction-regime",
                            "prediction-traditional",
                            "sizing-adaptive",
                            "sizing-dqn",
                            "sizing-fixed",
                            "sizing-kelly");
            assertThat(runtime.plugins())
                    .flatExtracting(LoadedPlugin::extensions)
                    .containsExactlyInAnyOrder(
                            "ensemble:selector",
                            "ensemble:stack",
                            "portfolio:kelly_portfolio",
                            "prediction:analogs",
                            "prediction:catboost",
                            "prediction:lightgbm",
                            "prediction:lstm",
                            "prediction:lstm3",
                            "prediction:random_forest",
                            "prediction:regime",
                            "prediction:traditional",
                            "prediction:xgboost",
                            "sizing:dqn",
                            "sizing:fixed",
                            "sizing:kelly",
                            "sizing:kelly_ml",
                            "sizing:kelly_ts");
            // Loaded by the plugin's own class loader, not the host's class path.
            assertThat(runtime.sizings())
                    .allSatisfy(
                            s ->
                                    assertThat(((Guarded) s).delegate().getClass().getClassLoader())
                                            .isNotSameAs(PluginRuntime.class.getClassLoader()));
            // The portfolio sizing extension point (api 1.4.0) is wired from the plugin's own
            // class loader like the others.
            assertThat(runtime.portfolioSizings())
                    .singleElement()
                    .satisfies(
                            p -> {
                                assertThat(p.descriptor().name()).isEqualTo("kelly_portfolio");
                                assertThat(p.getClass().getClassLoader())
                                        .isNotSameAs(PluginRuntime.class.getClassLoader());
                            });
            // Configuration reaches the plugin through the injected PluginContext.
            var fixed =
                    runtime.sizings().stream()
                            .filter(s -> s.descriptor().name().equals("fixed"))
                            .findFirst()
                            .orElseThrow();
            assertThat(fixed.size(dev.quiver.testkit.Fixtures.sizing(0.9, 1, 1)).fraction())
                    .isEqualTo(0.3);
        }
    }

    @Test
    void aPluginBuiltForAnotherApiVersionIsRefusedAloneWithBothVersionsNamed() throws IOException {
        copyZips(DISTRIBUTION.resolve("plugins"), dir);
        Path template = TEST_PLUGINS.resolve("quiver-plugin-template-1.0.0.zip");
        rewriteManifest(
                template,
                dir.resolve("momentum-for-api-2.zip"),
                Map.of("Plugin-Id", "momentum-for-api-2", "Plugin-Requires", ">=2.0.0 & <3.0.0"));
        Trusting.trust(dir);
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.refusals())
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.code()).isEqualTo("PLUGIN_API_MISMATCH");
                                assertThat(r.message())
                                        .startsWith(
                                                "[Quiver/PLUGIN_API_MISMATCH] Plugin"
                                                        + " 'momentum-for-api-2' 1.0.0 requires"
                                                        + " plugins-api >=2.0.0 & <3.0.0; this host"
                                                        + " provides "
                                                        + QuiverApi.VERSION
                                                        + ".");
                            });
            // One unresolvable plugin does not abort the others.
            assertThat(runtime.plugins()).hasSize(12);
        }
    }

    @Test
    void theTemplatePluginLoadsAndForecasts() throws IOException {
        Files.copy(
                TEST_PLUGINS.resolve("quiver-plugin-template-1.0.0.zip"),
                dir.resolve("template.zip"));
        Trusting.trust(dir);
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.refusals()).isEmpty();
            assertThat(runtime.predictions())
                    .singleElement()
                    .satisfies(p -> assertThat(p.descriptor().name()).isEqualTo("momentum"));
        }
    }

    @Test
    void theSelectorIsWiredOnlyWhereTheRegimeCapabilityIs() throws IOException {
        Path plugins = DISTRIBUTION.resolve("plugins");
        for (String zip :
                List.of(
                        "ensemble-selector-1.0.0.zip",
                        "prediction-traditional-1.0.0.zip",
                        "sizing-fixed-1.0.0.zip")) {
            Files.copy(plugins.resolve(zip), dir.resolve(zip));
        }
        Trusting.trust(dir);
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.ensembles()).isEmpty();
            assertThat(runtime.refusals())
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.code()).isEqualTo("CAPABILITY_UNRESOLVED");
                                assertThat(r.pluginId()).isEqualTo("ensemble-selector");
                                assertThat(r.message()).contains("requires quiver.regime");
                            });
        }
        Files.copy(
                plugins.resolve("prediction-regime-1.0.0.zip"),
                dir.resolve("prediction-regime-1.0.0.zip"));
        Trusting.trust(dir);
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.refusals()).isEmpty();
            assertThat(runtime.ensembles())
                    .singleElement()
                    .satisfies(e -> assertThat(e.descriptor().name()).isEqualTo("selector"));
        }
    }

    @Test
    void aFileThatIsNotAPluginIsRefusedAndTheOthersStart() throws IOException {
        copyZips(DISTRIBUTION.resolve("plugins"), dir);
        Files.writeString(dir.resolve("not-a-plugin.zip"), "this is text, not a zip");
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.plugins()).hasSize(12);
            assertThat(runtime.refusals())
                    .singleElement()
                    .satisfies(r -> assertThat(r.message()).contains("not-a-plugin"));
        }
    }

    static void copyZips(Path from, Path to) throws IOException {
        try (Stream<Path> zips = Files.list(from)) {
            for (Path zip : zips.filter(p -> p.toString().endsWith(".zip")).toList()) {
                Files.copy(zip, to.resolve(zip.getFileName()));
            }
        }
    }

    /** Copies a plugin zip, replacing manifest headers. */
    static void rewriteManifest(Path source, Path target, Map<String, String> headers)
            throws IOException {
        try (var zip = new ZipFile(source.toFile());
                OutputStream out = Files.newOutputStream(target);
                var zos = new ZipOutputStream(out)) {
            for (ZipEntry e : List.copyOf(zip.stream().toList())) {
                zos.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream in = zip.getInputStream(e)) {
                    if (e.getName().equals("classes/META-INF/MANIFEST.MF")) {
                        var mf = new Manifest(in);
                        headers.forEach(
                                (k, v) -> mf.getMainAttributes().put(new Attributes.Name(k), v));
                        mf.write(zos);
                    } else {
                        in.transferTo(zos);
                    }
                }
                zos.closeEntry();
            }
        }
    }
}

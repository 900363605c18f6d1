package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.Step;
import dev.quiver.engine.Strategy;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.web.QuiverServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P1 at its count, through the host's own decision path (the walk-forward backtest's
 * {@code SymbolEngine}, not a loop of the test's): beside the real traditional and template
 * plugins, one plugin throws a {@code RuntimeException} from {@code start()}, one an {@code Error},
 * one throws an {@code Error} from {@code stop()}, and one ({@code bad-intermittent}) throws on
 * every 10th forecast, alternating {@code IllegalStateException}, {@code NoClassDefFoundError} and
 * {@code StackOverflowError}. 1,000 bars give 1,000 decisions; the failed starts are FAILED with
 * their exception and never called; each of the 100 failing calls leaves a decision whose failures
 * name the plugin and the exception's class; the states are on REST and the CLI. The FAILED plugins
 * hold no extension in PF4J's extension finder (though their index lists one); when the plugin
 * whose {@code stop()} throws is taken out of the running service, the failure stays in {@code GET
 * /v1/plugins}.
 */
class PluginFaultsIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final String PKG = "dev.quiver.host.plugin.misbehaving.";
    static final int BARS = 1_000;

    @TempDir Path dir;

    /** The folder: 2 good plugins, 1 good sizing plugin, 4 misbehaving ones. */
    void fivePluginsAndTheirVariants() throws IOException {
        Files.copy(
                DISTRIBUTION.resolve("plugins/prediction-traditional-1.0.0.zip"),
                dir.resolve("prediction-traditional-1.0.0.zip"));
        sizingInto(dir);
        Files.copy(ResolutionIT.TEMPLATE, dir.resolve("template.zip"));
        Trusting.trust(
                dir.resolve("prediction-traditional-1.0.0.zip"), dir.resolve("template.zip"));
        zipInto(
                dir,
                "bad-intermittent",
                "quiver.prediction; name=intermittent; horizon=1",
                null,
                PKG + "IntermittentForecaster");
        zipInto(
                dir,
                "bad-start-exception",
                "quiver.prediction; name=steady; horizon=1",
                PKG + "StartThrowingPlugin",
                PKG + "SteadyForecaster");
        zipInto(
                dir,
                "bad-start-error",
                "quiver.prediction; name=steady; horizon=1",
                PKG + "StartErrorPlugin",
                PKG + "SteadyForecaster");
        zipInto(
                dir,
                "bad-stop",
                "quiver.prediction; name=steady; horizon=1",
                PKG + "StopThrowingPlugin",
                PKG + "SteadyForecaster");
    }

    @Test
    void aThousandBarsGiveAThousandDecisionsAndEveryFailureIsNamed() throws Exception {
        fivePluginsAndTheirVariants();
        FeatureMatrix features = FeaturePipeline.compute(BundledData.BTC_USD_4H.load());
        int n = features.bars().size();
        List<Step> steps = new ArrayList<>();
        String pluginsJson;
        String afterRemovalJson;
        Map<String, PluginHealth> health = new HashMap<>();
        List<PluginRefusal> refusals;
        try (var runtime = PluginRuntime.start(dir, Map.of());
                QuiverServer server = QuiverServer.start(runtime, "127.0.0.1", 0, 1.0)) {
            refusals = runtime.refusals();
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::id)
                    .containsExactlyInAnyOrder(
                            "prediction-traditional",
                            "prediction-momentum-template",
                            "sizing-fixed",
                            "bad-intermittent",
                            "bad-stop");
            List<PredictionCapability> sources = runtime.predictions();
            // The failed starts' extension is wired once: from bad-stop, the plugin that started.
            assertThat(sources)
                    .extracting(p -> p.descriptor().name())
                    .containsExactlyInAnyOrder("traditional", "momentum", "intermittent", "steady");
            var strategy = new Strategy(sources, new WeightedFusion(), runtime.sizings());
            var config = WalkForwardBacktest.Config.defaults();
            new WalkForwardBacktest(config)
                    .withoutIntervals()
                    .runPinned(
                            features,
                            strategy,
                            config.rules(),
                            n - BARS,
                            "P1 faults",
                            dev.quiver.host.backtest.Progress.NONE,
                            steps::add,
                            null);
            runtime.health().forEach(h -> health.put(h.pluginId(), h));
            pluginsJson = TrustedPluginsIT.get(server.port(), "/v1/plugins");

            // FAILED plugins hold 0 registered extensions: PF4J's extension finder hands out
            // none for them, though their index lists SteadyForecaster, which the started bad-stop
            // (same class) does have registered; no wired capability is theirs.
            for (String id : List.of("bad-start-exception", "bad-start-error")) {
                var registered = runtime.registeredExtensions(id).orElseThrow();
                assertThat(registered.getKey()).as(id).isEqualTo("FAILED");
                assertThat(registered.getValue()).as(id).isEmpty();
                assertThat(runtime.indexedExtensions(id))
                        .as(id)
                        .containsExactly(PKG + "SteadyForecaster");
            }
            assertThat(runtime.registeredExtensions("bad-stop").orElseThrow().getValue())
                    .containsExactly(PKG + "SteadyForecaster");
            assertThat(runtime.predictions())
                    .extracting(p -> PluginRuntime.pluginIdOf(p).orElse("host"))
                    .doesNotContain("bad-start-exception", "bad-start-error");

            // bad-stop taken out of the running service, as the folder watcher would: its stop()
            // throws an Error, the host goes on, and the failure stays on REST.
            Path badStop = dir.resolve("bad-stop.zip");
            Map<Path, String> settled = new HashMap<>();
            runtime.archives()
                    .forEach(
                            (p, stamp) -> {
                                if (!p.getFileName().equals(badStop.getFileName())) {
                                    settled.put(p, stamp.sha256());
                                }
                            });
            Files.delete(badStop);
            PluginTransition removal = runtime.apply(settled, java.util.Set.of());
            assertThat(removal.removedPluginIds()).containsExactly("bad-stop");
            removal.retire();
            assertThat(runtime.stopFailures())
                    .singleElement()
                    .satisfies(f -> assertThat(f.pluginId()).isEqualTo("bad-stop"))
                    .satisfies(
                            f ->
                                    assertThat(f.exception())
                                            .isEqualTo(
                                                    "java.lang.StackOverflowError: deliberately"
                                                            + " broken stop"));
            afterRemovalJson = TrustedPluginsIT.get(server.port(), "/v1/plugins");
        }
        JsonNode after = new ObjectMapper().readTree(afterRemovalJson);
        assertThat(after.get("plugins"))
                .extracting(p -> p.get("id").asText())
                .doesNotContain("bad-stop")
                .contains("bad-intermittent");
        assertThat(after.get("stop_failures")).hasSize(1);
        assertThat(after.get("stop_failures").get(0).get("plugin_id").asText())
                .isEqualTo("bad-stop");
        assertThat(after.get("stop_failures").get(0).get("state").asText()).isEqualTo("FAILED");
        assertThat(after.get("stop_failures").get(0).get("exception").asText())
                .isEqualTo("java.lang.StackOverflowError: deliberately broken stop");

        // 1,000 bars, 1,000 decisions, each with a decision per policy.
        assertThat(steps).hasSize(BARS);
        assertThat(steps)
                .allSatisfy(s -> assertThat(s.policies()).isNotEmpty())
                .allSatisfy(s -> assertThat(s.forecasts()).isNotEmpty());

        // The starts that threw: FAILED with their exception, never wired, never called.
        assertThat(ResolutionIT.refusal(refusals, "bad-start-exception"))
                .satisfies(r -> assertThat(r.code()).isEqualTo("PLUGIN_NOT_STARTED"))
                .satisfies(
                        r ->
                                assertThat(r.message())
                                        .contains("is FAILED")
                                        .contains(
                                                "java.lang.IllegalStateException: deliberately"
                                                        + " broken start"));
        assertThat(ResolutionIT.refusal(refusals, "bad-start-error"))
                .satisfies(r -> assertThat(r.code()).isEqualTo("PLUGIN_NOT_STARTED"))
                .satisfies(
                        r ->
                                assertThat(r.message())
                                        .contains("is FAILED")
                                        .contains(
                                                "java.lang.NoClassDefFoundError: deliberately"
                                                        + " missing class in start"));
        assertThat(health).doesNotContainKeys("bad-start-exception", "bad-start-error");

        // The intermittent offender: 100 failing calls of 1,000, each named in its decision.
        List<Step> failed =
                steps.stream().filter(s -> s.failures().containsKey("intermittent")).toList();
        assertThat(failed).hasSize(BARS / 10);
        String[] kinds = {
            "java.lang.IllegalStateException",
            "java.lang.NoClassDefFoundError",
            "java.lang.StackOverflowError"
        };
        for (int i = 0; i < failed.size(); i++) {
            Step s = failed.get(i);
            int call = (i + 1) * 10;
            assertThat(s.failures().get("intermittent"))
                    .as("decision at %s", s.barTime())
                    .contains("plugin 'bad-intermittent'")
                    .contains(kinds[(call / 10) % 3 == 1 ? 0 : (call / 10) % 3 == 2 ? 1 : 2])
                    .contains("intermittent failure at call " + call);
            // The fallback: the other sources still decided.
            assertThat(s.forecasts())
                    .extracting(f -> f.source())
                    .doesNotContain("intermittent")
                    .contains("traditional", "momentum", "steady");
            assertThat(s.signal()).isNotNull();
        }
        assertThat(steps.stream().filter(s -> !s.failures().isEmpty()).count())
                .as("decisions with any failed source")
                .isEqualTo(BARS / 10);
        assertThat(health.get("bad-intermittent"))
                .satisfies(h -> assertThat(h.state()).isEqualTo("ACTIVE"))
                .satisfies(h -> assertThat(h.calls()).isEqualTo(BARS))
                .satisfies(h -> assertThat(h.failures()).isEqualTo(BARS / 10));
        assertThat(health.get("prediction-traditional").failures()).isZero();
        assertThat(health.get("bad-stop").calls()).isEqualTo(BARS);

        // The same states on REST.
        JsonNode body = new ObjectMapper().readTree(pluginsJson);
        assertThat(body.toString())
                .contains("bad-start-exception")
                .contains("java.lang.IllegalStateException: deliberately broken start")
                .contains("bad-start-error")
                .contains("java.lang.NoClassDefFoundError: deliberately missing class in start")
                .contains("bad-intermittent");
        System.out.printf(
                "P1: %d bars, %d decisions, %d failing calls of bad-intermittent named, %d"
                        + " refusals%n",
                BARS, steps.size(), failed.size(), refusals.size());
    }

    @Test
    void theCliShowsTheFailedStartsAndTheIntermittentOffender() throws IOException {
        fivePluginsAndTheirVariants();
        var out = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out),
                        new PrintWriter(new StringWriter()),
                        "plugins",
                        "--plugins-dir",
                        dir.toString(),
                        "--probe-bars",
                        "30");
        assertThat(code).as(out.toString()).isEqualTo(1);
        assertThat(out.toString())
                .contains("bad-start-exception")
                .contains("java.lang.IllegalStateException: deliberately broken start")
                .contains("bad-start-error")
                .contains("java.lang.NoClassDefFoundError: deliberately missing class in start")
                .contains("bad-intermittent")
                .contains("30 calls, 3 failed");
    }

    /** Copies the distribution's sizing-fixed plugin into {@code dir} and trusts it. */
    static void sizingInto(Path dir) throws IOException {
        Path sizing;
        try (Stream<Path> s = Files.list(DISTRIBUTION.resolve("plugins"))) {
            sizing =
                    s.filter(p -> p.getFileName().toString().startsWith("sizing-fixed-"))
                            .findFirst()
                            .orElseThrow();
        }
        Files.copy(sizing, dir.resolve(sizing.getFileName()));
        Trusting.trust(dir.resolve(sizing.getFileName()));
    }

    /**
     * Writes {@code dir/<id>.zip}, a trusted plugin of test classes: its manifest (with {@code
     * Plugin-Class} when {@code pluginClass} is not {@code null}), {@code extension} as its one
     * indexed extension, and the classes {@code helpers} beside them.
     */
    static void zipInto(
            Path dir,
            String id,
            String provides,
            String pluginClass,
            String extension,
            String... helpers)
            throws IOException {
        var mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(new Attributes.Name("Plugin-Id"), id);
        a.put(new Attributes.Name("Plugin-Version"), "1.0.0");
        a.put(new Attributes.Name("Plugin-Requires"), ">=1.0.0 & <2.0.0");
        a.put(new Attributes.Name("Provide-Capability"), provides);
        List<String> classes = new ArrayList<>(List.of(extension));
        classes.addAll(List.of(helpers));
        if (pluginClass != null) {
            a.put(new Attributes.Name("Plugin-Class"), pluginClass);
            classes.add(pluginClass);
        }
        try (var zos = new ZipOutputStream(Files.newOutputStream(dir.resolve(id + ".zip")))) {
            zos.putNextEntry(new ZipEntry("classes/META-INF/MANIFEST.MF"));
            mf.write(zos);
            zos.putNextEntry(new ZipEntry("classes/META-INF/extensions.idx"));
            zos.write((extension + "\n").getBytes(StandardCharsets.UTF_8));
            for (String c : classes) {
                String file = c.replace('.', '/') + ".class";
                zos.putNextEntry(new ZipEntry("classes/" + file));
                try (InputStream in = PluginFaultsIT.class.getResourceAsStream("/" + file)) {
                    in.transferTo(zos);
                }
                zos.closeEntry();
            }
        }
        Trusting.trust(dir.resolve(id + ".zip"));
    }
}

package dev.quiver.host.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.live.SmokeCheck;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ModelStore;
import dev.quiver.host.registry.ResolvedModel;
import dev.quiver.host.registry.SmokeSet;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quiver models train} against the real MLflow server: the Java GBM sources are trained on
 * real bars, the training is logged as a run, the model registered as a version, and that version,
 * resolved back from the registry, is served pinned by the plugin and reproduces its smoke cases.
 */
class ModelsTrainIT {

    static final Path PLUGINS =
            Path.of(System.getProperty("quiver.distribution")).resolve("plugins");

    @TempDir Path dir;

    @Test
    void aTrainedGbmIsLoggedRegisteredResolvedAndServedPinned() throws Exception {
        String uri = LocalMlflow.uri();
        for (String source : new String[] {"xgboost", "lightgbm"}) {
            String name = "it-train-" + source + "-" + System.nanoTime();
            var out = new StringWriter();
            var err = new StringWriter();
            int code =
                    Cli.execute(
                            new PrintWriter(out),
                            new PrintWriter(err),
                            "models",
                            "train",
                            "--source",
                            source,
                            "--train-bars",
                            "800",
                            "--out",
                            dir.resolve(source).toString(),
                            "--tracking-uri",
                            uri,
                            "--name",
                            name,
                            "--alias",
                            "champion",
                            "--plugins-dir",
                            PLUGINS.toString());
            assertThat(code).as(out + "\n" + err).isZero();
            var m =
                    Pattern.compile("registered models:/" + name + "/(\\d+) \\(run (\\w+)\\)")
                            .matcher(out.toString());
            assertThat(m.find()).as(out.toString()).isTrue();
            String runId = m.group(2);

            var client = new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
            JsonNode run = client.getRun(runId);
            Map<String, JsonNode> params = MlflowClient.byKey(run.path("data").path("params"));
            Map<String, JsonNode> metrics = MlflowClient.byKey(run.path("data").path("metrics"));
            assertThat(params.get("source").asText()).isEqualTo(source);
            assertThat(params.get("dataset").asText()).isEqualTo("btc-usd-4h");
            assertThat(params.get("train_bars").asText()).isEqualTo("800");
            assertThat(metrics.get("valid_log_loss").asDouble()).isBetween(0.5, 0.8);
            assertThat(metrics.get("rows").asDouble()).isEqualTo(800);
            assertThat(run.path("info").path("run_name").asText()).isEqualTo("train " + source);

            ResolvedModel v =
                    new ModelResolver(Optional.of(client), dir.resolve("cache"))
                            .resolve("models:/" + name + "@champion");
            assertThat(v.runId()).isEqualTo(runId);
            assertThat(v.tags())
                    .containsEntry(ModelStore.TAG_DATASET, "btc-usd-4h")
                    .containsKey(ModelStore.TAG_SMOKE);
            assertThat(v.tags().get(ModelStore.TAG_TRAINING_SPAN)).contains("..");
            try (var runtime =
                    PluginRuntime.start(
                            PLUGINS, Map.of("quiver.plugin.isolation", "same-thread"))) {
                var pinned =
                        runtime.newPrediction(
                                        source,
                                        Map.of(
                                                source + ".model",
                                                v.sidecar().orElseThrow().toString()))
                                .prediction();
                try (pinned) {
                    assertThat(pinned.descriptor().attributes())
                            .containsEntry("training", "registered");
                    SmokeSet smoke = SmokeSet.read(v.dir().resolve(SmokeSet.FILE_NAME));
                    assertThat(smoke.dataset()).isEqualTo("sp500-daily");
                    SmokeCheck.Result r = SmokeCheck.check(pinned, smoke);
                    assertThat(r.passed()).as(r.reason()).isTrue();
                    assertThat(r.cases()).isEqualTo(8);
                }
            }
        }
    }

    @Test
    void aSourceWithoutAModelIsRefusedClearly() {
        var out = new StringWriter();
        var err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out),
                        new PrintWriter(err),
                        "models",
                        "train",
                        "--source",
                        "traditional",
                        "--train-bars",
                        "400",
                        "--out",
                        dir.toString(),
                        "--plugins-dir",
                        PLUGINS.toString());
        assertThat(code).isNotZero();
        assertThat(err.toString())
                .contains("--source traditional")
                .contains("has no model to export");
    }
}

package dev.quiver.host.tracking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.registry.ModelRegistrar;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quiver backtest --tracking-uri} against a real MLflow server: the run's metrics read back
 * equal every figure of {@code report.json} (names MLflow refuses, such as {@code fused@kelly_ts},
 * stored in its characters, {@code fused_kelly_ts}), the params name the data set, plugins and
 * schema, and the report files are downloadable artifacts.
 */
class BacktestTrackingIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));

    @Test
    void backtestRunIsLoggedAndItsMetricsReadBack(@TempDir Path tmp) throws Exception {
        String uri = LocalMlflow.uri();
        var client = new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
        // The LSTM plugin is served a registered version, resolved through the registry.
        Path lstmDir =
                Path.of(
                        "..",
                        "plugins/prediction-lstm/src/main/resources/dev/quiver/plugins/lstm/model");
        String lstm = "tracking-it-lstm-" + Long.toString(System.nanoTime(), 36);
        var registered =
                new ModelRegistrar(client)
                        .register(
                                lstm,
                                lstmDir.resolve("lstm.onnx"),
                                Optional.of(lstmDir.resolve("lstm.json")),
                                List.of("champion"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out),
                        new PrintWriter(err),
                        "backtest",
                        "--dataset",
                        "sp500-daily",
                        "--plugins-dir",
                        DISTRIBUTION.resolve("plugins").toString(),
                        "--config",
                        DISTRIBUTION.resolve("config/quiver.properties").toString(),
                        "--out",
                        tmp.toString(),
                        "--tracking-uri",
                        uri,
                        "--experiment",
                        "tracking-it",
                        "--model",
                        "prediction-lstm=models:/" + lstm + "@champion",
                        "--models-dir",
                        tmp.resolve("models").toString());
        assertThat(code).as("stderr: %s", err).isZero();
        Matcher m = Pattern.compile("mlflow run: ([0-9a-f]{32})").matcher(out.toString());
        assertThat(m.find()).as("stdout names the run: %s", out).isTrue();
        String runId = m.group(1);

        JsonNode run = client.getRun(runId);
        assertThat(run.path("info").path("status").asText()).isEqualTo("FINISHED");

        JsonNode report =
                new ObjectMapper().readTree(tmp.resolve("sp500-daily/report.json").toFile());
        Map<String, Double> figures = BacktestTracking.figures(report);
        Map<String, JsonNode> metrics = MlflowClient.byKey(run.path("data").path("metrics"));
        assertThat(figures)
                .containsKeys(
                        "policies.kelly.sharpe",
                        "policies.fixed.max_drawdown",
                        "policies.buy_and_hold.cagr",
                        "forecasts.fused.log_loss",
                        "forecasts.traditional.brier",
                        "evaluation.no_signal_bars");
        // MlflowClient logs every name in the characters MLflow accepts: the report's
        // fused@kelly_ts (refused by the server as it is) is stored as fused_kelly_ts.
        assertThat(figures).containsKey("forecasts.fused@kelly_ts.log_loss");
        assertThat(metrics)
                .containsKey("forecasts.fused_kelly_ts.log_loss")
                .doesNotContainKey("forecasts.fused@kelly_ts.log_loss");
        assertThat(metrics.keySet())
                .containsExactlyInAnyOrderElementsOf(
                        figures.keySet().stream().map(MlflowClient::metricName).toList());
        figures.forEach(
                (k, v) ->
                        assertThat(metrics.get(MlflowClient.metricName(k)).asDouble())
                                .as(k)
                                .isCloseTo(v, within(1e-12)));

        Map<String, JsonNode> params = MlflowClient.byKey(run.path("data").path("params"));
        assertThat(params.get("dataset").asText()).isEqualTo("sp500-daily");
        assertThat(params.get("feature_schema_hash").asText()).hasSize(64);
        assertThat(params.get("fee_bps").asText()).isEqualTo("10.0");
        assertThat(params.get("plugin.prediction-lstm").asText()).isEqualTo("1.0.0");
        assertThat(params.get("plugin.sizing-kelly").asText()).isEqualTo("1.3.0");
        assertThat(params.get("test_start").asText()).startsWith("20");
        assertThat(params.get("model.prediction-lstm").asText())
                .isEqualTo("models:/" + lstm + "/" + registered.version());
        assertThat(params.get("model.prediction-lstm.sha256").asText())
                .isEqualTo(registered.tags().get("quiver.sha256"));
        assertThat(params.get("model.prediction-lstm.run_id").asText())
                .isEqualTo(registered.runId());
        assertThat(
                        tmp.resolve("models")
                                .resolve(lstm)
                                .resolve(registered.version())
                                .resolve("lstm.onnx"))
                .exists();

        String artifacts = run.path("info").path("artifact_uri").asText();
        JsonNode files = client.http().list(artifacts);
        assertThat(files.findValuesAsText("path"))
                .contains("report.json", "report.html", "equity.png", "drawdown.png");
        Path back = tmp.resolve("report-back.json");
        client.http().download(artifacts, "report.json", back);
        assertThat(Files.readString(back))
                .isEqualTo(Files.readString(tmp.resolve("sp500-daily/report.json")));
    }
}

package dev.quiver.host.tracking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.mlflow.MlflowClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Logs one backtest as an MLflow run: parameters, every figure of {@code report.json} as a metric,
 * and the report files as artifacts.
 *
 * <p>Metric names are the JSON paths of the figures, e.g. {@code policies.kelly.sharpe}, {@code
 * forecasts.fused.log_loss}, {@code evaluation.no_signal_bars} (logged in the characters MLflow
 * accepts, {@link MlflowClient#metricName}); null figures (undefined, e.g. a Sharpe ratio of a flat
 * curve) are left out. Fold tables (arrays) are not metrics; they travel in {@code report.json}.
 */
public final class BacktestTracking {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final MlflowClient client;

    /**
     * Logs through the given client.
     *
     * @param client MLflow client
     */
    public BacktestTracking(MlflowClient client) {
        this.client = client;
    }

    /**
     * Every numeric figure of a report, keyed by its JSON path.
     *
     * @param report {@code report.json}
     * @return path to value, sorted by path
     */
    public static Map<String, Double> figures(JsonNode report) {
        Map<String, Double> out = new TreeMap<>();
        walk(report, "", out);
        return out;
    }

    private static void walk(JsonNode node, String path, Map<String, Double> out) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                walk(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), out);
            }
        } else if (node.isNumber() && Double.isFinite(node.asDouble())) {
            out.put(path, node.asDouble());
        }
    }

    /**
     * Logs a run and ends it {@code FINISHED}; a failure while logging ends it {@code FAILED}.
     *
     * @param experiment experiment name, created if missing
     * @param runName run name
     * @param params parameters (data set, span, plugins, schema, costs)
     * @param reportDir folder with {@code report.json} and the files to upload
     * @return the run
     * @throws IOException if the report cannot be read
     */
    public MlflowClient.Run log(
            String experiment, String runName, Map<String, String> params, Path reportDir)
            throws IOException {
        JsonNode report = JSON.readTree(reportDir.resolve("report.json").toFile());
        long now = System.currentTimeMillis();
        String experimentId = client.experimentId(experiment);
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("mlflow.source.name", "quiver backtest");
        tags.put("mlflow.source.type", "LOCAL");
        tags.put("quiver.kind", "backtest");
        MlflowClient.Run run = client.createRun(experimentId, runName, now, tags);
        boolean ok = false;
        try {
            client.logBatch(run.runId(), params, figures(report), now);
            List<Path> files;
            try (Stream<Path> s = Files.list(reportDir)) {
                files = s.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path f : files) {
                client.http().upload(run.artifactUri(), f.getFileName().toString(), f);
            }
            ok = true;
        } finally {
            client.endRun(run.runId(), ok ? "FINISHED" : "FAILED", System.currentTimeMillis());
        }
        return run;
    }
}

package dev.quiver.host.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The MLflow tracking and model-registry calls Quiver makes, over {@link MlflowHttp}.
 *
 * <p>Why not {@code org.mlflow:mlflow-client}: it has no registered-model alias or MLflow 3
 * logged-model calls and its artifact methods shell out to a Python {@code mlflow} CLI; the REST
 * calls below are few and plain JSON.
 */
public final class MlflowClient {

    /** MLflow's limits per {@code runs/log-batch} call. */
    static final int MAX_METRICS_PER_BATCH = 1000;

    static final int MAX_PARAMS_PER_BATCH = 100;

    private final MlflowHttp http;

    /**
     * A client over the given transport.
     *
     * @param http the transport
     */
    public MlflowClient(MlflowHttp http) {
        this.http = http;
    }

    /**
     * The transport (for artifact transfers).
     *
     * @return the transport
     */
    public MlflowHttp http() {
        return http;
    }

    /**
     * The id of the experiment with this name, created if it does not exist.
     *
     * @param name experiment name
     * @return its id
     */
    public String experimentId(String name) {
        try {
            return http.get("experiments/get-by-name", Map.of("experiment_name", name))
                    .path("experiment")
                    .path("experiment_id")
                    .asText();
        } catch (MlflowException e) {
            if (!e.notFound()) {
                throw e;
            }
        }
        ObjectNode body = MlflowHttp.JSON.createObjectNode().put("name", name);
        try {
            return http.post("experiments/create", body).path("experiment_id").asText();
        } catch (MlflowException e) {
            if ("RESOURCE_ALREADY_EXISTS".equals(e.errorCode())) { // created meanwhile
                return http.get("experiments/get-by-name", Map.of("experiment_name", name))
                        .path("experiment")
                        .path("experiment_id")
                        .asText();
            }
            throw e;
        }
    }

    /**
     * A created run.
     *
     * @param runId run id
     * @param artifactUri where its artifacts go, {@code mlflow-artifacts:/...}
     */
    public record Run(String runId, String artifactUri) {}

    /**
     * Creates a run.
     *
     * @param experimentId experiment id
     * @param runName display name
     * @param startTimeMs start, epoch ms
     * @param tags run tags
     * @return the run
     */
    public Run createRun(
            String experimentId, String runName, long startTimeMs, Map<String, String> tags) {
        ObjectNode body =
                MlflowHttp.JSON
                        .createObjectNode()
                        .put("experiment_id", experimentId)
                        .put("run_name", runName)
                        .put("start_time", startTimeMs);
        body.set("tags", keyValues(tags));
        JsonNode info = http.post("runs/create", body).path("run").path("info");
        return new Run(info.path("run_id").asText(), info.path("artifact_uri").asText());
    }

    /**
     * Logs params and metrics (at step 0) in batches within MLflow's limits.
     *
     * @param runId run id
     * @param params parameters (values are cut to MLflow's 6000 characters)
     * @param metrics metrics, finite values only; each name is logged as {@link #metricName}
     * @param timestampMs metric timestamp, epoch ms
     * @throws IllegalArgumentException if two metric names become the same legal name
     */
    public void logBatch(
            String runId,
            Map<String, String> params,
            Map<String, Double> metrics,
            long timestampMs) {
        List<Map.Entry<String, String>> ps = new ArrayList<>(params.entrySet());
        for (int i = 0; i < ps.size(); i += MAX_PARAMS_PER_BATCH) {
            ObjectNode body = MlflowHttp.JSON.createObjectNode().put("run_id", runId);
            ArrayNode arr = body.putArray("params");
            for (var e : ps.subList(i, Math.min(ps.size(), i + MAX_PARAMS_PER_BATCH))) {
                String v = e.getValue();
                arr.addObject()
                        .put("key", e.getKey())
                        .put("value", v.length() > 6000 ? v.substring(0, 6000) : v);
            }
            http.post("runs/log-batch", body);
        }
        postMetrics(
                runId,
                metrics.entrySet().stream()
                        .map(e -> new Metric(e.getKey(), e.getValue(), 0))
                        .toList(),
                timestampMs);
    }

    /**
     * One metric value at a step (a series, e.g. one value per trial).
     *
     * @param key metric name
     * @param value its value, finite
     * @param step the step, {@code >= 0}
     */
    public record Metric(String key, double value, long step) {}

    /**
     * Logs metric values at their steps, in batches within MLflow's limits.
     *
     * @param runId run id
     * @param metrics the values; non-finite values are left out (MLflow stores no NaN for them);
     *     each name is logged as {@link #metricName}
     * @param timestampMs metric timestamp, epoch ms
     * @throws IllegalArgumentException if two metric names become the same legal name
     */
    public void logMetrics(String runId, List<Metric> metrics, long timestampMs) {
        postMetrics(
                runId,
                metrics.stream().filter(m -> Double.isFinite(m.value())).toList(),
                timestampMs);
    }

    private void postMetrics(String runId, List<Metric> metrics, long timestampMs) {
        Map<String, String> givenByLegal = new LinkedHashMap<>();
        for (Metric m : metrics) {
            String legal = metricName(m.key());
            String given = givenByLegal.putIfAbsent(legal, m.key());
            if (given != null && !given.equals(m.key())) {
                throw new IllegalArgumentException(
                        "metrics '"
                                + given
                                + "' and '"
                                + m.key()
                                + "' would both be logged to MLflow as '"
                                + legal
                                + "'");
            }
        }
        for (int i = 0; i < metrics.size(); i += MAX_METRICS_PER_BATCH) {
            ObjectNode body = MlflowHttp.JSON.createObjectNode().put("run_id", runId);
            ArrayNode arr = body.putArray("metrics");
            for (Metric m :
                    metrics.subList(i, Math.min(metrics.size(), i + MAX_METRICS_PER_BATCH))) {
                arr.addObject()
                        .put("key", metricName(m.key()))
                        .put("value", m.value())
                        .put("timestamp", timestampMs)
                        .put("step", m.step());
            }
            http.post("runs/log-batch", body);
        }
    }

    /**
     * Ends a run.
     *
     * @param runId run id
     * @param status {@code FINISHED} or {@code FAILED}
     * @param endTimeMs end, epoch ms
     */
    public void endRun(String runId, String status, long endTimeMs) {
        http.post(
                "runs/update",
                MlflowHttp.JSON
                        .createObjectNode()
                        .put("run_id", runId)
                        .put("status", status)
                        .put("end_time", endTimeMs));
    }

    /**
     * A run's params, metrics (latest values) and tags.
     *
     * @param runId run id
     * @return {@code run} as MLflow returns it
     */
    public JsonNode getRun(String runId) {
        return http.get("runs/get", Map.of("run_id", runId)).path("run");
    }

    /**
     * A metric name MLflow accepts: every character outside its allowed set (letters, digits,
     * {@code _ - . / :} and space; MLflow's {@code mlflow/utils/validation.py}, {@code
     * _VALID_PARAM_AND_METRIC_NAMES}) replaced by {@code _}, e.g. the report's {@code
     * fused@kelly_ts} becomes {@code fused_kelly_ts} (the tracking server answers 400
     * INVALID_PARAMETER_VALUE to the name as it is). {@link #logBatch} and {@link #logMetrics} log
     * every metric under this name.
     *
     * @param name a figure's name
     * @return the name MLflow stores it under
     */
    public static String metricName(String name) {
        return name.replaceAll("[^A-Za-z0-9_\\-. /:]", "_");
    }

    /**
     * Key/value pairs of a {@code [{key, value}]} array (tags, params, latest metrics).
     *
     * @param array the array
     * @return in order
     */
    public static Map<String, JsonNode> byKey(JsonNode array) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (JsonNode n : array) {
            out.put(n.path("key").asText(), n.path("value"));
        }
        return out;
    }

    // ---- MLflow 3 logged models and the model registry ----

    /**
     * A logged model (MLflow 3): the home of a registered version's files.
     *
     * @param modelId e.g. {@code m-0123...}
     * @param artifactUri {@code mlflow-artifacts:/<exp>/models/<id>/artifacts}
     */
    public record LoggedModel(String modelId, String artifactUri) {}

    /**
     * Creates a pending logged model under a run.
     *
     * @param experimentId experiment id
     * @param name model name
     * @param sourceRunId run that produced it
     * @param tags tags
     * @return the logged model
     */
    public LoggedModel createLoggedModel(
            String experimentId, String name, String sourceRunId, Map<String, String> tags) {
        ObjectNode body =
                MlflowHttp.JSON
                        .createObjectNode()
                        .put("experiment_id", experimentId)
                        .put("name", name)
                        .put("source_run_id", sourceRunId);
        body.set("tags", keyValues(tags));
        JsonNode info = http.post("logged-models", body).path("model").path("info");
        return new LoggedModel(info.path("model_id").asText(), info.path("artifact_uri").asText());
    }

    /**
     * Marks a logged model's upload complete.
     *
     * @param modelId model id
     */
    public void finalizeLoggedModel(String modelId) {
        http.patch(
                "logged-models/" + modelId,
                MlflowHttp.JSON
                        .createObjectNode()
                        .put("model_id", modelId)
                        .put("status", "LOGGED_MODEL_READY"));
    }

    /**
     * Creates the registered model if it does not exist.
     *
     * @param name registered model name
     */
    public void ensureRegisteredModel(String name) {
        try {
            http.post(
                    "registered-models/create",
                    MlflowHttp.JSON.createObjectNode().put("name", name));
        } catch (MlflowException e) {
            if (!"RESOURCE_ALREADY_EXISTS".equals(e.errorCode())) {
                throw e;
            }
        }
    }

    /**
     * Creates a model version whose files are the logged model's.
     *
     * @param name registered model name
     * @param model the logged model
     * @param runId source run
     * @param tags version tags
     * @return the version number
     */
    public String createModelVersion(
            String name, LoggedModel model, String runId, Map<String, String> tags) {
        ObjectNode body =
                MlflowHttp.JSON
                        .createObjectNode()
                        .put("name", name)
                        .put("source", "models:/" + model.modelId())
                        .put("run_id", runId)
                        .put("model_id", model.modelId());
        body.set("tags", keyValues(tags));
        return http.post("model-versions/create", body)
                .path("model_version")
                .path("version")
                .asText();
    }

    /**
     * Creates a model version whose files are a folder of a run's artifacts (no logged model): its
     * download URI is that folder.
     *
     * @param name registered model name
     * @param source the folder, {@code mlflow-artifacts:/<exp>/<run>/artifacts/<path>}
     * @param runId the run that holds it
     * @param tags version tags
     * @return the version number
     */
    public String createModelVersionFrom(
            String name, String source, String runId, Map<String, String> tags) {
        ObjectNode body =
                MlflowHttp.JSON
                        .createObjectNode()
                        .put("name", name)
                        .put("source", source)
                        .put("run_id", runId);
        body.set("tags", keyValues(tags));
        return http.post("model-versions/create", body)
                .path("model_version")
                .path("version")
                .asText();
    }

    /**
     * Points an alias at a version.
     *
     * @param name registered model name
     * @param alias e.g. {@code champion}
     * @param version version number
     */
    public void setAlias(String name, String alias, String version) {
        http.post(
                "registered-models/alias",
                MlflowHttp.JSON
                        .createObjectNode()
                        .put("name", name)
                        .put("alias", alias)
                        .put("version", version));
    }

    /**
     * Removes an alias (the version stays).
     *
     * @param name registered model name
     * @param alias e.g. {@code challenger}
     * @throws MlflowException if the registry refuses or is unreachable; MLflow answers success for
     *     an alias that does not exist
     */
    public void deleteAlias(String name, String alias) {
        http.delete(
                "registered-models/alias",
                MlflowHttp.JSON.createObjectNode().put("name", name).put("alias", alias));
    }

    /**
     * The version an alias points at.
     *
     * @param name registered model name
     * @param alias alias
     * @return {@code model_version} as MLflow returns it
     */
    public JsonNode versionByAlias(String name, String alias) {
        return http.get("registered-models/alias", Map.of("name", name, "alias", alias))
                .path("model_version");
    }

    /**
     * One version.
     *
     * @param name registered model name
     * @param version version number
     * @return {@code model_version} as MLflow returns it
     */
    public JsonNode modelVersion(String name, String version) {
        return http.get("model-versions/get", Map.of("name", name, "version", version))
                .path("model_version");
    }

    /**
     * Where a version's files are: MLflow 3 keeps them with the version's logged model.
     *
     * @param name registered model name
     * @param version version number
     * @return {@code mlflow-artifacts:/...}
     */
    public String downloadUri(String name, String version) {
        return http.get("model-versions/get-download-uri", Map.of("name", name, "version", version))
                .path("artifact_uri")
                .asText();
    }

    /**
     * Sets one version tag.
     *
     * @param name registered model name
     * @param version version number
     * @param key tag key
     * @param value tag value
     */
    public void setVersionTag(String name, String version, String key, String value) {
        http.post(
                "model-versions/set-tag",
                MlflowHttp.JSON
                        .createObjectNode()
                        .put("name", name)
                        .put("version", version)
                        .put("key", key)
                        .put("value", value));
    }

    static ArrayNode keyValues(Map<String, String> kv) {
        ArrayNode arr = MlflowHttp.JSON.createArrayNode();
        kv.forEach((k, v) -> arr.addObject().put("key", k).put("value", v));
        return arr;
    }

    /**
     * A tag of a version, if present.
     *
     * @param version {@code model_version} node
     * @param key tag key
     * @return the value
     */
    public static Optional<String> tag(JsonNode version, String key) {
        return Optional.ofNullable(byKey(version.path("tags")).get(key)).map(JsonNode::asText);
    }
}

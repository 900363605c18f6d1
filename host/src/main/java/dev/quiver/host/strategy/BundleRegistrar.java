package dev.quiver.host.strategy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.registry.ModelStore;
import dev.quiver.host.registry.ModelUri;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Registers a strategy bundle as a version of a registered model: the fit is logged as an MLflow
 * run (parameters: data set, spans, settings, plugin versions; metrics: every figure of the
 * manifest's {@code walk_forward}), the bundle folder and its smoke file are uploaded as the run's
 * artifacts ({@code strategy/bundle/...}, {@code strategy/smoke.json}; the walk-forward report, if
 * given, under {@code report/}), and a model version is created from {@code strategy/} with the
 * tags below. {@link StrategyResolver} downloads and verifies it.
 *
 * <p>Version tags: {@value #TAG_KIND} = {@value #KIND}, {@value #TAG_BUNDLE_FORMAT}, {@value
 * #TAG_MANIFEST_SHA256}, {@code quiver.feature_schema_hash}, {@code quiver.dataset}, {@code
 * quiver.training_span} (the final fit's window, {@code FIRST..LAST}), {@value #TAG_SERVES_FROM},
 * {@value #TAG_EXPIRES_AT}, {@value #TAG_WALK_FORWARD_SPAN}, the headline figures {@code
 * quiver.wf.<policy>.cagr|sharpe|max_drawdown} and {@code quiver.wf.fused.log_loss|brier|ece},
 * {@code quiver.smoke} = {@code smoke.json} and {@code quiver.smoke_sha256}.
 */
public final class BundleRegistrar {

    /** Experiment the fits are logged to unless told otherwise. */
    public static final String EXPERIMENT = "quiver-strategy";

    /** Tag that says what a registered version is. */
    public static final String TAG_KIND = "quiver.kind";

    /** {@value #TAG_KIND} of a strategy bundle. */
    public static final String KIND = "quiver-strategy";

    /** Tag: the bundle's manifest format ({@link StrategyBundle#FORMAT}). */
    public static final String TAG_BUNDLE_FORMAT = "quiver.bundle_format";

    /** Tag: lower-case hex sha256 of the bundle's {@code manifest.json}. */
    public static final String TAG_MANIFEST_SHA256 = "quiver.manifest_sha256";

    /** Tag: the first bar the bundle serves. */
    public static final String TAG_SERVES_FROM = "quiver.serves_from";

    /** Tag: when the bundle's decisions start to abstain. */
    public static final String TAG_EXPIRES_AT = "quiver.expires_at";

    /** Tag: the walk-forward's out-of-sample span, {@code FIRST..LAST}. */
    public static final String TAG_WALK_FORWARD_SPAN = "quiver.walk_forward_span";

    /** Folder of a version's files under the run's artifacts (the version's source). */
    public static final String ARTIFACT_DIR = "strategy";

    /** The bundle's folder inside {@link #ARTIFACT_DIR}. */
    public static final String BUNDLE_DIR = "bundle";

    private final MlflowClient client;

    /**
     * A registrar.
     *
     * @param client the registry
     */
    public BundleRegistrar(MlflowClient client) {
        this.client = client;
    }

    /**
     * A registered version.
     *
     * @param name registered model name
     * @param version version number
     * @param runId the run that logged the fit and holds the files
     * @param experimentId the run's experiment
     * @param tags the version's tags
     */
    public record Registered(
            String name,
            String version,
            String runId,
            String experimentId,
            Map<String, String> tags) {}

    /**
     * The version tags of a bundle (see the class comment).
     *
     * @param bundle a verified bundle
     * @param smoke its smoke file, if any
     * @return the tags
     */
    public static Map<String, String> tagsFor(StrategyBundle bundle, Optional<Path> smoke) {
        JsonNode m = bundle.manifest();
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put(TAG_KIND, KIND);
        tags.put(TAG_BUNDLE_FORMAT, m.path("format").asText());
        tags.put(TAG_MANIFEST_SHA256, sha256(bundle.dir().resolve(StrategyBundle.MANIFEST)));
        tags.put(ModelStore.TAG_SCHEMA_HASH, m.path("feature_schema").path("hash").asText());
        tags.put(ModelStore.TAG_DATASET, m.path("dataset").asText());
        JsonNode window = m.path("components").path("ensemble").path("training");
        tags.put(
                ModelStore.TAG_TRAINING_SPAN,
                window.path("first_bar").asText() + ".." + window.path("last_bar").asText());
        tags.put(TAG_SERVES_FROM, m.path("serves_from").asText());
        tags.put(TAG_EXPIRES_AT, bundle.expiresAt(Optional.empty()).toString());
        JsonNode wf = m.path("walk_forward");
        tags.put(
                TAG_WALK_FORWARD_SPAN,
                wf.path("test_from").asText() + ".." + wf.path("test_to").asText());
        for (var p : wf.path("policies").properties()) {
            for (String k : List.of("cagr", "sharpe", "max_drawdown")) {
                tags.put("quiver.wf." + p.getKey() + "." + k, figure(p.getValue().path(k)));
            }
        }
        JsonNode fused = wf.path("forecasts").path("fused");
        for (String k : List.of("log_loss", "brier", "ece")) {
            tags.put("quiver.wf.fused." + k, figure(fused.path(k)));
        }
        if (smoke.isPresent()) {
            tags.put(ModelStore.TAG_SMOKE, StrategySmoke.FILE_NAME);
            tags.put(ModelStore.TAG_SMOKE_SHA256, sha256(smoke.get()));
        }
        return tags;
    }

    /**
     * The fit's parameters for its run: data set, spans, settings, plugin and capability versions.
     *
     * @param bundle a verified bundle
     * @return flat {@code key -> value}, e.g. {@code settings.fee_bps}, {@code plugin.sizing-kelly}
     */
    public static Map<String, String> paramsFor(StrategyBundle bundle) {
        JsonNode m = bundle.manifest();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("dataset", m.path("dataset").asText());
        p.put("interval", m.path("interval").asText());
        p.put("serves_from", m.path("serves_from").asText());
        p.put("max_age", m.path("max_age").asText());
        p.put("created", m.path("created").asText());
        JsonNode window = m.path("components").path("ensemble").path("training");
        p.put("final_fit_first_bar", window.path("first_bar").asText());
        p.put("final_fit_last_bar", window.path("last_bar").asText());
        p.put("final_fit_rows", window.path("rows").asText());
        JsonNode wf = m.path("walk_forward");
        p.put("walk_forward_folds", wf.path("folds").asText());
        p.put("walk_forward_test_from", wf.path("test_from").asText());
        p.put("walk_forward_test_to", wf.path("test_to").asText());
        JsonNode schema = m.path("feature_schema");
        p.put(
                "feature_schema",
                schema.path("name").asText() + " v" + schema.path("version").asText());
        p.put("feature_schema_hash", schema.path("hash").asText());
        p.put("plugins_api", m.path("api_version").asText());
        flatten("settings", m.path("settings"), p);
        for (var e : m.path("plugins").properties()) {
            p.put("plugin." + e.getKey(), e.getValue().asText());
        }
        for (StrategyBundle.Component c : bundle.components()) {
            p.put(
                    "component." + c.kind() + "." + c.name(),
                    c.plugin() + " " + c.version() + (c.files().isEmpty() ? "" : " (fitted)"));
        }
        for (var e : m.path("left_out").properties()) {
            p.put("left_out." + e.getKey(), e.getValue().asText());
        }
        return p;
    }

    /**
     * The walk-forward's figures for the run: every number under the manifest's {@code
     * walk_forward.policies} and {@code walk_forward.forecasts}, as {@code wf.<name>.<figure>}.
     *
     * @param bundle a verified bundle
     * @return finite figures only (a figure the manifest records as null is left out)
     */
    public static Map<String, Double> metricsFor(StrategyBundle bundle) {
        JsonNode wf = bundle.manifest().path("walk_forward");
        Map<String, Double> out = new LinkedHashMap<>();
        for (String group : List.of("policies", "forecasts")) {
            for (var e : wf.path(group).properties()) {
                for (var f : e.getValue().properties()) {
                    if (f.getValue().isNumber() && Double.isFinite(f.getValue().asDouble())) {
                        out.put("wf." + e.getKey() + "." + f.getKey(), f.getValue().asDouble());
                    }
                }
            }
        }
        out.put("wf.folds", wf.path("folds").asDouble());
        out.put("wf.test_bars", wf.path("test_bars").asDouble());
        return out;
    }

    /**
     * Logs the fit as a run, uploads the bundle and its smoke file (and the report), registers a
     * version of {@code name} from them, and points the aliases at it.
     *
     * @param experiment the run's experiment, created if missing
     * @param name registered model name
     * @param bundle the verified bundle
     * @param smoke its recorded decisions
     * @param report the walk-forward report folder, uploaded under {@code report/}, if any
     * @param extraParams further run parameters (e.g. the data file, {@code --until})
     * @param aliases aliases to point at the new version; none moves unless named here
     * @return the version
     * @throws IllegalArgumentException if the name cannot be a registered model name
     */
    public Registered register(
            String experiment,
            String name,
            StrategyBundle bundle,
            Path smoke,
            Optional<Path> report,
            Map<String, String> extraParams,
            List<String> aliases) {
        Map<String, Path> files = new TreeMap<>();
        for (String rel : listed(bundle)) {
            files.put(BUNDLE_DIR + "/" + rel, bundle.dir().resolve(rel));
        }
        files.put(
                BUNDLE_DIR + "/" + StrategyBundle.MANIFEST,
                bundle.dir().resolve(StrategyBundle.MANIFEST));
        files.put(StrategySmoke.FILE_NAME, smoke);
        Map<String, String> params = paramsFor(bundle);
        params.putAll(extraParams);
        Registered r =
                registerFiles(
                        experiment,
                        name,
                        files,
                        tagsFor(bundle, Optional.of(smoke)),
                        params,
                        metricsFor(bundle),
                        report);
        for (String alias : aliases) {
            client.setAlias(name, alias, r.version());
        }
        return r;
    }

    /**
     * Uploads files as they are and registers them with the given tags, no checks: the low-level
     * step of {@link #register}, also used by tests to register damaged versions.
     *
     * @param experiment the run's experiment
     * @param name registered model name
     * @param files path under {@value #ARTIFACT_DIR}/ to local file
     * @param tags version tags
     * @param params run parameters
     * @param metrics run metrics
     * @param report a folder uploaded under {@code report/}, if any
     * @return the version
     */
    public Registered registerFiles(
            String experiment,
            String name,
            Map<String, Path> files,
            Map<String, String> tags,
            Map<String, String> params,
            Map<String, Double> metrics,
            Optional<Path> report) {
        ModelUri.parse("models:/" + name + "/1"); // the name must be usable as a folder
        long now = System.currentTimeMillis();
        String experimentId = client.experimentId(experiment);
        Map<String, String> runTags = new LinkedHashMap<>();
        runTags.put(TAG_KIND, "strategy-fit");
        runTags.put("mlflow.source.name", "quiver strategy fit");
        runTags.put(TAG_MANIFEST_SHA256, tags.getOrDefault(TAG_MANIFEST_SHA256, ""));
        MlflowClient.Run run =
                client.createRun(
                        experimentId,
                        "strategy fit " + params.getOrDefault("dataset", name),
                        now,
                        runTags);
        boolean ok = false;
        try {
            Map<String, String> p = new LinkedHashMap<>(params);
            p.put("registered_model", name);
            client.logBatch(run.runId(), p, metrics, now);
            files.forEach(
                    (rel, f) ->
                            client.http().upload(run.artifactUri(), ARTIFACT_DIR + "/" + rel, f));
            if (report.isPresent()) {
                for (var e : filesUnder(report.get()).entrySet()) {
                    client.http().upload(run.artifactUri(), "report/" + e.getKey(), e.getValue());
                }
            }
            client.ensureRegisteredModel(name);
            String version =
                    client.createModelVersionFrom(
                            name, run.artifactUri() + "/" + ARTIFACT_DIR, run.runId(), tags);
            ok = true;
            return new Registered(name, version, run.runId(), experimentId, Map.copyOf(tags));
        } finally {
            client.endRun(run.runId(), ok ? "FINISHED" : "FAILED", System.currentTimeMillis());
        }
    }

    /** The files the manifest lists (relative paths). */
    private static List<String> listed(StrategyBundle bundle) {
        List<String> out = new java.util.ArrayList<>();
        bundle.manifest().path("files").fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** Every regular file under a folder, by relative path. */
    static Map<String, Path> filesUnder(Path dir) {
        Map<String, Path> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isRegularFile(p)) {
                    out.put(dir.relativize(p).toString().replace('\\', '/'), p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return out;
    }

    private static String figure(JsonNode n) {
        return n.isNumber() ? n.asText() : "none";
    }

    private static String sha256(Path file) {
        try {
            return ModelStore.sha256(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void flatten(String prefix, JsonNode n, Map<String, String> out) {
        if (n.isObject()) {
            for (var e : n.properties()) {
                flatten(prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else {
            out.put(prefix, n.isNull() ? "none" : n.asText());
        }
    }
}

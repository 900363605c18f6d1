package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.mlflow.MlflowClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Registers a model file (and its sidecar) as a new version of a registered model: a run in the
 * {@code quiver-models} experiment, an MLflow 3 logged model holding the files (uploaded through
 * the server's artifact proxy), and a model version pointing at it, tagged with the model file,
 * format, size, sha256, feature schema hash, training span and data set (taken from the sidecar),
 * and signed ({@link ModelSigner}) when a signing key is configured.
 */
public final class ModelRegistrar {

    /** Experiment the registration runs are logged to. */
    public static final String EXPERIMENT = "quiver-models";

    private final MlflowClient client;
    private final Optional<ModelSigner> signer;

    /**
     * A registrar that signs with the configured key ({@link ModelSigner#configured()}), if any.
     *
     * @param client the registry
     * @throws IllegalArgumentException if the configured signing key cannot be read
     */
    public ModelRegistrar(MlflowClient client) {
        this(client, ModelSigner.configured());
    }

    /**
     * A registrar.
     *
     * @param client the registry
     * @param signer signs each version it registers ({@link ModelTrust}), or empty: unsigned
     */
    public ModelRegistrar(MlflowClient client, Optional<ModelSigner> signer) {
        this.client = client;
        this.signer = signer;
    }

    /**
     * A registered version.
     *
     * @param name registered model name
     * @param version version number
     * @param runId registration run
     * @param tags version tags
     */
    public record Registered(String name, String version, String runId, Map<String, String> tags) {}

    /**
     * The tags describing a model file and its sidecar.
     *
     * @param modelFile the model file (format from its extension, allow-listed)
     * @param sidecar its sidecar JSON ({@code schema.hash}, {@code training.series}, {@code
     *     training.first_bar}/{@code last_bar}), if any
     * @return the tags
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the format is not accepted
     */
    public static Map<String, String> tagsFor(Path modelFile, Optional<Path> sidecar)
            throws IOException {
        String file = modelFile.getFileName().toString();
        ModelFormat format =
                ModelFormat.byFileName(file)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/BAD_OPTION] --model "
                                                        + modelFile
                                                        + ": not an accepted format (.onnx, .json,"
                                                        + " .ubj, .txt, .cbm)"));
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put(ModelStore.TAG_MODEL_FILE, file);
        tags.put(ModelStore.TAG_FORMAT, format.tag());
        tags.put(ModelStore.TAG_TASK, ModelFormat.TASK_CLASSIFIER);
        tags.put(ModelStore.TAG_SIZE, Long.toString(Files.size(modelFile)));
        tags.put(ModelStore.TAG_SHA256, ModelStore.sha256(modelFile));
        if (sidecar.isPresent()) {
            JsonNode s = ModelStore.JSON.readTree(sidecar.get().toFile());
            tags.put(ModelStore.TAG_SIDECAR, sidecar.get().getFileName().toString());
            tags.put(ModelStore.TAG_SCHEMA_HASH, s.path("schema").path("hash").asText(""));
            JsonNode t = s.path("training");
            tags.put(ModelStore.TAG_DATASET, t.path("series").asText(""));
            tags.put(
                    ModelStore.TAG_TRAINING_SPAN,
                    t.path("first_bar").asText("") + ".." + t.path("last_bar").asText(""));
        }
        return tags;
    }

    /**
     * Registers a model file and its sidecar, optionally pointing aliases at the new version.
     *
     * @param name registered model name
     * @param modelFile the model file
     * @param sidecar its sidecar, if any
     * @param aliases aliases to point at the new version, e.g. {@code champion}
     * @return the version
     * @throws IOException if a file cannot be read
     */
    public Registered register(
            String name, Path modelFile, Optional<Path> sidecar, List<String> aliases)
            throws IOException {
        return register(name, modelFile, sidecar, Optional.empty(), aliases);
    }

    /**
     * Registers a model file, its sidecar and its smoke file ({@link SmokeSet}, stored as {@code
     * smoke.json}, tagged {@code quiver.smoke}, {@code quiver.smoke_sha256} and {@code
     * quiver.plugin}), optionally pointing aliases at the new version.
     *
     * @param name registered model name
     * @param modelFile the model file
     * @param sidecar its sidecar, if any
     * @param smoke recorded inputs and expected outputs, if any
     * @param aliases aliases to point at the new version, e.g. {@code champion}
     * @return the version
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the smoke file is not a valid {@link SmokeSet}
     */
    public Registered register(
            String name,
            Path modelFile,
            Optional<Path> sidecar,
            Optional<Path> smoke,
            List<String> aliases)
            throws IOException {
        return register(name, modelFile, sidecar, smoke, aliases, Training.NONE);
    }

    /**
     * What the run that registers a version records about the training that produced it: the
     * training's parameters and figures, logged with the registration's tags.
     *
     * @param runName the MLflow run's name, e.g. {@code train xgboost}; empty for the default
     * @param params e.g. {@code source}, {@code dataset}, {@code train_bars}
     * @param metrics e.g. {@code valid_log_loss}, {@code rows}, {@code rounds}
     */
    public record Training(
            String runName, Map<String, String> params, Map<String, Double> metrics) {

        /** No training information: a plain registration. */
        public static final Training NONE = new Training("", Map.of(), Map.of());

        /** Copies the maps. */
        public Training {
            params = Map.copyOf(params);
            metrics = Map.copyOf(metrics);
        }
    }

    /**
     * Registers as {@link #register(String, Path, Optional, Optional, List)} from a run that also
     * records the training's parameters and metrics.
     *
     * @param name registered model name
     * @param modelFile the model file
     * @param sidecar its sidecar, if any
     * @param smoke recorded inputs and expected outputs, if any
     * @param aliases aliases to point at the new version
     * @param training the training's parameters and figures
     * @return the version
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the smoke file is not a valid {@link SmokeSet}
     */
    public Registered register(
            String name,
            Path modelFile,
            Optional<Path> sidecar,
            Optional<Path> smoke,
            List<String> aliases,
            Training training)
            throws IOException {
        Map<String, Path> files = new LinkedHashMap<>();
        files.put(modelFile.getFileName().toString(), modelFile);
        sidecar.ifPresent(s -> files.put(s.getFileName().toString(), s));
        Map<String, String> tags = tagsFor(modelFile, sidecar);
        if (smoke.isPresent()) {
            SmokeSet set = SmokeSet.read(smoke.get());
            files.put(SmokeSet.FILE_NAME, smoke.get());
            tags.putAll(smokeTags(smoke.get(), set));
        }
        if (signer.isPresent()) {
            tags.putAll(signer.get().sign(tags, sidecar));
        }
        Registered r = registerFiles(name, files, tags, training);
        for (String alias : aliases) {
            client.setAlias(name, alias, r.version());
        }
        return r;
    }

    /**
     * The tags that describe a smoke file stored as {@code smoke.json}.
     *
     * @param smoke the file
     * @param set its content
     * @return {@code quiver.smoke}, {@code quiver.smoke_sha256}, {@code quiver.plugin}
     * @throws IOException if it cannot be read
     */
    public static Map<String, String> smokeTags(Path smoke, SmokeSet set) throws IOException {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put(ModelStore.TAG_SMOKE, SmokeSet.FILE_NAME);
        tags.put(ModelStore.TAG_SMOKE_SHA256, ModelStore.sha256(smoke));
        tags.put(ModelStore.TAG_PLUGIN, set.pluginId());
        return tags;
    }

    /**
     * Uploads files as they are and registers them with the given tags, no checks: the low-level
     * step, also used by tests to register damaged versions.
     *
     * @param name registered model name
     * @param files name in the model folder to local file
     * @param tags version tags
     * @return the version
     */
    public Registered registerFiles(
            String name, Map<String, Path> files, Map<String, String> tags) {
        return registerFiles(name, files, tags, Training.NONE);
    }

    private Registered registerFiles(
            String name, Map<String, Path> files, Map<String, String> tags, Training training) {
        ModelUri.parse("models:/" + name + "/1"); // the name must be usable as a folder
        long now = System.currentTimeMillis();
        String experimentId = client.experimentId(EXPERIMENT);
        Map<String, String> runTags = new LinkedHashMap<>();
        boolean trained = training != Training.NONE;
        runTags.put("quiver.kind", trained ? "model-training" : "model-registration");
        runTags.put("mlflow.source.name", "quiver models register");
        String runName = training.runName().isEmpty() ? "register " + name : training.runName();
        MlflowClient.Run run = client.createRun(experimentId, runName, now, runTags);
        boolean ok = false;
        try {
            Map<String, String> params = new LinkedHashMap<>(tags);
            params.put("registered_model", name);
            params.putAll(training.params());
            client.logBatch(run.runId(), params, training.metrics(), now);
            MlflowClient.LoggedModel model =
                    client.createLoggedModel(experimentId, name, run.runId(), tags);
            files.forEach((n, p) -> client.http().upload(model.artifactUri(), n, p));
            client.finalizeLoggedModel(model.modelId());
            client.ensureRegisteredModel(name);
            String version = client.createModelVersion(name, model, run.runId(), tags);
            ok = true;
            return new Registered(name, version, run.runId(), tags);
        } finally {
            client.endRun(run.runId(), ok ? "FINISHED" : "FAILED", System.currentTimeMillis());
        }
    }
}
